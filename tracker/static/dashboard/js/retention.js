// Retention: the cohort table, each cell shaded by its share of the cohort.

import { Superseding, getJson } from "./api.js";
import { $, clear, count, day, el, share } from "./dom.js";
import { windowParameters } from "./state.js";

const section = $('[data-view="retention"]');
const form = $("[data-retention-form]", section);
const table = $("[data-retention]", section);
const requests = new Superseding();
let page = null;

form.addEventListener("submit", (event) => {
  event.preventDefault();
  page.update({ period: form.period.value, event: form.event.value.trim() });
});

export async function show(current) {
  page = current;
  const signal = requests.next();
  const { period, event, tz } = page.state;
  form.period.value = period;
  form.event.value = event;
  table.setAttribute("aria-busy", "true");
  try {
    const answer = await getJson("/retention", { ...windowParameters(page.state), period, event }, signal);
    draw(answer, tz);
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
}

function cell(returned, users) {
  const rate = users ? returned / users : 0;
  const td = el("td", { class: "num shade", title: `${returned} of ${users}`, "data-raw": returned },
    users ? share(rate) : "–");
  td.style.setProperty("--rate", rate.toFixed(3));
  if (rate > 0.55) td.classList.add("strong");
  return td;
}
