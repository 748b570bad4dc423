/* userTracker: the browser client of the tracker service. */
(() => {
  "use strict";
  if (window.userTracker) return;

  const QUEUE_KEY = "userTracker.queue";
  const SESSION_KEY = "userTracker.session";
  const MAX_AGE = 29 * 864e5; // the service refuses events over 30 days old
  const BATCH_BYTES = 512e3; // well under the service's 1 MiB body limit
  const BEACON_BYTES = 6e4; // beacons in flight share a 64 KiB budget
  const UTM = ["source", "medium", "campaign", "term", "content"];
  const CLICK_IDS = ["gclid", "gbraid", "wbraid", "msclkid"]; // ad clicks: only their presence is sent
  const DECIMAL = /^-?\d+(\.\d+)?$/; // a revenue amount given as text: exact, never a float
  const CURRENCY = /^[A-Z]{3}$/;
  const SITE_ID = /^[a-z0-9][a-z0-9.-]{0,63}$/; // as the service's site ids
  const DEFAULTS = {
    sessionTimeout: 1800, // seconds, like TRACKER_SESSION_TTL_SECONDS
    batchSize: 20,
    flushInterval: 2000,
    maxQueue: 1000,
    retryDelay: 1000,
    maxRetryDelay: 60000,
    respectDnt: false,
    pageViews: true,
    debug: false,
  };

  const script = document.currentScript;
  const scriptOrigin = script?.src ? new URL(script.src).origin : "";

  let cfg = null; // null until initialize: nothing is tracked
  let started = false;
  let userId = ""; // null when anonymous: then nothing is kept in the browser
  let queue = [];
  let memorySession = null;
  let unannounced = null; // the session still to be sent with POST /session
  let sending = null;
  let batchTimer = 0;
  let retryTimer = 0;
  let failures = 0; // in a row: while above 0 the service looks unreachable
  let viewed = ""; // path and query of the last page view
  let lastUrl = "";

  const bytes = (text) => new Blob([text]).size;
  const trimSlash = (url) => String(url).replace(/\/+$/, "");
  const address = () => location.pathname + location.search;
  const retryable = (status) => !status || status === 429 || status >= 500;
  const badText = (s, max) =>
    typeof s !== "string" || !s || [...s].length > max || /[\0-\x1f\x7f-\x9f]/.test(s);

  function read(key) {
    if (userId === null) return null;
    try {
      return JSON.parse(localStorage.getItem(key));
    } catch {
      return null;
    }
  }

  function write(key, value) {
    if (userId === null) return;
    try {
      localStorage.setItem(key, JSON.stringify(value));
    } catch {
      // storage full or blocked: the in-memory queue still works
    }
  }

  function uuid() {
    if (crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 15) | 64;
    b[8] = (b[8] & 63) | 128;
    const hex = Array.from(b, (x) => (x | 256).toString(16).slice(1)).join("");
    return hex.replace(/(.{8})(.{4})(.{4})(.{4})/, "$1-$2-$3-$4-");
  }

  function sessionId() {
    const now = Date.now();
    let s = read(SESSION_KEY) || memorySession;
    if (!s || s.userId !== userId || now - s.last > cfg.sessionTimeout * 1000) {
      s = { userId, id: uuid(), announced: false };
    }
    s.last = now;
    write(SESSION_KEY, (memorySession = s));
    if (!s.announced && (!unannounced || unannounced.id !== s.id)) unannounced = s;
    return s.id;
  }

  function markAnnounced(s) {
    const current = read(SESSION_KEY) || memorySession;
    if (current && current.id === s.id) {
      current.announced = true;
      write(SESSION_KEY, (memorySession = current));
    }
    if (unannounced === s) unannounced = null;
  }

  const deviceInfo = () => ({
    screen: { width: screen.width, height: screen.height },
    language: navigator.language,
    timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone,
    userAgent: navigator.userAgent,
  });

  const stored = () => {
    const q = read(QUEUE_KEY);
    return Array.isArray(q) ? q : [];
  };

  function remember(event) {
    write(QUEUE_KEY, stored().concat(event).slice(-cfg.maxQueue));
  }

  function forget(events) {
    const ids = new Set(events.map((e) => e.eventId));
    const keep = (e) => !ids.has(e.eventId);
    queue = queue.filter(keep);
    write(QUEUE_KEY, stored().filter(keep));
  }

  function adoptStored() {
    const cutoff = Date.now() - MAX_AGE;
    queue = stored()
      .filter((e) => e && e.timestamp > cutoff)
      .slice(-cfg.maxQueue);
    return queue.length;
  }

  function chunk(events, maxBytes) {
    const batches = [];
    let batch = [];
    let size = 0;
    for (const e of events) {
      const n = bytes(JSON.stringify(e)) + 1;
      if (batch.length && (size + n > maxBytes || batch.length >= 500)) {
        batches.push(batch);
        batch = [];
        size = 0;
      }
      batch.push(e);
      size += n;
    }
    if (batch.length) batches.push(batch);
    return batches;
  }

  function problem(event, data) {
    if (badText(event, 64)) return "event must be 1 to 64 characters";
    if (data == null) return "";
    if (typeof data !== "object" || Array.isArray(data)) return "data must be an object";
    try {
      return bytes(JSON.stringify(data)) > 16384 ? "data must be at most 16 KiB" : "";
    } catch {
      return "data must be JSON";
    }
  }

  function revenueProblem(revenue) {
    if (revenue == null) return "";
    const { amount, currency } = revenue;
    const decimal = typeof amount === "number" ? Number.isFinite(amount) : DECIMAL.test(amount);
    if (!decimal) return "revenue.amount must be a finite number or a decimal string such as \"19.90\"";
    return CURRENCY.test(currency) ? "" : "revenue.currency must be an ISO 4217 code in capitals, such as EUR";
  }

  function track(event, data, options) {
    if (!cfg) return;
    const revenue = options?.revenue;
    const why = problem(event, data) || revenueProblem(revenue);
    if (why) return console.warn("userTracker: ignored event:", why);
    const e = { event, timestamp: Date.now(), eventId: uuid() };
    if (cfg.site) e.site = cfg.site;
    if (userId !== null) Object.assign(e, { userId, sessionId: sessionId() });
    if (data != null) e.data = JSON.parse(JSON.stringify(data)); // a copy: the page may change data later
    if (revenue != null) e.revenue = { amount: revenue.amount, currency: revenue.currency };
    queue.push(e);
    if (queue.length > cfg.maxQueue) queue.shift();
    remember(e);
    schedule();
  }

  function utm() {
    const query = new URLSearchParams(location.search);
    const tags = UTM.map((key) => [key, query.get(`utm_${key}`)]).filter(([, value]) => value);
    return tags.length ? Object.fromEntries(tags) : null;
  }

  function withoutClickIds(href) {
    // the next view's referrer: a click id's value is never sent
    const url = new URL(href);
    if (!CLICK_IDS.some((key) => url.searchParams.has(key))) return href;
    CLICK_IDS.forEach((key) => url.searchParams.delete(key));
    return url.href;
  }

  function clickIds() {
    const query = new URLSearchParams(location.search);
    const present = CLICK_IDS.filter((key) => query.get(key));
    return present.length ? Object.fromEntries(present.map((key) => [key, true])) : null;
  }

  function trackPageView(path) {
    const data = {
      path: path || location.pathname,
      title: document.title,
      referrer: lastUrl || document.referrer, // the service ignores same-host referrers
      host: location.host,
    };
    const tags = utm();
    if (tags) data.utm = tags;
    const clicks = clickIds();
    if (clicks) data.clickId = clicks;
    if (cfg) [viewed, lastUrl] = [address(), withoutClickIds(location.href)];
    track("page_view", data);
  }

  function schedule() {
    if (retryTimer) return; // the retry will send it all
    if (unannounced || queue.length >= cfg.batchSize) send();
    else if (!batchTimer) batchTimer = setTimeout(send, cfg.flushInterval);
  }

  function send() {
    clearTimeout(batchTimer);
    batchTimer = 0;
    sending ||= drain()
      .catch(() => false)
      .finally(() => {
        sending = null;
        if (queue.length && cfg) schedule();
      });
    return sending;
  }

  async function drain() {
    let acknowledged = true;
    while (cfg && (unannounced || queue.length)) {
      const r = await (unannounced ? announce(unannounced) : deliver());
      if (retryable(r.status)) {
        backoff(r.retryAfter);
        return acknowledged && !queue.length;
      }
      failures = 0;
      acknowledged &&= r.status < 300;
    }
    return acknowledged;
  }

  async function announce(s) {
    const body = { userId: s.userId, sessionId: s.id, deviceInfo: deviceInfo() };
    if (cfg.site) body.site = cfg.site;
    const r = await post("/session", "application/json", body);
    if (!retryable(r.status)) markAnnounced(s);
    return r;
  }

  async function deliver() {
    const batch = chunk(queue, BATCH_BYTES)[0];
    const r = await post("/track", "text/plain", { events: batch });
    if (!retryable(r.status)) forget(batch);
    return r;
  }

  const postTo = (path, init) => fetch(cfg.endpoint + path, { method: "POST", credentials: "omit", ...init });

  async function post(path, type, body) {
    try {
      const res = await postTo(path, { headers: { "Content-Type": type }, body: JSON.stringify(body) });
      if (!res.ok && !retryable(res.status) && cfg.debug) {
        console.warn(`userTracker: ${path} refused, dropped:`, res.status, await res.text());
      }
      return { status: res.status, retryAfter: Number(res.headers.get("Retry-After")) || 0 };
    } catch {
      return { status: 0, retryAfter: 0 };
    }
  }

  function backoff(retryAfter) {
    const ceiling = Math.min(cfg.maxRetryDelay, cfg.retryDelay * 2 ** failures++);
    const wait = Math.max(retryAfter * 1000, ceiling / 2 + (Math.random() * ceiling) / 2);
    retryTimer = setTimeout(retryNow, wait);
  }

  function retryNow() {
    if (!retryTimer) return;
    clearTimeout(retryTimer);
    retryTimer = 0;
    send();
  }

  function flush() {
    if (!cfg || retryTimer) return Promise.resolve(!queue.length);
    return send();
  }

  function hide() {
    if (!cfg || !queue.length) return;
    clearTimeout(batchTimer);
    batchTimer = 0;
    // A beacon's fate is unknown: if the service looked unreachable, keep its events stored
    // for the next page too; their eventIds make a repeat harmless.
    const trusted = navigator.onLine && !failures;
    for (const batch of chunk(queue, BEACON_BYTES)) {
      const body = JSON.stringify({ events: batch });
      if (navigator.sendBeacon?.(cfg.endpoint + "/track", body)) {
        if (trusted) forget(batch);
      } else {
        postTo("/track", { body, keepalive: true }).catch(() => {});
      }
    }
  }

  function navigated(pathOnly) {
    if (!cfg?.pageViews) return;
    const was = pathOnly ? viewed.split("?")[0] : viewed;
    if ((pathOnly ? location.pathname : address()) !== was) trackPageView();
  }

  function wrapHistory(name, pathOnly) {
    const original = history[name];
    history[name] = function (...args) {
      const result = original.apply(this, args);
      navigated(pathOnly);
      return result;
    };
  }

  function listen() {
    addEventListener("pagehide", hide);
    document.addEventListener("visibilitychange", () => document.visibilityState === "hidden" && hide());
    addEventListener("online", retryNow);
    addEventListener("popstate", () => navigated(false));
    wrapHistory("pushState", false);
    wrapHistory("replaceState", true);
  }

  function initialize(id, options = {}) {
    if (id !== null && badText(id, 128)) {
      throw new TypeError("userTracker: userId must be null or 1 to 128 characters");
    }
    if (options.site != null && !SITE_ID.test(options.site)) {
      throw new TypeError("userTracker: site must be a site id such as example.com");
    }
    const c = { ...DEFAULTS, ...options };
    c.endpoint = trimSlash(c.endpoint || scriptOrigin);
    if (!c.endpoint) throw new TypeError("userTracker: no endpoint");
    const optedOut = navigator.doNotTrack === "1" || navigator.globalPrivacyControl === true;
    cfg = c.respectDnt && optedOut ? null : c;
    if (!cfg) {
      if (c.debug) console.warn("userTracker: Do Not Track is on, nothing is tracked");
      return false;
    }
    const first = !started;
    started = true;
    userId = id;
    if (first) listen();
    const backlog = first && id !== null ? adoptStored() : 0; // what earlier pages could not send
    if (cfg.pageViews) trackPageView();
    if (backlog) send();
    return true;
  }

  async function getAnalytics(timeRange = "24h", { token, endpoint, ...filters } = {}) {
    const base = trimSlash(endpoint || cfg?.endpoint || scriptOrigin);
    const params = Object.entries({ timeRange, site: cfg?.site, ...filters }).filter(([, v]) => v != null);
    const res = await fetch(`${base}/analytics?${new URLSearchParams(params)}`, {
      headers: token ? { Authorization: `Bearer ${token}` } : {},
      credentials: "omit",
    });
    const body = await res.json().catch(() => null);
    if (res.ok) return body;
    throw Object.assign(new Error(`userTracker: analytics answered ${res.status}`), {
      status: res.status,
      body,
    });
  }

  window.userTracker = { initialize, trackPageView, track, flush, getAnalytics };

  // data-session-timeout="60" gives {sessionTimeout: 60}, a bare data-debug {debug: true};
  // data-site stays text, since a site id may be all digits
  const attribute = (v) => (v === "" || v === "true" ? true : v === "false" ? false : isNaN(v) ? v : +v);
  const { userId: id, anonymous, site, ...rest } = script?.dataset || {};
  if (id || anonymous !== undefined) {
    const options = { endpoint: scriptOrigin, site };
    for (const [key, value] of Object.entries(rest)) options[key] = attribute(value);
    initialize(id || null, options);
  }
})();
