"""The README's screenshots: the dashboard on the demo data set, in headless Chromium.

Fills the demo data directory first when needed (as `make demo` does),
serves it on a free 127.0.0.1 port, signs in to `/?range=30d` with its read
token, waits until the dashboard says every panel has its answer
(`body[data-state=ready]`) and saves full-page screenshots:
`docs/dashboard.png` 1280 pixels wide and `docs/dashboard-mobile.png` 375
pixels wide. The browser runs on UTC, so the charts do not depend on where
this runs.

Needs Playwright (the test extra: `make install`) and Debian's Chromium at
/usr/bin/chromium.

Usage: .venv/bin/python scripts/screenshot.py [--data-dir D] [--out DIR]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from playwright.sync_api import Browser, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent))
import demo  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
# The same flags as the browser tests (tests/browser/conftest.py).
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-quic",
]
SHOTS = (("dashboard.png", 1280, 900), ("dashboard-mobile.png", 375, 812))
READY_TIMEOUT_MS = 60_000


def shoot(browser: Browser, url: str, token: str, path: Path, width: int, height: int) -> None:
    context = browser.new_context(viewport={"width": width, "height": height}, timezone_id="UTC",
                                  locale="en-US")
    try:
        page = context.new_page()
        page.goto(f"{url}/?site={demo.demo_traffic.PRODUCT}&range=30d")
        page.fill("input[name=token]", token)
        page.click("form[data-signin] button[type=submit]")
        # A selector, not a predicate: the dashboard's Content-Security-Policy forbids eval.
        page.wait_for_selector("body[data-state=ready]", timeout=READY_TIMEOUT_MS)
        page.evaluate("() => document.fonts.ready.then(() => true)")
        page.screenshot(path=str(path), full_page=True)
    finally:
        context.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Screenshots of the dashboard on the demo data set.")
    parser.add_argument("--data-dir", type=Path, default=demo.DEFAULT_DATA_DIR,
                        help="the demo data directory (default: demo-data/ in the repository)")
    parser.add_argument("--out", type=Path, default=demo.ROOT / "docs",
                        help="where the PNG files go (default: docs/ in the repository)")
    args = parser.parse_args(argv)
    data_dir = args.data_dir.resolve()
    args.out.mkdir(parents=True, exist_ok=True)
    try:
        demo.ensure_filled(data_dir)
        with demo.Service(data_dir) as service, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                for name, width, height in SHOTS:
                    shoot(browser, service.url, demo.read_token(data_dir), args.out / name, width, height)
                    print(f"{args.out / name}: {width} px wide")
            finally:
                browser.close()
    except demo.DemoError as error:
        sys.exit(f"screenshot: {error}")


if __name__ == "__main__":
    main()
