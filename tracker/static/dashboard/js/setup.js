// What the overview of a site without any event shows: the script tag to add
// to its pages, with the site's id; then it looks for the site's first event
// every few seconds, and shows the data once one has arrived.

import { getJson } from "./api.js";
import { clear, el } from "./dom.js";
import { copyField } from "./copy.js";

const DAY_MS = 86400000;
const LONGEST_WINDOW_MS = 400 * DAY_MS; // the longest window one read may ask for
const LOOK_EVERY_MS = 3000;

// Shows the tag in `box` when the window's totals are empty and so is the site's past.
export async function showSetup(box, page, totals, signal) {
  clear(box);
  box.hidden = true;
  if (page.reader.kind === "share" || totals.visits || totals.pageviews) return;
  if (await hasEvents(page, signal)) return;
  const tag = `<script src="${location.origin}/tracker.js" data-site="${page.state.site}" data-anonymous defer></script>`;
  box.append(
    el("h2", {}, "No events have reached this site yet"),
    el("p", {}, "Add this tag to the ", el("code", {}, "<head>"), " of every page of the site:"),
    copyField(tag, "Script tag", { lines: 3 }),
    el("p", { class: "muted" },
      "It counts visitors anonymously, without cookies; for signed-in users put ",
      el("code", {}, 'data-user-id="…"'), " in place of ", el("code", {}, "data-anonymous"),
      ". Pages on another origin need it in TRACKER_ALLOWED_ORIGINS, when that is set."),
    el("p", { class: "waiting", role: "status", "data-waiting": true }, "Waiting for the first event…"));
  box.hidden = false;
  waitForFirst(page, signal); // not awaited: the overview is ready while this waits
}

async function hasEvents(page, signal) {
  const to = Date.now();
  const past = await getJson("/stats", { from: to - LONGEST_WINDOW_MS, to, tz: page.state.tz }, signal);
  return past.totals.visits > 0 || past.totals.pageviews > 0;
}

// Until the overview is drawn again (which aborts `signal`), or an event arrives: then the
// overview is drawn again, showing it.
async function waitForFirst(page, signal) {
  while (!signal.aborted) {
    await new Promise((resolve) => setTimeout(resolve, LOOK_EVERY_MS));
    if (signal.aborted) return;
    try {
      if (await hasEvents(page, signal)) {
        page.update({}, { replace: true });
        return;
      }
    } catch (error) {
      if (error.name === "AbortError" || page.failed(error)) return;
    }
  }
}
