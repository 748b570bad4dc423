// The keys and share links of the site shown: each new one shown once, with a
// copy button; the lists (which never hold a key or link itself) with a
// Revoke button each.

import { manage } from "./api.js";
import { $, clear, dateTime, el } from "./dom.js";
import { copyField } from "./copy.js";
import { sitePath } from "./site-settings.js";

const keysPanel = $('[data-panel="keys"]');
const keyList = $("[data-keys]", keysPanel);
const newKey = $("[data-made-key]", keysPanel);
const keyStatus = $("[data-keys-status]", keysPanel);
const sharesPanel = $('[data-panel="shares"]');
const shareList = $("[data-shares]", sharesPanel);
const shareForm = $("[data-new-share]", sharesPanel);
const newShare = $("[data-made-share]", sharesPanel);
const shareStatus = $("[data-shares-status]", sharesPanel);
let page = null;

$("[data-add-key]", keysPanel).addEventListener("click", addKey);
shareForm.addEventListener("submit", addShare);

export async function show(current) {
  page = current;
  for (const line of [newKey, newShare, keyStatus, shareStatus]) clear(line);
  await Promise.all([drawKeys(), drawShares()]);
}

async function drawKeys() {
  const { keys } = await manage(`${sitePath(page.state.site)}/keys`);
  clear(keyList, ...keys.map((key) => el("li", { "data-key": key.id },
    el("code", { class: "label" }, key.id),
    el("span", { class: "muted" }, `made ${dateTime(key.created, page.state.tz)}`),
    revoke(`${sitePath(page.state.site)}/keys/${key.id}`, keyStatus, drawKeys))));
  if (!keys.length) keyList.append(el("li", { class: "muted" }, "No keys."));
}

async function drawShares() {
  const { shares } = await manage(`${sitePath(page.state.site)}/shares`);
  clear(shareList, ...shares.map((share) => el("li", { "data-share": share.id },
    el("code", { class: "label" }, share.id),
    el("span", { class: "muted" }, shareTerms(share)),
    revoke(`${sitePath(page.state.site)}/shares/${share.id}`, shareStatus, drawShares))));
  if (!shares.length) shareList.append(el("li", { class: "muted" }, "No share links."));
}

function shareTerms(share) {
  const zone = page.state.tz;
  const until = share.expires === null ? "never expires"
    : `${share.expires <= Date.now() ? "expired" : "expires"} ${dateTime(share.expires, zone)}`;
  return [`made ${dateTime(share.created, zone)}`, share.password ? "password" : "no password", until].join(" · ");
}

function revoke(path, status, redraw) {
  return el("button", {
    type: "button", class: "danger", "data-revoke": true,
    onclick: () => acting(status, async () => {
      await manage(path, { method: "DELETE" });
      await redraw();
      status.textContent = "Revoked: it stopped working at once.";
    }),
  }, "Revoke");
}

function addKey() {
  return acting(keyStatus, async () => {
    const made = await manage(`${sitePath(page.state.site)}/keys`, { method: "POST" });
    clear(newKey, el("p", {}, "The new key, shown this once: keep it somewhere safe."), copyField(made.key, "New key"));
    await drawKeys();
  });
}

function addShare(event) {
  event.preventDefault();
  const body = {};
  if (shareForm.password.value) body.password = shareForm.password.value;
  if (shareForm.expires.value) body.expires = new Date(shareForm.expires.value).getTime();
  return acting(shareStatus, async () => {
    const made = await manage(`${sitePath(page.state.site)}/shares`, { method: "POST", body });
    shareForm.reset();
    clear(newShare, el("p", {}, "The new link, shown this once: send it to whoever may see this dashboard."),
      copyField(made.url, "New share link"));
    await drawShares();
  });
}

// Runs a button's action, showing its failure beside it rather than losing it.
async function acting(status, action) {
  status.textContent = "";
  try {
    await action();
  } catch (error) {
    if (!page.failed(error)) status.textContent = `Failed: ${error.message}`;
  }
}
