// What the page shows lives in the URL query, so a view can be bookmarked
// and shared (the token never goes there): site, view, range or custom
// dates, zone, filters, and each view's own fields.

export const RANGES = ["1h", "24h", "7d", "30d"];
export const VIEWS = ["overview", "funnels", "retention", "live", "user", "settings"];
const DATE = /^\d{4}-\d{2}-\d{2}$/;

export function browserZone() {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

// The zones to choose from: UTC and the browser's first, then every zone the browser knows.
export function zoneNames() {
  const zones = Intl.supportedValuesOf ? Intl.supportedValuesOf("timeZone") : [];
  return [...new Set(["UTC", browserZone(), ...zones])];
}

export function readState(search = location.search) {
  const query = new URLSearchParams(search);
  const from = query.get("from");
  const to = query.get("to");
  const custom = DATE.test(from ?? "") && DATE.test(to ?? "") && from <= to;
  const range = RANGES.includes(query.get("range")) ? query.get("range") : "7d";
  return {
    site: query.get("site") || "",
    view: VIEWS.includes(query.get("view")) ? query.get("view") : "overview",
    range: custom ? null : range,
    from: custom ? from : null,
    to: custom ? to : null,
    tz: query.get("tz") || browserZone(),
    filters: query.getAll("filter").filter((filter) => filter.indexOf(":") > 0),
    steps: query.getAll("step"),
    by: query.get("by") === "visit" ? "visit" : "user",
    within: query.get("within") || "",
    period: query.get("period") === "week" ? "week" : "day",
    identified: query.get("identified") !== "false",
    event: query.get("event") || "",
    user: query.get("user") || "",
  };
}

export function writeState(state, { replace = false } = {}) {
  const query = new URLSearchParams();
  if (state.site) query.set("site", state.site);
  query.set("view", state.view);
  if (state.from) {
    query.set("from", state.from);
    query.set("to", state.to);
  } else {
    query.set("range", state.range);
  }
  query.set("tz", state.tz);
  for (const filter of state.filters) query.append("filter", filter);
  if (state.view === "funnels") {
    for (const step of state.steps) query.append("step", step);
    query.set("by", state.by);
    if (state.within) query.set("within", state.within);
  }
  if (state.view === "retention") {
    query.set("period", state.period);
    if (state.event) query.set("event", state.event);
    if (!state.identified) query.set("identified", "false");
  }
  if (state.view === "user" && state.user) query.set("user", state.user);
  const url = `${location.pathname}?${query}`;
  if (url !== location.pathname + location.search) {
    history[replace ? "replaceState" : "pushState"](null, "", url);
  }
}

// The window parameters every read endpoint takes.
export function windowParameters(state) {
  if (!state.from) return { timeRange: state.range, tz: state.tz };
  return {
    from: zonedMidnight(state.from, state.tz),
    to: zonedMidnight(nextDay(state.to), state.tz),
    tz: state.tz,
  };
}

export function splitFilter(filter) {
  const colon = filter.indexOf(":");
  return [filter.slice(0, colon), filter.slice(colon + 1)];
}

function nextDay(date) {
  const [year, month, dayOfMonth] = date.split("-").map(Number);
  return new Date(Date.UTC(year, month - 1, dayOfMonth + 1)).toISOString().slice(0, 10);
}

// The instant a local date begins on a zone's clock.
export function zonedMidnight(date, zone) {
  const [year, month, dayOfMonth] = date.split("-").map(Number);
  const wall = Date.UTC(year, month - 1, dayOfMonth);
  let instant = wall - offset(wall, zone);
  instant = wall - offset(instant, zone);
  return instant;
}

// How far the zone's clock is ahead of UTC at an instant, in ms.
function offset(instant, zone) {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone: zone, hourCycle: "h23", year: "numeric", month: "numeric", day: "numeric",
    hour: "numeric", minute: "numeric", second: "numeric",
  }).formatToParts(new Date(instant));
  const field = (type) => Number(parts.find((part) => part.type === type).value);
  const wall = Date.UTC(field("year"), field("month") - 1, field("day"),
    field("hour"), field("minute"), field("second"));
  return wall - Math.floor(instant / 1000) * 1000;
}

export function localDate(instant, zone) {
  return new Intl.DateTimeFormat("en-CA", {
    timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit",
  }).format(new Date(instant));
}
