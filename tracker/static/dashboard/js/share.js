// A share link's page (/share/{token}): its site read-only, behind the link's
// password when it has one. A revoked or expired link says so, at the start
// or on whichever later request finds it gone.

import { ApiError, getJson, sendSharePassword, useShare } from "./api.js";
import { $ } from "./dom.js";

const SHARE_PATH = /^\/share\/([^/]+)\/?$/;
const GONE = {
  404: ["This link no longer works", "The share link was revoked, or never existed. Ask whoever sent it for a new one."],
  410: ["This link has expired", "The share link was given an end date, and it has passed. Ask whoever sent it for a new one."],
};

const passwordPanel = $("[data-share-password-panel]");
const form = $("[data-share-password]");
const errorLine = $("[data-share-error]");
const gonePanel = $("[data-share-gone-panel]");
let frame = null;

export function tokenIn(path) {
  const match = SHARE_PATH.exec(path);
  return match ? decodeURIComponent(match[1]) : null;
}

export function open(token, shown) {
  frame = shown;
  useShare(token);
  form.addEventListener("submit", sendPassword);
  enter();
}

// What a failed read means for the link: its password is needed, or it is gone.
export function failed(error) {
  if (error.status === 401) askPassword("");
  else if (GONE[error.status]) showClosed(error.status);
  else return false;
  return true;
}

async function enter() {
  document.body.dataset.state = "loading";
  let site;
  try {
    site = await getJson("/site");
  } catch (error) {
    if (!(error instanceof ApiError && failed(error))) showClosed(0, error.message);
    return;
  }
  passwordPanel.hidden = true;
  frame.enter({ kind: "share", sites: [site] });
}

function askPassword(message) {
  frame.close();
  document.body.dataset.state = "password";
  passwordPanel.hidden = false;
  errorLine.textContent = message;
  form.password.focus();
}

async function sendPassword(event) {
  event.preventDefault();
  errorLine.textContent = "";
  try {
    await sendSharePassword(form.password.value);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) errorLine.textContent = "That is not the password of this link.";
    else if (error instanceof ApiError && error.status === 429) errorLine.textContent = tooMany(error.retryAfter);
    else if (!(error instanceof ApiError && failed(error))) errorLine.textContent = `The service did not answer: ${error.message}`;
    return;
  }
  form.reset();
  enter();
}

function tooMany(seconds) {
  const minutes = Math.max(1, Math.ceil(seconds / 60));
  return `Too many wrong passwords. Wait ${minutes} minute${minutes === 1 ? "" : "s"}, then try again.`;
}

// The link's page closed: gone for good (404, 410), or not answered (`detail` says why).
function showClosed(status, detail = "") {
  frame.close();
  passwordPanel.hidden = true;
  document.body.dataset.state = GONE[status] ? "gone" : "error";
  const [title, text] = GONE[status] ?? ["The dashboard could not be opened", `The service did not answer: ${detail}`];
  $("[data-gone-title]", gonePanel).textContent = title;
  $("[data-gone-text]", gonePanel).textContent = text;
  gonePanel.hidden = false;
  gonePanel.dataset.status = status;
}
