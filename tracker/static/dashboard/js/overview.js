// The overview: /stats totals with their change against the previous
// period, the time series, and the breakdown cards, all asked at once; for a
// site without events, how to add the script.

import { Superseding, getJson } from "./api.js";
import { $, count, duration, share } from "./dom.js";
import { SeriesChart } from "./chart.js";
import { CARDS, buildCards, fillCard } from "./panels.js";
import { showSetup } from "./setup.js";
import { windowParameters } from "./state.js";

const FORMATS = { visitors: count, visits: count, pageviews: count, bounceRate: share, visitDuration: duration };
// A rise is good news for every total but the bounce rate.
const LOWER_IS_BETTER = new Set(["bounceRate"]);

const section = $('[data-view="overview"]');
const cards = $("[data-cards]", section);
const setup = $("[data-setup]", section);
let chart = null;
const requests = new Superseding();
let shown = null;

export async function show(page) {
  const signal = requests.next();
  const window = windowParameters(page.state);
  chart ??= new SeriesChart($("[data-chart]", section));
  if (!cards.children.length) {
    buildCards(cards, (card) => fillCard(card, cards, shown.page, shown.window, shown.signal));
  }
  shown = { page, window, signal };
  const totals = getJson("/stats", { ...window, compare: "previous", filter: page.state.filters }, signal)
    .then((answer) => {
      drawStats(answer, page.state.tz);
      return showSetup(setup, page, answer.totals, signal);
    });
  const panels = CARDS.map((card) => fillCard(card, cards, page, window, signal));
  await Promise.all([totals, ...panels]);
}

export function hide() {
  requests.cancel();
}

function drawStats(answer, zone) {
  for (const [name, format] of Object.entries(FORMATS)) {
    const value = answer.totals[name];
    const metric = $(`[data-metric="${name}"]`, section);
    metric.dataset.raw = value;
    metric.textContent = format(value);
    drawChange($(`[data-change="${name}"]`, section), name, value, answer.previous?.totals[name]);
  }
  chart.draw({ ...answer, zone });
  $("[data-chart-caption]", section).textContent =
    `Visitors and page views per ${answer.bucket === "1d" ? "day" : answer.bucket === "1h" ? "hour" : "minute"} (${zone})`;
}

function drawChange(element, name, value, before) {
  element.className = "change";
  if (before === undefined || before === null) {
    element.textContent = "";
    return;
  }
  if (before === 0) {
    element.textContent = value === 0 ? "no change" : "new this period";
    return;
  }
  const change = (value - before) / before;
  const arrow = change > 0 ? "↑" : change < 0 ? "↓" : "→";
  element.textContent = `${arrow} ${share(Math.abs(change))} vs previous`;
  if (change !== 0) {
    const better = (change > 0) !== LOWER_IS_BETTER.has(name);
    element.classList.add(better ? "good" : "bad");
  }
}
