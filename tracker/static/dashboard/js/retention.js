// Retention: the cohort table, each cell shaded by its share of the cohort on
// a square-root scale, so that the low rates usual after day 1 stay readable.
// The cohort column stays put while the table scrolls sideways, and a fade at
// the edge says there is more. Cohorts are of signed-in users unless the
// reader asks for every visitor (anonymous ids change daily, which would make
// every anonymous day a new user who never comes back).

import { Superseding, getJson } from "./api.js";
import { $, clear, count, day, el, share } from "./dom.js";
import { csvButton } from "./download.js";
import { windowParameters } from "./state.js";

const WHO = {
  true: "Signed-in users only: an anonymous visitor's id changes every day, so its return could not be seen.",
  false: "Every visitor: an anonymous visitor's id changes every day, so its later days count as new users.",
};
const STRONG_SHADE = 0.55; // from this shade on, the cell's text turns white

const section = $('[data-view="retention"]');
const form = $("[data-retention-form]", section);
const frame = $("[data-retention-frame]", section);
const table = $("[data-retention]", section);
const requests = new Superseding();
let page = null;
let described = null;

form.addEventListener("submit", (event) => {
  event.preventDefault();
  page.update({ period: form.period.value, event: form.event.value.trim(), identified: form.identified.value === "true" });
});
$("[data-retention-tools]", section).append(csvButton(() => described, { failed: (error) => page.failed(error) }));
table.addEventListener("scroll", markMore, { passive: true });
new ResizeObserver(markMore).observe(table);

export async function show(current) {
  page = current;
  const signal = requests.next();
  const { period, event, identified, tz } = page.state;
  form.period.value = period;
  form.event.value = event;
  form.identified.value = String(identified);
  $("[data-retention-who]", section).textContent = WHO[identified];
  const parameters = { ...windowParameters(page.state), period, event, identified: String(identified) };
  described = { path: "/retention", parameters, name: `${page.state.site}-retention` };
  table.setAttribute("aria-busy", "true");
  try {
    draw(await getJson("/retention", parameters, signal), tz);
  } finally {
    if (!signal.aborted) table.removeAttribute("aria-busy");
  }
}

export function hide() {
  requests.cancel();
}

function draw(answer, zone) {
  const width = Math.max(0, ...answer.cohorts.map((cohort) => cohort.returned.length));
  const unit = answer.period === "week" ? "Week" : "Day";
  const head = el("tr", {}, el("th", { scope: "col" }, "Cohort"), el("th", { scope: "col" }, "Users"),
    Array.from({ length: width }, (_, k) => el("th", { scope: "col" }, `${unit} ${k}`)));
  const body = answer.cohorts.map((cohort) => el("tr", { "data-cohort": cohort.t },
    el("th", { scope: "row" }, day(cohort.t, zone)),
    el("td", { class: "num" }, count(cohort.users)),
    cohort.returned.map((returned) => cell(returned, cohort.users))));
  clear(table, answer.cohorts.length
    ? el("table", { class: "cohorts" }, el("thead", {}, head), el("tbody", {}, body))
    : el("p", { class: "muted" }, "No new users in this range."));
  markMore();
}

function cell(returned, users) {
  const rate = users ? returned / users : 0;
  const td = el("td", { class: "num shade", title: `${returned} of ${users}`, "data-raw": returned },
    users ? share(rate) : "–");
  const shade = shadeOf(rate);
  td.style.setProperty("--shade", shade.toFixed(3));
  if (shade >= STRONG_SHADE) td.classList.add("strong");
  return td;
}

// 0 stays blank; any other rate, 1 in 100 as well, shows at 0.2 at least, and 100% is the
// full colour.
function shadeOf(rate) {
  return rate > 0 ? 0.2 + 0.68 * Math.sqrt(rate) : 0;
}

// data-more="right" while part of the table lies beyond the right edge.
function markMore() {
  const hidden = table.scrollWidth - table.clientWidth - table.scrollLeft > 1;
  if (hidden) frame.dataset.more = "right";
  else delete frame.dataset.more;
}
