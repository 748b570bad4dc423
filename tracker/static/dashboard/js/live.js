// The live feed: the movements of the page's one GET /live stream
// (live-stream.js) while the view is open, newest first.

import * as stream from "./live-stream.js";
import { $, clear, dateTime, el } from "./dom.js";

const KEEP = 200;

const section = $('[data-view="live"]');
const feed = $("[data-feed]", section);
const status = $("[data-live-status]", section);
let unsubscribe = () => {};

export async function show(page) {
  unsubscribe();
  clear(feed);
  const stopMovements = stream.onMovement((movement) => add(movement, page.state.tz));
  const stopStatus = stream.onStatus((now) => {
    status.textContent = now.text;
  });
  unsubscribe = () => {
    stopMovements();
    stopStatus();
  };
  await stream.opened();
}

export function hide() {
  unsubscribe();
  unsubscribe = () => {};
}

function add(movement, zone) {
  const path = movement.data && typeof movement.data.path === "string" ? movement.data.path : "";
  feed.prepend(el("li", { "data-movement": movement.eventId ?? "" },
    el("time", { datetime: new Date(movement.timestamp).toISOString() }, dateTime(movement.timestamp, zone)),
    el("span", { class: "event" }, movement.event),
    el("span", { class: "label" }, path),
    el("span", { class: "muted user" }, movement.userId)));
  while (feed.children.length > KEEP) feed.lastElementChild.remove();
}
