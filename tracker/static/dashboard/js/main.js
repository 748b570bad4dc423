// The dashboard's frame: sign-in, the range, zone and filter controls shared
// by every view, and switching views. body[data-state] says where it is:
// "signin", "loading", then "ready" once every panel of the view has its
// answer (scripts and tests wait for it).

import { ApiError, forgetToken, getJson, keepToken, request, storedToken } from "./api.js";
import { $, $$, clear, el } from "./dom.js";
import { RANGES, browserZone, localDate, readState, splitFilter, writeState } from "./state.js";
import * as overview from "./overview.js";
import * as funnels from "./funnels.js";
import * as retention from "./retention.js";
import * as live from "./live.js";
import * as user from "./user.js";

const VIEWS = { overview, funnels, retention, live, user };
const LIVE_VISITORS_EVERY_MS = 30000;
const HOUR_MS = 3600000;
const RANGE_MS = { "1h": HOUR_MS, "24h": 24 * HOUR_MS, "7d": 7 * 24 * HOUR_MS, "30d": 30 * 24 * HOUR_MS };
const FILTERED_VIEWS = new Set(["overview", "funnels"]);

let state = readState();
let current = null;
let generation = 0;
let liveTimer = null;

const page = {
  get state() {
    return state;
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
  failed(error) {
    if (error instanceof ApiError && error.status === 401) {
      signOut("The service refused the read token (401). Enter it again.");
      return true;
    }
    return false;
  },
};

function start() {
  fillZones();
  wireControls();
  window.addEventListener("popstate", () => {
    state = readState();
    render();
  });
  if (storedToken()) enter();
  else askToken("");
}

function askToken(message) {
  document.body.dataset.state = "signin";
  current?.hide?.();
  current = null;
  clearInterval(liveTimer);
  for (const element of $$("[data-controls], [data-sign-out], main > section")) element.hidden = true;
  $("[data-signin-panel]").hidden = false;
  $("[data-signin-error]").textContent = message;
  $("input[name=token]").focus();
}

function signOut(message) {
  forgetToken();
  askToken(message);
}

async function signIn(event) {
  event.preventDefault();
  const form = event.target;
  const token = form.token.value.trim();
  const errorLine = $("[data-signin-error]");
  errorLine.textContent = "";
  try {
    await request("/live/visitors", { token });
  } catch (error) {
    errorLine.textContent = error instanceof ApiError && error.status === 401
      ? "That token was refused. Check TRACKER_READ_TOKEN or the read-token file in the data directory."
      : `The service did not answer: ${error.message}`;
    return;
  }
  keepToken(token, form.remember.checked);
  form.reset();
  enter();
}

function enter() {
  $("[data-signin-panel]").hidden = true;
  $("[data-controls]").hidden = false;
  $("[data-sign-out]").hidden = false;
  writeState(state, { replace: true });
  render();
  refreshLiveVisitors();
  clearInterval(liveTimer);
  liveTimer = setInterval(refreshLiveVisitors, LIVE_VISITORS_EVERY_MS);
}

async function refreshLiveVisitors() {
  const metric = $("[data-metric=liveVisitors]");
  try {
    const answer = await getJson("/live/visitors");
    metric.dataset.raw = answer.visitors;
    metric.textContent = answer.visitors;
  } catch (error) {
    page.failed(error);
  }
}

async function render() {
  const mine = ++generation;
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
    showError(error);
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
  for (const button of $$("[data-range]")) {
    button.setAttribute("aria-pressed", String(!state.from && button.dataset.range === state.range));
  }
  // Live movements have no window, and only the overview and funnels take filters.
  $(".ranges").hidden = state.view === "live";
  $("[data-custom-range]").hidden = state.view === "live";
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

function fillZones() {
  const zones = Intl.supportedValuesOf ? Intl.supportedValuesOf("timeZone") : [browserZone()];
  const names = [...new Set(["UTC", browserZone(), ...zones])];
  $("[data-zone]").append(...names.map((name) => el("option", { value: name }, name)));
}

function wireControls() {
  $("[data-signin]").addEventListener("submit", signIn);
  $("[data-sign-out]").addEventListener("click", () => signOut(""));
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
  for (const link of $$("[data-view-link]")) {
    link.addEventListener("click", (event) => {
      event.preventDefault();
      page.update({ view: link.dataset.viewLink });
    });
  }
}

start();
