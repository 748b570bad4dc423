// Building elements. Every string goes in as text (textContent or an
// attribute value), never as markup: paths, referrers and event names come
// from visitors' browsers.

export function el(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "dataset") Object.assign(element.dataset, value);
    else if (name === "onclick" || name === "onsubmit" || name === "oninput") element[name] = value;
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  element.append(...children.flat().filter((child) => child !== null && child !== undefined)
    .map((child) => (child instanceof Node ? child : String(child))));
  return element;
}

export function $(selector, root = document) {
  return root.querySelector(selector);
}

export function $$(selector, root = document) {
  return [...root.querySelectorAll(selector)];
}

export function clear(element, ...children) {
  element.replaceChildren(...children);
  return element;
}

const integer = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const compact = new Intl.NumberFormat(undefined, { notation: "compact", maximumFractionDigits: 1 });
const percent = new Intl.NumberFormat(undefined, { style: "percent", maximumFractionDigits: 1 });

export function count(value) {
  return Math.abs(value) >= 100000 ? compact.format(value) : integer.format(value);
}

export function share(value) {
  return percent.format(value);
}

export function duration(seconds) {
  const whole = Math.round(seconds);
  if (whole < 60) return `${whole}s`;
  const minutes = Math.floor(whole / 60);
  if (minutes < 60) return `${minutes}m ${whole % 60}s`;
  return `${Math.floor(minutes / 60)}h ${minutes % 60}m`;
}

export function dateTime(ms, zone) {
  return new Date(ms).toLocaleString(undefined, {
    timeZone: zone, year: "numeric", month: "short", day: "numeric",
    hour: "2-digit", minute: "2-digit", second: "2-digit",
  });
}

export function day(ms, zone) {
  return new Date(ms).toLocaleDateString(undefined, {
    timeZone: zone, year: "numeric", month: "short", day: "numeric",
  });
}
