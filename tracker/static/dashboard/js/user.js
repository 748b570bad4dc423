// A user's page: their analytics for the range, their sessions and
// movements (paged, newest first), an export download, and erasure behind a
// confirmation that asks for the user id again.

import { Superseding, getJson, read } from "./api.js";
import { $, clear, count, dateTime, el } from "./dom.js";
import { confirmTyped } from "./confirm.js";
import { windowParameters } from "./state.js";

const PAGE_SIZE = 50;
const ERASURE_POLL_MS = 2000;

const section = $('[data-view="user"]');
const form = $("[data-user-form]", section);
const box = $("[data-user]", section);
const requests = new Superseding();
let page = null;

form.addEventListener("submit", (event) => {
  event.preventDefault();
  page.update({ user: form.userId.value.trim() });
});

export async function show(current) {
  page = current;
  const signal = requests.next();
  const userId = page.state.user;
  form.userId.value = userId;
  if (!userId) {
    clear(box, el("p", { class: "muted" }, "Search a user id to see their analytics, sessions and movements."));
    return;
  }
  const [analytics, movements] = await Promise.all([
    getJson("/analytics", { ...windowParameters(page.state), userId }, signal),
    getJson("/movements", { userId, limit: PAGE_SIZE }, signal),
  ]);
  const sessions = el("tbody");
  const list = el("tbody");
  const seen = new Map();
  clear(box,
    summary(analytics),
    actions(userId),
    el("h3", {}, "Sessions among the movements below"),
    el("div", { class: "table-scroll" }, el("table", {},
      el("thead", {}, el("tr", {}, ["Session", "First", "Last", "Movements"].map((name) => el("th", { scope: "col" }, name)))),
      sessions)),
    el("h3", {}, "Movements, newest first"),
    el("div", { class: "table-scroll" }, el("table", { "data-movements": true },
      el("thead", {}, el("tr", {}, ["Time", "Event", "Path", "Session"].map((name) => el("th", { scope: "col" }, name)))),
      list)));
  const more = el("button", { type: "button" }, "Load more");
  box.append(more);
  if (!movements.movements.length) {
    box.append(el("p", { class: "muted" }, "No stored movements for this user id."));
  }
  const append = (answer) => {
    addMovements(list, answer.movements);
    addSessions(seen, answer.movements);
    drawSessions(sessions, seen);
    more.hidden = !answer.nextCursor;
    more.onclick = async () => {
      more.disabled = true;
      append(await getJson("/movements", { userId, limit: PAGE_SIZE, cursor: answer.nextCursor }));
      more.disabled = false;
    };
  };
  append(movements);
}

export function hide() {
  requests.cancel();
}

function summary(analytics) {
  const totals = analytics.totals;
  const item = (label, value) => el("div", { class: "total" }, el("h2", {}, label), el("p", { class: "value" }, count(value)));
  return el("div", { class: "totals" },
    item("Movements", totals.movements), item("Page views", totals.pageViews), item("Sessions", totals.sessions),
    el("div", { class: "total wide" }, el("h2", {}, "Events"),
      el("p", {}, analytics.events.map((row) => `${row.event} ${row.count}`).join(" · ") || "none in this range")));
}

function addMovements(list, movements) {
  const zone = page.state.tz;
  list.append(...movements.map((movement) => el("tr", {},
    el("td", {}, dateTime(movement.timestamp, zone)),
    el("td", {}, movement.event),
    el("td", { class: "label" }, typeof movement.data?.path === "string" ? movement.data.path : ""),
    el("td", { class: "muted" }, movement.sessionId))));
}

function addSessions(seen, movements) {
  for (const movement of movements) {
    const session = seen.get(movement.sessionId) ?? { first: movement.timestamp, last: movement.timestamp, count: 0 };
    session.first = Math.min(session.first, movement.timestamp);
    session.last = Math.max(session.last, movement.timestamp);
    session.count += 1;
    seen.set(movement.sessionId, session);
  }
}

function drawSessions(body, seen) {
  const zone = page.state.tz;
  clear(body, ...[...seen].map(([id, session]) => el("tr", {},
    el("td", { class: "label" }, id), el("td", {}, dateTime(session.first, zone)),
    el("td", {}, dateTime(session.last, zone)), el("td", { class: "num" }, session.count))));
}

function actions(userId) {
  const message = el("p", { role: "status" });
  const exportButton = el("button", { type: "button" }, "Export (NDJSON)");
  exportButton.onclick = () => reporting(message, async () => {
    const response = await read(`/users/${encodeURIComponent(userId)}/export`);
    const link = el("a", { href: URL.createObjectURL(await response.blob()), download: `${userId}.ndjson` });
    link.click();
    URL.revokeObjectURL(link.href);
  });
  const eraseButton = el("button", { type: "button", class: "danger" }, "Erase this user…");
  eraseButton.onclick = () => confirmErase(userId, message);
  return el("div", { class: "row" }, exportButton, eraseButton, message);
}

async function confirmErase(userId, message) {
  const confirmed = await confirmTyped({
    text: `Erase every session, movement and rollup count of ${userId}? This cannot be undone.`,
    label: "Type the user id to confirm", expected: userId, action: "Erase",
  });
  if (!confirmed) return;
  message.textContent = "Erasing…";
  reporting(message, async () => {
    const response = await read(`/users/${encodeURIComponent(userId)}`, { method: "DELETE" });
    await report(userId, await response.json(), message);
  });
}

// Runs an action of a button, showing its failure beside it rather than losing it.
async function reporting(message, action) {
  try {
    await action();
  } catch (error) {
    if (!page.failed(error)) message.textContent = `Failed: ${error.message}`;
  }
}

async function report(userId, answer, message) {
  while (answer.status === "running") {
    message.textContent = "Erasure running in the background…";
    await new Promise((resolve) => setTimeout(resolve, ERASURE_POLL_MS));
    answer = await getJson(`/users/${encodeURIComponent(userId)}/erasure`);
  }
  const counts = Object.entries(answer).filter(([, value]) => typeof value === "number")
    .map(([name, value]) => `${name} ${value}`).join(", ");
  message.textContent = `Erased: ${counts}.`;
}
