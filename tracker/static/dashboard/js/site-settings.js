// The site shown: its name, domains and time zone, and its deletion behind a
// confirmation that asks for its id.

import { manage } from "./api.js";
import { $, el } from "./dom.js";
import { confirmTyped } from "./confirm.js";
import { isLive } from "./sites.js";
import { zoneNames } from "./state.js";

const panel = $('[data-panel="site"]');
const form = $("[data-site-form]", panel);
const status = $("[data-site-status]", panel);
const removal = $("[data-delete-status]", panel);
let page = null;

form.timezone.append(...zoneNames().map((name) => el("option", { value: name }, name)));
form.addEventListener("submit", save);
$("[data-delete-site]", panel).addEventListener("click", remove);

export function show(current) {
  page = current;
  const site = shown();
  $("[data-site-title]", panel).textContent = page.state.site;
  form.hidden = !site;
  status.textContent = "";
  removal.textContent = site ? "" : "This site is not among the sites this token reads.";
  if (!site) return;
  form.siteName.value = site.name;
  form.domains.value = site.domains.join(" ");
  if (![...form.timezone.options].some((option) => option.value === site.timezone)) {
    form.timezone.append(el("option", { value: site.timezone }, site.timezone));
  }
  form.timezone.value = site.timezone;
}

export function domainsIn(text) {
  return text.split(/[\s,]+/).filter(Boolean);
}

export function sitePath(id) {
  return `/sites/${encodeURIComponent(id)}`;
}

function shown() {
  return page.reader.sites.find((site) => site.id === page.state.site && isLive(site));
}

async function save(event) {
  event.preventDefault();
  const body = { name: form.siteName.value.trim(), domains: domainsIn(form.domains.value), timezone: form.timezone.value };
  status.textContent = "Saving…";
  try {
    await manage(sitePath(page.state.site), { method: "PATCH", body });
    await page.refreshSites();
  } catch (error) {
    if (!page.failed(error)) status.textContent = `Not saved: ${error.message}`;
    return;
  }
  show(page);
  status.textContent = "Saved.";
}

async function remove() {
  const site = shown();
  if (!site) return;
  const confirmed = await confirmTyped({
    text: `Delete the site ${site.name} (${site.id}) with every movement, session, rollup, archive, key and share link of it? This cannot be undone.`,
    label: "Type the site id to confirm", expected: site.id, action: "Delete site",
  });
  if (!confirmed) return;
  removal.textContent = "Deleting…";
  try {
    const marked = await manage(sitePath(site.id), { method: "DELETE" });
    // Marked at once, however soon it is gone: the list shows it going. The rest of the
    // dashboard moves to a site that stays.
    page.setSites(page.reader.sites.map((one) => (one.id === marked.id ? marked : one)));
    page.update({ site: page.reader.sites.find(isLive).id, filters: [], user: "" });
  } catch (error) {
    if (!page.failed(error)) removal.textContent = `Not deleted: ${error.message}`;
  }
}
