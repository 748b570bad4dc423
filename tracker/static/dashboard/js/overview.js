// The overview: /stats totals with their change against the previous
// period, the time series, the breakdown cards and the goals card, all asked
// at once; for a site without events, how to add the script. Its Export
// button downloads the window's reports as one zip.

import { Superseding, getJson } from "./api.js";
import { $, count, duration, share } from "./dom.js";
import { SeriesChart } from "./chart.js";
import { csvButton, exportWindow } from "./download.js";
import * as goalCard from "./goal-card.js";
import { CARDS, buildCards, fillCard } from "./panels.js";
import { showSetup } from "./setup.js";
import { windowParameters } from "./state.js";

const FORMATS = { visitors: count, visits: count, pageviews: count, bounceRate: share, visitDuration: duration };
// A rise is good news for every total but the bounce rate.
const LOWER_IS_BETTER = new Set(["bounceRate"]);

const section = $('[data-view="overview"]');
const cards = $("[data-cards]", section);
const setup = $("[data-setup]", section);
const exportButton = $("[data-export]", section);
let chart = null;
const requests = new Superseding();
let shown = null;

exportButton.addEventListener("click", () => exportWindow(exportButton, shown.page, shown.page.state.site, shown.window));

export async function show(page) {
  const signal = requests.next();
  const window = windowParameters(page.state);
  if (!chart) build(page);
  shown = { page, window, signal };
  // A share link reads aggregates alone: the export is the admin's and a key's.
  exportButton.hidden = page.reader.kind === "share";
  const parameters = { ...window, compare: "previous", filter: page.state.filters };
  shown.stats = { path: "/stats", parameters, name: `${page.state.site}-visitors` };
  const totals = getJson("/stats", parameters, signal)
    .then((answer) => {
      drawStats(answer, page.state);
      return showSetup(setup, page, answer.totals, signal);
    });
  const panels = CARDS.map((card) => fillCard(card, cards, page, window, signal));
  await Promise.all([totals, ...panels, goalCard.fill(cards, page, window, signal)]);
}

function build(page) {
  chart = new SeriesChart($("[data-chart]", section));
  $("[data-chart-tools]", section).append(csvButton(() => shown.stats, page));
  buildCards(cards, page, (card) => fillCard(card, cards, shown.page, shown.window, shown.signal));
  goalCard.build(cards, page);
}

export function hide() {
  requests.cancel();
}

// Whether the window cuts its first bucket (starting inside it) or its last (still going on,
// as the last of a rolling range always is).
function partialBuckets(answer, state) {
  const first = answer.series.length > 0 && answer.series[0].t < answer.from;
  return { first, last: !state.from || answer.to > Date.now() };
}

function drawStats(answer, state) {
  const zone = state.tz;
  for (const [name, format] of Object.entries(FORMATS)) {
    const value = answer.totals[name];
    const metric = $(`[data-metric="${name}"]`, section);
    metric.dataset.raw = value;
    metric.textContent = format(value);
    drawChange($(`[data-change="${name}"]`, section), name, value, answer.previous?.totals[name]);
  }
  drawConversions(answer.totals);
  const partial = partialBuckets(answer, state);
  chart.draw({ ...answer, zone, partial });
  const unit = answer.bucket === "1d" ? "day" : answer.bucket === "1h" ? "hour" : "minute";
  const cut = [partial.first && "first", partial.last && "last"].filter(Boolean).join(" and ");
  $("[data-chart-caption]", section).textContent = `Visitors and page views per ${unit} (${zone})`
    + (cut ? `; dashed: the ${cut} ${unit} ${partial.first && partial.last ? "are" : "is"} partial, cut by the range` : "");
}

// Under a goal filter, /stats adds the goal's conversions (unique) and their rate.
function drawConversions(totals) {
  const box = $("[data-goal-total]", section);
  box.hidden = totals.conversions === undefined || totals.conversions === null;
  if (box.hidden) return;
  const metric = $('[data-metric="conversions"]', box);
  metric.dataset.raw = totals.conversions;
  metric.textContent = count(totals.conversions);
  $("[data-conversion-rate]", box).textContent = `${share(totals.conversionRate)} of visitors, ${count(totals.events)} events`;
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
