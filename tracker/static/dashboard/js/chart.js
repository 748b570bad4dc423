// The visitors and page views time series, drawn with the vendored uPlot.
// The legend under the chart shows the hovered bucket's values.

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

  draw(answer) {
    this.last = answer;
    if (!answer) return;
    const xs = answer.series.map((bucket) => bucket.t / 1000);
    const data = [xs, answer.series.map((bucket) => bucket.visitors), answer.series.map((bucket) => bucket.pageviews)];
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
        { label: "Page views", stroke: cssColor("--second"), width: 2, points: { show: false } },
      ],
    };
  }
}
