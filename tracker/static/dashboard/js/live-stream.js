// One GET /live stream for the page while a reader who may follow it (the
// admin or a site key) is signed in, for the site shown: the live feed view
// draws its movements, and the header's live count is asked again on each,
// so neither waits for a timer. A dropped stream reconnects from the last id
// it saw.

import { readEvents } from "./api.js";

const RETRY_MS = 3000;

const movementListeners = new Set();
const statusListeners = new Set();
let controller = null;
let status = { open: false, text: "Connecting…" };
let openers = []; // resolvers waiting for the stream to open (or to fail once)

// Follows the stream of the site reads carry now; `failed(error)` is the page's handler,
// true when the failure was the page's to handle (a refused token), which ends the stream.
export function start(failed) {
  stop();
  controller = new AbortController();
  follow(controller.signal, failed);
}

export function stop() {
  controller?.abort();
  controller = null;
  setStatus(false, "Connecting…");
}

export function onMovement(listener) {
  movementListeners.add(listener);
  return () => movementListeners.delete(listener);
}

export function onStatus(listener) {
  statusListeners.add(listener);
  listener(status);
  return () => statusListeners.delete(listener);
}

// Resolves once the stream is open, or has failed once: a view can say "ready" either way.
export function opened() {
  if (status.open || !controller) return Promise.resolve();
  return new Promise((resolve) => openers.push(resolve));
}

async function follow(signal, failed) {
  let lastId = null;
  while (!signal.aborted) {
    try {
      await readEvents("/live", {
        signal,
        lastEventId: lastId,
        onOpen: () => setStatus(true, "Connected: new movements appear at the top as they are stored."),
        onEvent: (message) => {
          if (message.event !== "movement") return;
          lastId = message.id;
          const movement = JSON.parse(message.data);
          for (const listener of movementListeners) listener(movement);
        },
      });
      setStatus(false, "The stream ended; reconnecting…");
    } catch (error) {
      if (signal.aborted || failed(error)) return;
      setStatus(false, `Disconnected (${error.message}); reconnecting…`);
    }
    await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
  }
}

function setStatus(open, text) {
  status = { open, text };
  for (const listener of statusListeners) listener(status);
  if (open || text !== "Connecting…") {
    for (const resolve of openers) resolve();
    openers = [];
  }
}
