// Funnels: steps (event names or page:/path) defined in a form and kept in
// the URL; the answer as bars with each step's conversion from the step
// before and from the first, and its drop-off.

import { Superseding, getJson } from "./api.js";
import { $, $$, clear, count, el, share } from "./dom.js";
import { csvButton } from "./download.js";
import { windowParameters } from "./state.js";

const MIN_STEPS = 2;
const MAX_STEPS = 8;
const EXAMPLE = ["page:/", "page:/pricing", "signup"];

const section = $('[data-view="funnels"]');
const form = $("[data-funnel-form]", section);
const stepList = $("[data-steps]", section);
const result = $("[data-funnel]", section);
const requests = new Superseding();
let page = null;
let described = null;

$("[data-funnel-tools]", section).append(csvButton(() => described, { failed: (error) => page.failed(error) }));

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const steps = $$("input[name=step]", form).map((input) => input.value.trim()).filter(Boolean);
  const minutes = form.within.value;
  page.update({ steps, by: form.by.value, within: minutes ? String(Number(minutes) * 60000) : "" });
});

$("[data-add-step]", form).addEventListener("click", () => {
  if (stepList.children.length < MAX_STEPS) stepList.append(stepField(""));
  stepList.lastElementChild.querySelector("input").focus();
});

function stepField(value) {
  const item = el("li", {},
    el("input", { name: "step", value, "aria-label": "Step", placeholder: "event or page:/path", maxlength: 1088 }));
  item.append(el("button", {
    type: "button", class: "link", "aria-label": "Remove step",
    onclick: () => {
      if (stepList.children.length > MIN_STEPS) item.remove();
    },
  }, "Remove"));
  return item;
}

export async function show(current) {
  page = current;
  const signal = requests.next();
  const { by, within } = page.state;
  const steps = page.state.steps.length ? page.state.steps : EXAMPLE;
  clear(stepList, ...steps.map(stepField));
  while (stepList.children.length < MIN_STEPS) stepList.append(stepField(""));
  form.by.value = by;
  form.within.value = within ? String(Number(within) / 60000) : "";
  described = null;
  if (steps.length < MIN_STEPS) {
    result.removeAttribute("aria-busy");
    clear(result, el("p", { class: "muted" }, "Define at least two steps and press Show funnel."));
    return;
  }
  result.setAttribute("aria-busy", "true");
  try {
    const parameters = { ...windowParameters(page.state), step: steps, by, within, filter: page.state.filters };
    described = { path: "/funnels", parameters, name: `${page.state.site}-funnel` };
    draw(await getJson("/funnels", parameters, signal));
  } finally {
    if (!signal.aborted) result.removeAttribute("aria-busy");
  }
}

export function hide() {
  requests.cancel();
}

function draw(answer) {
  const first = Math.max(1, answer.steps[0]?.count ?? 0);
  const noun = answer.by === "visit" ? "visits" : "visitors";
  clear(result, el("ol", { class: "funnel-steps" }, answer.steps.map((step, index) => {
    const bar = el("span", { class: "bar", "aria-hidden": "true" });
    bar.style.width = `${(100 * step.count) / first}%`;
    const fromBefore = index ? stepConversion(answer.steps[index - 1].count, step.count) : null;
    return el("li", { "data-step": step.step, "data-count": step.count, "data-from-before": fromBefore },
      el("div", { class: "step-head" },
        el("span", { class: "label" }, `${index + 1}. `, step.step),
        el("span", { class: "num" }, `${count(step.count)} ${noun}`)),
      el("div", { class: "track" }, bar),
      el("p", { class: "muted" }, index
        ? [el("strong", { class: "step-rate" }, `${share(fromBefore)} of step ${index}`),
          ` · ${share(step.conversion)} of the first step · ${count(step.dropOff)} dropped off here`]
        : "The first step"));
  })));
}

// The share of the step before's entities that reached this step (0 when it had none).
function stepConversion(before, reached) {
  return before ? reached / before : 0;
}
