// The header's live count (GET /live/visitors: visitors with a movement in
// the last 5 minutes) of the site shown. It is asked again a moment after
// each movement of the live stream, so it moves with the live feed, and on a
// slow timer too, for visitors who leave (and for a share link's page, which
// may not follow the stream).

import { getJson } from "./api.js";
import * as stream from "./live-stream.js";
import { $ } from "./dom.js";

const EVERY_MS = 30000;
const AFTER_MOVEMENT_MS = 300; // a burst of movements asks once

const metric = $("[data-metric=liveVisitors]");
let timer = null;
let soon = null;
let site = null;
let failed = () => false;
let unsubscribe = () => {};

// Counts for `shownSite` from now on; `followsStream` when the reader may follow /live.
export function start(shownSite, followsStream, page) {
  stop();
  site = shownSite;
  failed = (error) => page.failed(error);
  delete metric.dataset.raw;
  metric.textContent = "–";
  if (followsStream) {
    unsubscribe = stream.onMovement(askSoon);
    stream.start(failed);
  }
  refresh();
  timer = setInterval(refresh, EVERY_MS);
}

export function stop() {
  clearInterval(timer);
  clearTimeout(soon);
  soon = null;
  unsubscribe();
  unsubscribe = () => {};
  stream.stop();
  site = null;
}

function askSoon() {
  soon ??= setTimeout(() => {
    soon = null;
    refresh();
  }, AFTER_MOVEMENT_MS);
}

async function refresh() {
  const asked = site;
  try {
    const answer = await getJson("/live/visitors");
    if (asked !== site) return; // another site was chosen meanwhile, or the reader left
    metric.dataset.raw = answer.visitors;
    metric.textContent = answer.visitors;
  } catch (error) {
    if (asked === site) failed(error);
  }
}
