// The admin's settings for the site shown, one panel each: the site itself,
// its goals, its keys and share links, and the list of every site with a form to add
// one. A panel is a module with show(page) (and hide(), if it has timers);
// a new one (reports) is an <article data-panel> in index.html and
// one more entry here.

import * as siteSettings from "./site-settings.js";
import * as goalSettings from "./goal-settings.js";
import * as credentials from "./credentials.js";
import * as siteList from "./site-list.js";

const PANELS = [siteSettings, goalSettings, credentials, siteList];

export async function show(page) {
  await Promise.all(PANELS.map((panel) => panel.show(page)));
}

export function hide() {
  for (const panel of PANELS) panel.hide?.();
}
