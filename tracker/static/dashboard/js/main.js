// The dashboard's frame: who reads (the admin token, a site key or a share
// link), the site picker, the range, zone and filter controls shared by every
// view, and switching views. body[data-state] says where it is: "signin"
// (or a share link's "password", "gone" or "error"), "loading", then "ready"
// once every panel of the view has its answer (scripts and tests wait for it).

import { ApiError, useSite } from "./api.js";
import { $, $$, clear, el } from "./dom.js";
import { RANGES, localDate, readState, splitFilter, writeState, zoneNames } from "./state.js";
import * as signin from "./signin.js";
import * as share from "./share.js";
import * as sites from "./sites.js";
import * as overview from "./overview.js";
import * as funnels from "./funnels.js";
import * as retention from "./retention.js";
import * as live from "./live.js";
import * as user from "./user.js";
import * as settings from "./settings.js";
import * as liveCount from "./live-count.js";

const VIEWS = { overview, funnels, retention, live, user, settings };
// What each reader may open: a key reads its own site's users and feed too; a share link,
// aggregates alone; only the admin manages.
const OPEN_TO = {
  admin: ["overview", "funnels", "retention", "live", "user", "settings"],
  key: ["overview", "funnels", "retention", "live", "user"],
  share: ["overview", "funnels", "retention"],
};
const HOUR_MS = 3600000;
const RANGE_MS = { "1h": HOUR_MS, "24h": 24 * HOUR_MS, "7d": 7 * 24 * HOUR_MS, "30d": 30 * 24 * HOUR_MS };
const FILTERED_VIEWS = new Set(["overview", "funnels"]);
const FRAME = "[data-views], [data-live-now], [data-site-picker], [data-site-name], [data-sign-out], [data-controls], [data-chips], [data-error], main > section";

const shared = share.tokenIn(location.pathname); // the share link's token, on its page
let state = readState();
let reader = null; // {kind: "admin" | "key" | "share", sites: [GET /sites rows]}
let current = null;
let generation = 0;
let liveSite = null; // the site the live count and stream are of

const page = {
  get state() {
    return state;
  },
  get reader() {
    return reader;
  },
  // A change of what is shown: goes into the URL, then the view redraws.
  update(changes, { replace = false } = {}) {
    state = { ...state, ...changes };
    writeState(state, { replace });
    render();
  },
  addFilter(dimension, value) {
    const filter = `${dimension}:${value}`;
    if (!state.filters.includes(filter)) page.update({ filters: [...state.filters, filter] });
  },
  // After a site was added, changed or deleted: the picker and page.reader.sites anew.
  async refreshSites() {
    page.setSites(await sites.listed());
    return reader.sites;
  },
  setSites(list) {
    reader = { ...reader, sites: list };
    showPicker();
  },
  // Handles what a failed request means for the whole page; true when it did.
  failed(error) {
    if (!(error instanceof ApiError)) return false;
    if (shared) return share.failed(error);
    if (error.status === 401) {
      signin.signOut("The service refused the read token (401). Enter it again.");
      return true;
    }
    return false;
  },
};

const frame = { close: closeFrame, enter };

function start() {
  const zones = zoneNames().map((name) => el("option", { value: name }, name));
  $("[data-zone]").append(...zones);
  wireControls();
  window.addEventListener("popstate", () => {
    state = readState();
    if (reader) render();
  });
  if (shared) share.open(shared, frame);
  else signin.start(frame);
}

// Everything of the dashboard hidden (before a sign-in, a share's password, or a gone link).
function closeFrame() {
  current?.hide?.();
  current = null;
  reader = null;
  liveSite = null;
  liveCount.stop();
  for (const element of $$(FRAME)) element.hidden = true;
}

// Shows the dashboard to a reader: {kind, sites}.
function enter(found) {
  reader = found;
  const readable = reader.sites.filter(sites.isLive);
  if (reader.kind === "share" || !state.site) state = { ...state, site: readable[0]?.id ?? "" };
  for (const link of $$("[data-view-link]")) link.hidden = !OPEN_TO[reader.kind].includes(link.dataset.viewLink);
  for (const element of $$("[data-views], [data-live-now], [data-controls]")) element.hidden = false;
  $("[data-sign-out]").hidden = reader.kind === "share";
  const name = $("[data-site-name]");
  name.hidden = reader.kind !== "share";
  name.textContent = reader.kind === "share" ? readable[0]?.name ?? "" : "";
  showPicker();
  writeState(state, { replace: true });
  render();
}

