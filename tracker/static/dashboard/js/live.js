// The live feed: GET /live read as a stream while the view is open, newest
// movement first. A dropped stream reconnects from the last id it saw.

import { Superseding, readEvents } from "./api.js";
import { $, clear, dateTime, el } from "./dom.js";

const KEEP = 200;
const RETRY_MS = 3000;

const section = $('[data-view="live"]');
const feed = $("[data-feed]", section);
const status = $("[data-live-status]", section);
const requests = new Superseding();
let lastId = null;

export function show(page) {
  const signal = requests.next();
  clear(feed);
  lastId = null;
  return new Promise((resolve) => {
    follow(page, signal, resolve);
  });
}

export function hide() {
  requests.cancel();
}

async function follow(page, signal, opened) {
  while (!signal.aborted) {
    try {
      await readEvents("/live", {
        signal,
        lastEventId: lastId,
        onOpen: () => {
          status.textContent = "Connected: new movements appear at the top as they are stored.";
          opened();
        },
        onEvent: (message) => {
          if (message.event !== "movement") return;
          lastId = message.id;
          add(JSON.parse(message.data), page.state.tz);
        },
      });
      status.textContent = "The stream ended; reconnecting…";
    } catch (error) {
      if (signal.aborted) return;
      if (page.failed(error)) return;
      status.textContent = `Disconnected (${error.message}); reconnecting…`;
      opened();
    }
    await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
  }
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
