// The goals card: each goal of the site with its conversions in the window
// and filters (visitors who completed it, and completions), its conversion
// rate and its revenue per currency, from GET /breakdown?by=goal. Revenue is
// shown as the exact decimal text the service gives, never re-rounded.
// Clicking a goal filters the dashboard by it (filter=goal:NAME).

import { getJson } from "./api.js";
import { $, clear, count, el, share } from "./dom.js";
import { csvButton } from "./download.js";

const GOALS_SHOWN = 100;

let described = null; // the request the card was last drawn from, for its CSV

export function build(container, page) {
  const card = el("article", { class: "card", "data-card": "Goals" },
    el("header", {}, el("h2", {}, "Goals"), csvButton(() => described, page)),
    el("p", { class: "columns goal-columns muted", "aria-hidden": "true" }, el("span", {}, "Goal"),
      el("span", { class: "num" }, "Visitors"), el("span", { class: "num" }, "Events"), el("span", { class: "num" }, "Rate")),
    el("ol", { class: "rows goal-rows", "data-breakdown": "goal" }));
  container.append(card);
}

export async function fill(container, page, window, signal) {
  const list = $('[data-breakdown="goal"]', container);
  const parameters = { ...window, by: "goal", limit: GOALS_SHOWN, filter: page.state.filters };
  described = { path: "/breakdown", parameters, name: `${page.state.site}-goals` };
  list.setAttribute("aria-busy", "true");
  try {
    const answer = await getJson("/breakdown", parameters, signal);
    clear(list, ...answer.results.map((row) => goalRow(row, page)));
    if (!answer.results.length) list.append(noGoals(page));
  } catch (error) {
    if (error.name === "AbortError" || page.failed(error)) return;
    clear(list, el("li", { class: "alert" }, error.message));
  } finally {
    list.removeAttribute("aria-busy");
  }
}

function goalRow(row, page) {
  const item = el("li", {
    "data-row": true, "data-value": row.value, "data-visitors": row.visitors, "data-events": row.events,
    "data-rate": row.conversionRate,
  });
  const bar = el("span", { class: "bar", "aria-hidden": "true" });
  bar.style.width = `${100 * row.conversionRate}%`;
  item.append(bar,
    el("button", {
      type: "button", class: "label", title: `Filter by goal ${row.value}`,
      onclick: () => page.addFilter("goal", row.value),
    }, row.value),
    el("span", { class: "num" }, count(row.visitors)),
    el("span", { class: "num muted" }, count(row.events)),
    el("span", { class: "num" }, share(row.conversionRate)),
    revenueLine(row.revenue));
  return item;
}

// "19.90 EUR total, 9.95 average" per currency, as the service wrote the decimals.
function revenueLine(revenue) {
  const currencies = Object.keys(revenue ?? {}).sort();
  if (!currencies.length) return null;
  return el("p", { class: "revenue" }, currencies.map((currency) => el("span", {
    "data-revenue": currency, "data-total": revenue[currency].total, "data-average": revenue[currency].average,
  }, `${revenue[currency].total} ${currency}`, el("span", { class: "muted" }, ` (average ${revenue[currency].average})`))));
}

function noGoals(page) {
  const hint = page.reader.kind === "admin"
    ? el("button", { type: "button", class: "link", onclick: () => page.update({ view: "settings" }) }, "Add goals in Settings")
    : null;
  return el("li", { class: "muted" }, "No goals for this site yet. A goal is an event or a page that counts as a conversion. ", hint);
}
