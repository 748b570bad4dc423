"""Plausible's and Umami's own scripts, unchanged from npm, pointed at tracker in Chromium.

A page on its own origin loads each script with its documented option for
the address it posts to (`endpoint`, `apiHost`, `data-host-url`) and names
the site as that script does (Plausible's `domain`, Umami's website id); the
service holds two sites, so the site must come from what the script sends.
Its page view, a custom event with properties (and revenue, where the script
sends it) and an outbound link click land in that site and no other, and the
dashboard, on that site, shows its page, source, channel and events as it
shows any other. The scripts are installed by scripts/test-deps.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Request, expect

HERE = Path(__file__).parent
PAGES = HERE / "pages"
SCRIPTS = HERE / "scripts"
NEEDED = [SCRIPTS / "node_modules/@plausible-analytics/tracker/plausible.js",
          SCRIPTS / "node_modules/plausible-tracker/build/module/index.js",
          SCRIPTS / "packed/umami/src/tracker/index.js"]
CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/124.0.0.0 Safari/537.36")
QUERY = "?utm_source=newsletter&utm_medium=email"
REFERRER = "https://news.example/item"
PARTNER = "https://elsewhere.example/partner"
OUTBOUND = "Outbound Link: Click"
SHOP = "shop.example"  # the domain the test pages give Plausible's scripts
WINDOW = {"timeRange": "24h", "tz": "UTC"}


@pytest.fixture(scope="module", autouse=True)
def installed() -> None:
    missing = [str(path.relative_to(HERE)) for path in NEEDED if not path.exists()]
    if missing and not os.environ.get("CI"):
        pytest.skip(f"run scripts/test-deps to install the other tools' scripts: {missing}")
    assert not missing, f"scripts/test-deps did not install {missing}"


class ScriptPages(BaseHTTPRequestHandler):
    """The test pages, with __SERVICE__ and __UMAMI__ filled in, and the installed scripts."""

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path.startswith("/scripts/") and path.endswith(".js"):
            file = (HERE / path.lstrip("/")).resolve()
            if file.is_relative_to(SCRIPTS) and file.is_file():
                self._answer(file.read_bytes(), "text/javascript")
                return
        page = PAGES / Path(path).name
        if page.suffix == ".html" and page.is_file():
            text = page.read_text().replace("__SERVICE__", self.server.service_url)
            self._answer(text.replace("__UMAMI__", self.server.umami_id).encode(), "text/html")
            return
        self.send_error(404)

    def _answer(self, body: bytes, content_type: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", f"{content_type}; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args) -> None:
        pass


@contextlib.contextmanager
def pages_for(service_url: str, umami_id: str) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), ScriptPages)
    server.service_url, server.umami_id = service_url, umami_id
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def visitor(browser: Browser) -> Iterator[BrowserContext]:
    """A desktop Chrome visitor (the bot filter drops HeadlessChrome); the partner site answers."""
    context = browser.new_context(user_agent=CHROME)
    context.route(PARTNER, lambda route: route.fulfill(body="<title>Partner</title>", content_type="text/html"))
    yield context
    context.close()


@pytest.fixture
def service(tracker_server):
    """Two sites with domains: `default` (example.com) and SHOP, which the pages name."""
    server = tracker_server()
    with server.client() as http:
        http.patch("/sites/default", json={"domains": ["example.com"]}).raise_for_status()
        http.post("/sites", json={"id": SHOP, "domains": [SHOP, f"www.{SHOP}"]}).raise_for_status()
    return server


def shop(service) -> dict:
    with service.client() as http:
        answer = http.get(f"/sites/{SHOP}")
    answer.raise_for_status()
    return answer.json()


def breakdown(service, by: str, site: str = SHOP, **parameters) -> dict:
    with service.client() as http:
        answer = http.get("/breakdown", params={**WINDOW, "site": site, "by": by, **parameters})
    answer.raise_for_status()
    return {row["value"]: row for row in answer.json()["results"]}


def wait_for_events(service, wanted: dict[str, int], timeout: float = 15) -> dict:
    """The event breakdown once it counts `wanted` (then a moment longer, to catch extra ones)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = {name: row["events"] for name, row in breakdown(service, "event").items()}
        if all(found.get(name, 0) >= count for name, count in wanted.items()):
            time.sleep(0.5)
            return {name: row["events"] for name, row in breakdown(service, "event").items()}
        time.sleep(0.1)
    return found


def posts(context: BrowserContext, path: str) -> Callable[[], list[dict]]:
    """The JSON bodies the page posts to the service's `path`, as they are sent."""
    sent: list[dict] = []

    def record(request: Request) -> None:
        if request.method == "POST" and urlsplit(request.url).path == path:
            sent.append(json.loads(request.post_data or "null"))

    context.on("request", record)
    return lambda: sent


