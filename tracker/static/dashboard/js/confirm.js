// A confirmation that asks to type a name again (a user id, a site id) before
// something that cannot be undone.

import { $ } from "./dom.js";

const dialog = $("[data-confirm]");
const input = $("input[name=confirm]", dialog);
const ok = $("[data-confirm-ok]", dialog);

// Resolves true once `expected` was typed and the action button pressed, false otherwise.
export function confirmTyped({ text, label, expected, action }) {
  $("[data-confirm-text]", dialog).textContent = text;
  $("[data-confirm-label]", dialog).textContent = label;
  ok.textContent = action;
  input.value = "";
  ok.disabled = true;
  input.oninput = () => {
    ok.disabled = input.value !== expected;
  };
  dialog.returnValue = "";
  return new Promise((resolve) => {
    dialog.onclose = () => resolve(dialog.returnValue === "ok");
    dialog.showModal();
  });
}
