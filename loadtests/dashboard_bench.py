"""Dashboard benchmark: how long the page takes to fill in headless Chromium.

    .venv/bin/python loadtests/dashboard_bench.py --data-dir /tmp/tracker-web-bench --repeats 10

Starts the real service on 127.0.0.1 over an existing data set (the web
data set of `analytics_bench.py --web`, which builds it), then in headless
Chromium times, for each repeat in a fresh browser context:

- first render: from navigating to `/?range=30d` with the token already in
  sessionStorage until `body[data-state=ready]`, when the totals, chart and
  every breakdown card hold their answers;
  `--timeline` prints when each of its requests started and ended;
- filter click: from clicking the top row of the Sources card until the
  whole page is ready again with that filter.

Prints p50 and max of both against the targets (1.5 s and 0.5 s).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from analytics_bench import TOKEN, start_service
from playwright.sync_api import Page, Request, sync_playwright

CHROMIUM = "/usr/bin/chromium"
READY = "body[data-state=ready]"
TARGETS_MS = {"first render, 30d": 1500, "filter click, 30d": 500}


def first_render(page: Page, url: str, timeline: bool = False) -> float:
    """With `timeline`, also print when each request of the render started and ended."""
    started = time.perf_counter()
    seen: list[tuple[float, str, str]] = []
    if timeline:
        def note(kind: str) -> Callable[[Request], None]:
            return lambda request: seen.append((time.perf_counter() - started, kind,
                                                request.url.removeprefix(url)))
        page.on("request", note("start"))
        page.on("requestfinished", note("end"))
    page.goto(f"{url}/?view=overview&range=30d")
    page.wait_for_selector(READY, timeout=120_000)
    took = (time.perf_counter() - started) * 1000
    for at, kind, what in sorted(seen):
        print(f"{at * 1000:7,.0f} ms {kind:<5} {what[:100]}")
    if timeline:
        print(f"{took:7,.0f} ms ready")
    return took


def filter_click(page: Page) -> float:
    row = page.locator('[data-breakdown="channel"] [data-row] button').first
    started = time.perf_counter()
    row.click()
    page.wait_for_selector("[data-filter]")
    page.wait_for_selector(READY, timeout=120_000)
    return (time.perf_counter() - started) * 1000


def measure(url: str, repeats: int, timeline: bool = False) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = {name: [] for name in TARGETS_MS}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM,
                                             args=["--headless", "--no-sandbox", "--disable-gpu"])
        for _ in range(repeats):
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            context.add_init_script(f"sessionStorage.setItem('tracker.readToken', {TOKEN!r})")
            page = context.new_page()
            timings["first render, 30d"].append(first_render(page, url, timeline))
            timings["filter click, 30d"].append(filter_click(page))
            context.close()
        browser.close()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/tracker-web-bench"))
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--timeline", action="store_true",
                        help="print each first render's requests as the page saw them")
    args = parser.parse_args()
    if not (args.data_dir / "manifest.json").exists():
        raise SystemExit(f"{args.data_dir} holds no data set: build it with analytics_bench.py --web")
    service = start_service(args.data_dir, None, args.port, args.workers)
    try:
        timings = measure(f"http://127.0.0.1:{args.port}", args.repeats, args.timeline)
    finally:
        service.terminate()
        service.wait(60)
    print(f"dashboard, {args.data_dir}, {args.workers} worker(s), {args.repeats} repeats")
    print("| measure | p50 ms | max ms | target ms |")
    print("|---|---|---|---|")
    for name, values in timings.items():
        print(f"| {name} | {statistics.median(values):,.0f} | {max(values):,.0f} | {TARGETS_MS[name]:,} |")


if __name__ == "__main__":
    main()
