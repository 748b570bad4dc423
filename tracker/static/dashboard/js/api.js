// Talking to the service: the read token (kept in sessionStorage, or in
// localStorage when the user asked to be remembered) goes in the
// Authorization header only, never in a URL.

const KEY = "tracker.readToken";

export class ApiError extends Error {
  constructor(status, code, detail) {
    super(typeof detail === "string" ? detail : `${status} ${code}`);
    this.status = status;
    this.code = code;
  }
}

export function storedToken() {
  return sessionStorage.getItem(KEY) || localStorage.getItem(KEY);
}

export function keepToken(token, remember) {
  forgetToken();
  (remember ? localStorage : sessionStorage).setItem(KEY, token);
}

export function forgetToken() {
  sessionStorage.removeItem(KEY);
  localStorage.removeItem(KEY);
}

// Query parameters from an object; an array value repeats its parameter.
export function query(parameters) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(parameters)) {
    for (const one of [value].flat()) {
      if (one !== null && one !== undefined && one !== "") search.append(name, one);
    }
  }
  return search.toString();
}

// A view's requests, one show at a time: starting the next aborts the one it
// supersedes, so that a slow earlier answer is never drawn over a newer one.
export class Superseding {
  #controller = null;

  next() {
    this.#controller?.abort();
    this.#controller = new AbortController();
    return this.#controller.signal;
  }

  cancel() {
    this.#controller?.abort();
    this.#controller = null;
  }
}

export async function request(path, { token = storedToken(), method = "GET", parameters = {}, signal, headers = {} } = {}) {
  const search = query(parameters);
  const response = await fetch(search ? `${path}?${search}` : path, {
    method, signal, headers: { ...headers, Authorization: `Bearer ${token}` }, cache: "no-store",
  });
  if (!response.ok) throw await failure(response);
  return response;
}

export async function getJson(path, parameters = {}, signal) {
  const response = await request(path, { parameters, signal });
  return response.json();
}

async function failure(response) {
  let body = {};
  try {
    body = await response.json();
  } catch {
    // Not JSON (a proxy's page): the status says enough.
  }
  const detail = typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail ?? "");
  return new ApiError(response.status, body.error || response.statusText, detail || response.statusText);
}

// Reads a Server-Sent Events answer with fetch, so the token can travel in a
// header (EventSource cannot send one). Calls onEvent({event, id, data}).
export async function readEvents(path, { parameters, signal, lastEventId, onEvent, onOpen }) {
  const headers = lastEventId ? { "Last-Event-ID": lastEventId } : {};
  const response = await request(path, { parameters, signal, headers });
  onOpen?.();
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffered += value;
    let end;
    while ((end = buffered.indexOf("\n\n")) >= 0) {
      const block = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      const message = parseEvent(block);
      if (message) onEvent(message);
    }
  }
}

function parseEvent(block) {
  const message = { event: "message", id: null, data: [] };
  for (const line of block.split("\n")) {
    if (!line || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "data") message.data.push(value);
    else if (field === "event") message.event = value;
    else if (field === "id") message.id = value;
  }
  if (!message.data.length) return null;
  return { ...message, data: message.data.join("\n") };
}
