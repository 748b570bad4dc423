// Every site, each a link to its settings, one being deleted marked so until
// it is gone; and the form that adds a site.

import { manage } from "./api.js";
import { $, clear, el } from "./dom.js";
import { domainsIn } from "./site-settings.js";
import { isLive } from "./sites.js";
import { browserZone, zoneNames } from "./state.js";

const DELETING_POLL_MS = 1000;

const panel = $('[data-panel="sites"]');
const list = $("[data-site-list]", panel);
const form = $("[data-new-site]", panel);
const status = $("[data-new-site-status]", panel);
let page = null;
let poll = null;

form.timezone.append(...zoneNames().map((name) => el("option", { value: name }, name)));
form.timezone.value = browserZone();
form.addEventListener("submit", add);

export function show(current) {
  page = current;
  draw();
}

export function hide() {
  clearTimeout(poll);
}

function draw() {
  clearTimeout(poll);
  clear(list, ...page.reader.sites.map(item));
  const bare = page.reader.sites.filter((site) => isLive(site) && !site.domains.length);
  $("[data-domains-first]", panel).textContent = bare.length
    ? `No domains yet: ${bare.map((site) => site.id).join(", ")}. While the service holds one site every event goes there; `
      + "with more, an event is placed by its site (data-site on the script tag) or its page's host, so give each site its domains or tag its pages."
    : "";
  // A deletion goes on in the background: look again until the site is gone.
  if (!page.reader.sites.every(isLive)) poll = setTimeout(refresh, DELETING_POLL_MS);
}

async function refresh() {
  try {
    await page.refreshSites();
  } catch (error) {
    page.failed(error);
    return;
  }
  if (page.state.view === "settings") draw();
}

function item(site) {
  const name = isLive(site)
    ? el("button", { type: "button", class: "link label", onclick: () => page.update({ site: site.id, filters: [], user: "" }) }, site.name)
    : el("span", { class: "label" }, site.name);
  const here = site.id === page.state.site;
  return el("li", { "data-site-item": site.id, "data-status": site.status, "aria-current": here ? "true" : null },
    name,
    el("span", { class: "muted" }, [site.id, site.domains.join(", ") || "no domains", site.timezone].join(" · ")),
    isLive(site) ? null : el("strong", { class: "status" }, "deleting"));
}

async function add(event) {
  event.preventDefault();
  const body = {
    id: form.siteId.value.trim(), domains: domainsIn(form.domains.value), timezone: form.timezone.value,
    ...(form.siteName.value.trim() ? { name: form.siteName.value.trim() } : {}),
  };
  const button = $("button[type=submit]", form);
  button.disabled = true;
  status.textContent = "Adding…";
  try {
    const site = await manage("/sites", { method: "POST", body });
    await page.refreshSites();
    form.reset();
    form.timezone.value = browserZone();
    status.textContent = `Added ${site.id}.`;
    page.update({ site: site.id, filters: [], user: "" });
  } catch (error) {
    if (!page.failed(error)) status.textContent = `Not added: ${error.message}`;
  } finally {
    button.disabled = false;
  }
}
