// Talking to the service. Signed in, the token (kept in sessionStorage, or in
// localStorage when the user asked to be remembered) goes in the
// Authorization header only, never in a URL. Opened through a share link,
// reads go under /share/{token}/ with no token at all: the link's cookie
// (set by its password, if it has one) is all they carry.
//
// Every read carries the site shown (site=ID), so no view can forget it.

const KEY = "tracker.readToken";
const reading = { share: null, site: null };

export class ApiError extends Error {
  constructor(status, code, detail, retryAfter = 0) {
    super(typeof detail === "string" ? detail : `${status} ${code}`);
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
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

// Reads from now on go through this share link's paths.
export function useShare(token) {
  reading.share = token;
}

export function useSite(id) {
  reading.site = id;
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

// A read of the site shown (the share link's, under a share link).
export function read(path, { parameters = {}, ...options } = {}) {
  const scoped = { site: reading.site, ...parameters };
  return send(sharePath(path), { ...options, parameters: scoped });
}

// A read whose path names the site already (GET /sites/{id}/export): no site parameter.
export function readSitePath(path, { parameters = {}, ...options } = {}) {
  return send(path, { ...options, parameters });
}

export async function getJson(path, parameters = {}, signal) {
  const response = await read(path, { parameters, signal });
  return response.json();
}

// The management API and the list of sites: JSON both ways, no site parameter.
export async function manage(path, { method = "GET", body, token } = {}) {
  const json = body === undefined ? {} : { body: JSON.stringify(body), headers: { "Content-Type": "application/json" } };
  const response = await send(path, { method, token, ...json });
  return response.status === 204 ? null : response.json();
}

// Sends a share link's password; the service answers with the link's cookie.
export async function sendSharePassword(password) {
  await send(sharePath("/auth"), {
    method: "POST", body: JSON.stringify({ password }), headers: { "Content-Type": "application/json" },
  });
}

function sharePath(path) {
  return reading.share ? `/share/${encodeURIComponent(reading.share)}${path}` : path;
}

async function send(path, { token = storedToken(), method = "GET", parameters = {}, signal, headers = {}, body } = {}) {
  const search = query(parameters);
  // A share link's page never sends a token, even one this browser keeps.
  const authorization = reading.share ? {} : { Authorization: `Bearer ${token}` };
  const response = await fetch(search ? `${path}?${search}` : path, {
    method, signal, body, headers: { ...headers, ...authorization }, cache: "no-store",
  });
  if (!response.ok) throw await failure(response);
  return response;
}

async function failure(response) {
  let body = {};
  try {
    body = await response.json();
  } catch {
    // Not JSON (a proxy's page): the status says enough.
  }
  const detail = typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail ?? "");
  const retryAfter = Number(response.headers.get("Retry-After")) || 0;
  return new ApiError(response.status, body.error || response.statusText, detail || response.statusText, retryAfter);
}

// Reads a Server-Sent Events answer with fetch, so the token can travel in a
// header (EventSource cannot send one). Calls onEvent({event, id, data}).
export async function readEvents(path, { parameters, signal, lastEventId, onEvent, onOpen }) {
  const headers = lastEventId ? { "Last-Event-ID": lastEventId } : {};
  const response = await read(path, { parameters, signal, headers });
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
