// Text to copy (a new key, a share link, the script tag) in a read-only field
// with a Copy button. The clipboard needs a secure context and the browser's
// leave; without them the text is selected, ready for Ctrl+C.

import { el } from "./dom.js";

export function copyField(value, label, { lines = 1 } = {}) {
  const attributes = { readonly: true, "aria-label": label, "data-copy-text": true, spellcheck: "false" };
  const field = lines > 1 ? el("textarea", { ...attributes, rows: lines }, value) : el("input", { ...attributes, value });
  const status = el("span", { class: "muted", role: "status" });
  const button = el("button", { type: "button", "data-copy": true, onclick: () => copy(field, status) }, "Copy");
  return el("div", { class: "copy" }, field, el("div", { class: "row" }, button, status));
}

async function copy(field, status) {
  try {
    await navigator.clipboard.writeText(field.value);
    status.textContent = "Copied.";
  } catch {
    field.focus();
    field.select();
    status.textContent = "Selected: press Ctrl+C (⌘C on a Mac) to copy.";
  }
}
