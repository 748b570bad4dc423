// The visitors and page views time series, drawn with the vendored uPlot.
// The legend under the chart shows the hovered bucket's values. A bucket the
// window cuts (the first, when the window starts inside it; the last, while
// it is still going on) is drawn dashed and lighter, as a series of its own
// marked "partial", so that its lower count does not read as a fall.

import uPlot from "../vendor/uPlot.esm.js";

const HEIGHT = 240;

function cssColor(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

export class SeriesChart {
  constructor(container) {
    this.container = container;
    this.plot = null;
    new ResizeObserver(() => this.plot?.setSize(this.size())).observe(container);
    matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => this.draw(this.last));
  }

  size() {
    return { width: Math.max(200, this.container.clientWidth), height: HEIGHT };
  }

  // answer: /stats's, with its zone and partial: {first, last}, whether those buckets are cut.
  draw(answer) {
    this.last = answer;
    if (!answer) return;
    const xs = answer.series.map((bucket) => bucket.t / 1000);
    const partial = partialIndexes(answer.series.length, answer.partial);
    this.container.dataset.partial = [answer.partial.first && "first", answer.partial.last && "last"].filter(Boolean).join(" ");
    const data = [xs];
    for (const metric of ["visitors", "pageviews"]) {
      const values = answer.series.map((bucket) => bucket[metric]);
      data.push(values.map((value, index) => (partial.has(index) ? null : value)));
      data.push(values.map((value, index) => (touchesPartial(index, partial) ? value : null)));
    }
    this.plot?.destroy();
    this.plot = new uPlot(this.options(answer), data, this.container);
  }

  options(answer) {
    const axis = cssColor("--muted");
    const grid = cssColor("--line");
    const daily = answer.bucket === "1d";
    const zone = answer.zone;
    return {
      ...this.size(),
      tzDate: (seconds) => uPlot.tzDate(new Date(seconds * 1000), zone),
      cursor: { drag: { x: false, y: false } },
      legend: { live: true },
      scales: { x: { time: true }, y: { range: (plot, min, max) => [0, Math.max(1, max * 1.1)] } },
      axes: [
        {
          stroke: axis, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid },
          // Daily buckets get a tick per day (or week), labelled with the date alone.
          ...(daily ? { incrs: [86400, 2 * 86400, 7 * 86400, 14 * 86400], values: "{MMM} {D}", space: 48 } : {}),
        },
        { stroke: axis, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid }, size: 56 },
      ],
      series: [
        { label: daily ? "Day" : "Time", value: daily ? "{YYYY}-{MM}-{DD}" : "{YYYY}-{MM}-{DD} {HH}:{mm}" },
        { label: "Visitors", stroke: cssColor("--accent"), width: 2, fill: cssColor("--accent-fill"), points: { show: false } },
        partialSeries("Visitors, partial bucket", cssColor("--accent")),
        { label: "Page views", stroke: cssColor("--second"), width: 2, points: { show: false } },
        partialSeries("Page views, partial bucket", cssColor("--second")),
      ],
    };
  }
}

function partialSeries(label, color) {
  return { label, stroke: color, width: 2, dash: [6, 5], alpha: 0.55, points: { show: true, size: 5 } };
}

function partialIndexes(length, { first, last }) {
  const found = new Set();
  if (first && length) found.add(0);
  if (last && length) found.add(length - 1);
  return found;
}

// The dashed series holds the partial buckets and their whole neighbours, so its dashes
// join the solid line.
function touchesPartial(index, partial) {
  return partial.has(index) || partial.has(index - 1) || partial.has(index + 1);
}
