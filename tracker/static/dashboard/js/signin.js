// Signing in with a token (the admin's TRACKER_READ_TOKEN or a site key), and out.

import { ApiError, forgetToken, keepToken, storedToken } from "./api.js";
import { $ } from "./dom.js";
import * as sites from "./sites.js";

const panel = $("[data-signin-panel]");
const form = $("[data-signin]");
const errorLine = $("[data-signin-error]");
let frame = null;

export function start(shown) {
  frame = shown;
  form.addEventListener("submit", signIn);
  $("[data-sign-out]").addEventListener("click", () => signOut(""));
  if (storedToken()) enter(storedToken());
  else ask("");
}

export function signOut(message) {
  forgetToken();
  ask(message);
}

function ask(message) {
  frame.close();
  document.body.dataset.state = "signin";
  panel.hidden = false;
  errorLine.textContent = message;
  form.token.focus();
}

async function signIn(event) {
  event.preventDefault();
  const token = form.token.value.trim();
  errorLine.textContent = "";
  let found;
  try {
    found = await sites.reader(token);
  } catch (error) {
    errorLine.textContent = error instanceof ApiError && error.status === 401
      ? "That token was refused. Check TRACKER_READ_TOKEN, the read-token file in the data directory, or the site key."
      : `The service did not answer: ${error.message}`;
    return;
  }
  keepToken(token, form.remember.checked);
  form.reset();
  show(found);
}

async function enter(token) {
  document.body.dataset.state = "loading";
  try {
    show(await sites.reader(token));
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) signOut("The service refused the read token (401). Enter it again.");
    else ask(`The service did not answer (${error.message}). Reload the page to try again.`);
  }
}

function show(found) {
  panel.hidden = true;
  frame.enter(found);
}
