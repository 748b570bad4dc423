// The goals of the site shown, through /sites/{id}/goals: the list with a
// Delete button each, and a form that adds an event goal or a page goal
// (where `*` matches any run of characters, as in /blog/*).

import { manage } from "./api.js";
import { $, clear, el } from "./dom.js";
import { sitePath } from "./site-settings.js";

const panel = $('[data-panel="goals"]');
const list = $("[data-goals]", panel);
const form = $("[data-new-goal]", panel);
const status = $("[data-goals-status]", panel);
let page = null;

form.addEventListener("submit", add);
form.kind.addEventListener("change", describeKind);

export async function show(current) {
  page = current;
  clear(status);
  describeKind();
  await draw();
}

function goalsPath() {
  return `${sitePath(page.state.site)}/goals`;
}

async function draw() {
  const { goals } = await manage(goalsPath());
  clear(list, ...goals.map((goal) => el("li", { "data-goal": goal.name },
    el("span", { class: "label" }, goal.name),
    el("span", { class: "muted" }, goal.event === null ? `page ${goal.page}` : `event ${goal.event}`),
    el("button", { type: "button", class: "danger", "data-delete-goal": true, onclick: () => remove(goal) }, "Delete"))));
  if (!goals.length) list.append(el("li", { class: "muted" }, "No goals."));
}

function describeKind() {
  const pageGoal = form.kind.value === "page";
  form.goalTarget.placeholder = pageGoal ? "/pricing or /blog/*" : "signup";
  $("[data-goal-target-label]", form).textContent = pageGoal ? "Page path (* matches anything)" : "Event name";
}

async function add(event) {
  event.preventDefault();
  const name = form.goalName.value.trim();
  const body = { [form.kind.value]: form.goalTarget.value.trim(), ...(name ? { name } : {}) };
  await acting(async () => {
    const goal = await manage(goalsPath(), { method: "POST", body });
    form.reset();
    describeKind();
    await draw();
    status.textContent = `Added ${goal.name}.`;
  }, "Not added");
}

function remove(goal) {
  return acting(async () => {
    await manage(`${goalsPath()}/${goal.id}`, { method: "DELETE" });
    await draw();
    status.textContent = `Deleted ${goal.name}.`;
  }, "Not deleted");
}

async function acting(work, failure) {
  status.textContent = "";
  try {
    await work();
  } catch (error) {
    if (!page.failed(error)) status.textContent = `${failure}: ${error.message}`;
  }
}