function showPicker() {
  if (reader.kind === "share") return;
  sites.showPicker(reader.sites, state.site);
}

async function render() {
  const mine = ++generation;
  if (!OPEN_TO[reader.kind].includes(state.view)) state = { ...state, view: "overview" };
  if (shared) state = { ...state, site: reader.sites[0].id }; // a link reads its own site alone
  useSite(state.site);
  if (state.site !== liveSite) {
    liveSite = state.site;
    // A share link reads aggregates alone: its count is polled, with no stream of movements.
    liveCount.start(state.site, reader.kind !== "share", page);
  }
  const view = VIEWS[state.view];
  if (current && current !== view) current.hide?.();
  current = view;
  for (const section of $$("main > section")) section.hidden = section.dataset.view !== state.view;
  showControls();
  $("[data-error]").hidden = true;
  document.body.dataset.state = "loading";
  try {
    await view.show(page);
  } catch (error) {
    if (error.name === "AbortError" || page.failed(error)) return;
    if (mine === generation) showError(error);
  }
  if (mine === generation && document.body.dataset.state === "loading") {
    document.body.dataset.state = "ready";
  }
}

function showError(error) {
  const banner = $("[data-error]");
  banner.textContent = error.message;
  banner.hidden = false;
}

function showControls() {
  for (const link of $$("[data-view-link]")) {
    const here = link.dataset.viewLink === state.view;
    if (here) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  if (reader.kind !== "share") sites.choose(state.site);
  for (const button of $$("[data-range]")) {
    button.setAttribute("aria-pressed", String(!state.from && button.dataset.range === state.range));
  }
  // Live movements and settings have no window, and only the overview and funnels take filters.
  const windowed = state.view !== "live" && state.view !== "settings";
  $(".ranges").hidden = !windowed;
  $("[data-custom-range]").hidden = !windowed;
  $("[data-chips]").hidden = !FILTERED_VIEWS.has(state.view);
  const custom = $("[data-custom-range]");
  custom.from.value = state.from ?? localDate(Date.now() - RANGE_MS[state.range], state.tz);
  custom.to.value = state.to ?? localDate(Date.now(), state.tz);
  const zone = $("[data-zone]");
  if (![...zone.options].some((option) => option.value === state.tz)) zone.append(el("option", {}, state.tz));
  zone.value = state.tz;
  showChips();
}

function showChips() {
  const chips = state.filters.map((filter) => {
    const [dimension, value] = splitFilter(filter);
    return el("button", {
      type: "button", class: "chip", "data-filter": filter, "aria-label": `Remove filter ${dimension} is ${value}`,
      onclick: () => page.update({ filters: state.filters.filter((one) => one !== filter) }),
    }, el("span", { class: "muted" }, `${dimension} `), value, el("span", { "aria-hidden": "true" }, " ×"));
  });
  clear($("[data-chips]"), ...chips);
}

function wireControls() {
  for (const button of $$("[data-range]")) {
    button.addEventListener("click", () => page.update({ range: button.dataset.range, from: null, to: null }));
  }
  $("[data-custom-range]").addEventListener("submit", (event) => {
    event.preventDefault();
    const { from, to } = event.target;
    if (from.value > to.value) [from.value, to.value] = [to.value, from.value];
    page.update({ from: from.value, to: to.value, range: RANGES[2] });
  });
  $("[data-zone]").addEventListener("change", (event) => page.update({ tz: event.target.value }));
  // Another site's filters and user mean nothing here: they go with the switch.
  sites.onPick((id) => page.update({ site: id, filters: [], user: "" }));
  for (const link of $$("[data-view-link]")) {
    link.addEventListener("click", (event) => {
      event.preventDefault();
      page.update({ view: link.dataset.viewLink });
    });
  }
}

start();
