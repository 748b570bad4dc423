// Files the service answers (a report as CSV, a window's export as a zip),
// fetched with the token in its header, which a plain link could not carry,
// then handed to the browser as a download.

import { read, readSitePath } from "./api.js";
import { el } from "./dom.js";

const FORGET_AFTER_MS = 60000;

// A "Download CSV" button: `described()` gives {path, parameters, name} of the
// request the card draws from, or null while the card has none.
export function csvButton(described, page) {
  return el("button", {
    type: "button", class: "link download", "data-download-csv": true,
    onclick: async (event) => {
      const request = described();
      if (!request) return;
      const parameters = { ...request.parameters, format: "csv" };
      await fetchAndSave(event.target, page, () => read(request.path, { parameters }), fileSafe(`${request.name}.csv`));
    },
  }, "Download CSV");
}

// GET /sites/{id}/export for the window shown, saved under the name the service gives it.
export function exportWindow(button, page, site, window) {
  const path = `/sites/${encodeURIComponent(site)}/export`;
  return fetchAndSave(button, page, () => readSitePath(path, { parameters: window }), null);
}

// A file name of the site id and the report: a property key or goal name may hold anything.
function fileSafe(name) {
  return name.replace(/[^A-Za-z0-9._-]+/g, "-");
}

// A failure shows on the button itself ("Not downloaded", the reason on hover) until the next try.
async function fetchAndSave(button, page, fetching, name) {
  button.dataset.label ??= button.textContent;
  button.textContent = button.dataset.label;
  button.removeAttribute("title");
  button.disabled = true;
  try {
    const response = await fetching();
    save(await response.blob(), name ?? fileName(response) ?? "download");
  } catch (error) {
    if (page.failed(error)) return;
    button.textContent = "Not downloaded";
    button.title = error.message;
  } finally {
    button.disabled = false;
  }
}

function fileName(response) {
  const match = /filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") ?? "");
  return match ? match[1] : null;
}

function save(blob, name) {
  const url = URL.createObjectURL(blob);
  const link = el("a", { href: url, download: name, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), FORGET_AFTER_MS);
}
