// Breakdown cards: each shows one GET /breakdown at a time (its chosen tab)
// as rows with a bar in proportion to visitors. [data-breakdown=DIM] holds
// one [data-row] per result, with data-value (absent for an unknown value)
// and data-visitors. Each card's "Download CSV" asks the same as the card.

import { getJson } from "./api.js";
import { $, clear, count, el } from "./dom.js";
import { csvButton } from "./download.js";

const ROWS = 10;
const UTM_FIELDS = [
  ["utmCampaign", "campaign"], ["utmSource", "source"], ["utmMedium", "medium"],
  ["utmTerm", "term"], ["utmContent", "content"],
];
const SECOND_LABELS = { events: "Events", pageviews: "Views", visits: "Visits" };
const regionNames = new Intl.DisplayNames(["en"], { type: "region" });

export const CARDS = [
  { title: "Sources", tabs: [["channel", "Channels"], ["source", "Sources"], ["referrer", "Referrers"], ["utm", "UTM"]] },
  { title: "Pages", tabs: [["page", "Top pages"], ["entryPage", "Entry pages"], ["exitPage", "Exit pages"]] },
  { title: "Locations", tabs: [["country", "Countries"], ["region", "Regions"], ["city", "Cities"]] },
  { title: "Devices", tabs: [["device", "Devices"], ["browser", "Browsers"], ["os", "Operating systems"]] },
  { title: "Events", tabs: [["event", "Events"], ["prop", "Properties"]] },
];

// Each card's chosen tab and the events card's property, kept while the page lives.
const chosen = new Map(CARDS.map((card) => [card.title, card.tabs[0][0]]));
const utmField = { value: UTM_FIELDS[0][0] };
const property = { event: "", key: "" };
const described = new Map(); // card title: the request it was last drawn from
let redrawCard = () => {};

export function buildCards(container, page, redraw) {
  redrawCard = redraw;
  clear(container, ...CARDS.map((card) => {
    const tabs = el("div", { class: "tabs", role: "group", "aria-label": `${card.title}: show` },
      card.tabs.map(([tab, label]) => el("button", {
        type: "button", "data-tab": tab,
        onclick: () => {
          chosen.set(card.title, tab);
          redrawCard(card);
        },
      }, label)));
    return el("article", { class: "card", "data-card": card.title },
      el("header", {}, el("h2", {}, card.title), tabs, csvButton(() => described.get(card.title), page)),
      el("div", { class: "card-tools" }),
      el("p", { class: "columns muted", "aria-hidden": "true" }, el("span", {}),
        el("span", { class: "num" }, "Visitors"), el("span", { class: "num", "data-second": true }, "")),
      el("ol", { class: "rows" }));
  }));
}

// Loads and draws one card for the page's window and filters.
export async function fillCard(card, container, page, window, signal) {
  const box = $(`[data-card="${card.title}"]`, container);
  const tab = chosen.get(card.title);
  for (const button of box.querySelectorAll("[data-tab]")) {
    button.setAttribute("aria-pressed", String(button.dataset.tab === tab));
  }
  const tools = clear($(".card-tools", box));
  const list = $(".rows", box);
  const request = requestFor(tab, tools, () => redrawCard(card));
  described.delete(card.title);
  if (!request) {
    list.removeAttribute("data-breakdown");
    clear(list, el("li", { class: "muted" }, "Pick an event in the Events tab, then a property key."));
    return;
  }
  list.dataset.breakdown = request.by;
  $("[data-second]", box).textContent = SECOND_LABELS[secondColumn(request.by)];
  list.setAttribute("aria-busy", "true");
  const parameters = { ...window, ...request, limit: ROWS, filter: page.state.filters };
  described.set(card.title, { path: "/breakdown", parameters, name: `${page.state.site}-${request.by}` });
  try {
    const answer = await getJson("/breakdown", parameters, signal);
    clear(list, ...rows(answer.results, request.by, page));
    if (!answer.results.length) list.append(el("li", { class: "muted" }, "Nothing in this range."));
  } catch (error) {
    if (error.name === "AbortError" || page.failed(error)) return;
    clear(list, el("li", { class: "alert" }, error.message));
  } finally {
    list.removeAttribute("aria-busy");
  }
}

function requestFor(tab, tools, reload) {
  if (tab === "utm") {
    const select = el("select", { "aria-label": "UTM field" },
      UTM_FIELDS.map(([by, label]) => el("option", { value: by }, label)));
    select.value = utmField.value;
    select.addEventListener("change", () => {
      utmField.value = select.value;
      reload();
    });
    tools.append(el("label", {}, "Field ", select));
    return { by: utmField.value };
  }
  if (tab === "prop") return propertyRequest(tools, reload);
  return { by: tab };
}

function propertyRequest(tools, reload) {
  const form = el("form", { class: "row" },
    el("label", {}, "Event ", el("input", { name: "event", value: property.event, required: true, size: 12 })),
    el("label", {}, "Key ", el("input", { name: "key", value: property.key, required: true, size: 10 })),
    el("button", { type: "submit" }, "Show"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    property.event = form.event.value.trim();
    property.key = form.key.value.trim();
    reload();
  });
  tools.append(form);
  if (!property.event || !property.key) return null;
  return { by: `prop:${property.key}`, event: property.event };
}

function rows(results, by, page) {
  const most = Math.max(1, ...results.map((row) => row.visitors));
  const second = secondColumn(by);
  return results.map((row) => {
    const label = labelFor(by, row.value);
    const item = el("li", {
      "data-row": true, "data-visitors": row.visitors,
      "data-value": row.value === null ? null : row.value,
      title: details(row),
    });
    const bar = el("span", { class: "bar", "aria-hidden": "true" });
    bar.style.width = `${(100 * row.visitors) / most}%`;
    const name = action(by, row.value, label, page);
    item.append(bar, name, el("span", { class: "num" }, count(row.visitors)),
      el("span", { class: "num muted" }, count(row[second])));
    return item;
  });
}

// A row's label: a button that filters (or, for an event, opens its properties), else plain text.
function action(by, value, label, page) {
  if (value === null || by.startsWith("prop:")) return el("span", { class: "label" }, label);
  if (by === "event") {
    return el("button", {
      type: "button", class: "label", title: `Properties of ${value}`,
      onclick: () => {
        property.event = value;
        chosen.set("Events", "prop");
        redrawCard(CARDS.find((card) => card.title === "Events"));
      },
    }, label);
  }
  return el("button", {
    type: "button", class: "label", title: `Filter by ${by} ${value}`,
    onclick: () => page.addFilter(by, value),
  }, label);
}

// The count shown beside visitors: events for events, page views for pages, else visits.
function secondColumn(by) {
  if (by === "event" || by.startsWith("prop:")) return "events";
  return by === "page" ? "pageviews" : "visits";
}

function labelFor(by, value) {
  if (value === null) return "(unknown)";
  if (by === "country") {
    try {
      return `${value} ${regionNames.of(value)}`;
    } catch {
      return value;
    }
  }
  return value;
}

function details(row) {
  const parts = [`${row.visitors} visitors`, `${row.visits} visits`];
  if ("pageviews" in row) parts.push(`${row.pageviews} page views`);
  if ("events" in row) parts.push(`${row.events} events`);
  if ("bounceRate" in row) parts.push(`${Math.round(row.bounceRate * 100)}% bounce`);
  return parts.join(", ");
}