def visit(context: BrowserContext, origin: str, page_name: str) -> Page:
    page = context.new_page()
    page.goto(f"{origin}/{page_name}{QUERY}", referer=REFERRER)
    return page


def assert_dashboard_shows(page: Page, service, page_name: str, events: set[str]) -> None:
    """The dashboard on SHOP: its page, source, channel and event panels show what was sent,
    and equal /breakdown."""
    page.goto(f"{service.url}/?site={SHOP}&range=24h&tz=UTC")
    page.fill("input[name=token]", service.token)
    page.click("form[data-signin] button[type=submit]")
    page.wait_for_selector("body[data-state=ready]")
    expect(page.locator("[data-site]")).to_have_value(SHOP)
    expected = {"page": {f"/{page_name}"}, "source": {"newsletter"}, "channel": {"Email"},
                "event": {"page_view", *events}}
    for dimension, values in expected.items():
        if dimension != "page":  # the first tab of its card
            page.locator(f'[data-tab="{dimension}"]').click()
        panel = page.locator(f'[data-breakdown="{dimension}"]')
        expect(panel).not_to_have_attribute("aria-busy", "true")
        expect(panel.locator("[data-row]")).to_have_count(len(values))
        shown = {row.get_attribute("data-value"): int(row.get_attribute("data-visitors"))
                 for row in panel.locator("[data-row]").all()}
        assert set(shown) == values, dimension
        assert shown == {value: row["visitors"] for value, row in breakdown(service, dimension).items()}


def assert_page_view_landed(service, page_name: str) -> None:
    """In SHOP, and nothing in the other site."""
    assert {path: row["pageviews"] for path, row in breakdown(service, "page").items()} == {f"/{page_name}": 1}
    assert list(breakdown(service, "utmSource")) == ["newsletter"]
    assert list(breakdown(service, "referrer")) == ["news.example"]
    assert list(breakdown(service, "browser")) == ["Chrome"]
    assert breakdown(service, "event", site="default") == {}


@pytest.mark.parametrize("page_name", ["plausible-npm.html", "plausible-tracker.html"])
def test_plausibles_scripts(service, visitor, page_name):
    sent = posts(visitor, "/api/event")
    with pages_for(service.url, shop(service)["umamiId"]) as origin:
        page = visit(visitor, origin, page_name)
        assert wait_for_events(service, {"page_view": 1}) == {"page_view": 1}
        page.click("#buy")
        assert wait_for_events(service, {"page_view": 1, "Purchase": 1}) == {"page_view": 1, "Purchase": 1}
        page.click("#outbound")
        page.wait_for_url(PARTNER)
        events = wait_for_events(service, {OUTBOUND: 1})
    assert events == {"page_view": 1, "Purchase": 1, OUTBOUND: 1}  # engagement counts no event
    assert_page_view_landed(service, page_name)
    assert list(breakdown(service, "prop:plan", event="Purchase")) == ["pro"]
    assert list(breakdown(service, "prop:url", event=OUTBOUND)) == [PARTNER]
    if page_name == "plausible-npm.html":  # its script sends revenue, which the movement keeps
        assert {"amount": "19.90", "currency": "EUR"} in [body.get("$") for body in sent()]
        with service.client() as http:
            http.post(f"/sites/{SHOP}/goals", json={"event": "Purchase"}).raise_for_status()
        purchase = breakdown(service, "goal")["Purchase"]
        assert purchase["revenue"] == {"EUR": {"total": "19.90", "average": "19.90"}}
    assert {body.get("d", body.get("domain")) for body in sent()} == {SHOP}
    assert_dashboard_shows(visitor.new_page(), service, page_name, {"Purchase", OUTBOUND})


def test_umamis_script(service, visitor):
    sent = posts(visitor, "/api/send")
    with pages_for(service.url, shop(service)["umamiId"]) as origin:
        page = visit(visitor, origin, "umami.html")
        assert wait_for_events(service, {"page_view": 1}) == {"page_view": 1}
        page.click("#buy")
        assert wait_for_events(service, {"page_view": 1, "Purchase": 1}) == {"page_view": 1, "Purchase": 1}
        with page.expect_response(lambda answer: answer.url.endswith("/api/send")) as identified:
            page.evaluate("umami.identify({plan: 'pro'})")  # data about the session: nothing stored
        assert identified.value.status == 200
    assert wait_for_events(service, {}) == {"page_view": 1, "Purchase": 1}
    assert_page_view_landed(service, "umami.html")
    assert list(breakdown(service, "prop:plan", event="Purchase")) == ["pro"]
    assert [body["type"] for body in sent()] == ["event", "event", "identify"]
    assert_dashboard_shows(visitor.new_page(), service, "umami.html", {"Purchase"})
