// The sites a token reads, whether it is the admin's, and the site picker.

import { ApiError, manage } from "./api.js";
import { $, clear, el } from "./dom.js";

const box = $("[data-site-picker]");
const picker = $("[data-site]");

export function isLive(site) {
  return site.status === "live";
}

export async function listed(token) {
  return (await manage("/sites", { token })).sites;
}

// {kind: "admin" | "key", sites}. Only the admin may list a site's keys (a key gets 403),
// which tells the two apart without a route of its own.
export async function reader(token) {
  const found = await listed(token);
  const probe = found.find(isLive) ?? found[0];
  try {
    await manage(`/sites/${encodeURIComponent(probe.id)}/keys`, { token });
  } catch (error) {
    if (error instanceof ApiError && error.status === 403) return { kind: "key", sites: found };
    throw error;
  }
  return { kind: "admin", sites: found };
}

// One option per site (one being deleted cannot be chosen); out of the way with one site.
export function showPicker(sites, chosen) {
  clear(picker, ...sites.map((site) => el("option", { value: site.id, disabled: !isLive(site) }, label(site))));
  choose(chosen);
  box.hidden = picker.options.length < 2;
}

// The picker shows the site in the URL, even one the token does not list (its reads say why).
export function choose(id) {
  if (id && ![...picker.options].some((option) => option.value === id)) {
    picker.append(el("option", { value: id }, id));
    box.hidden = false;
  }
  picker.value = id;
}

export function onPick(pick) {
  picker.addEventListener("change", () => pick(picker.value));
}

function label(site) {
  const name = site.name === site.id ? site.id : `${site.name} (${site.id})`;
  return isLive(site) ? name : `${name}: deleting`;
}
