"""Browser fixtures: Debian's headless Chromium through Playwright, and test pages on another origin."""

from __future__ import annotations

import contextlib
import html
import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Request, Route, sync_playwright

from browser.dashboard_helpers import Watched, seed

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-quic",
]
PAGES = Path(__file__).parent / "pages"
CORS = {"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": "Retry-After",
        "Content-Type": "application/json"}


# Package scope: Playwright's sync API keeps an event loop running in the main
# thread while it is open, which would break asyncio.run() in later test files.
@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    if not os.access(CHROMIUM, os.X_OK) and not os.environ.get("CI"):
        pytest.skip(f"{CHROMIUM} is missing: apt-get install chromium "
                    "(make test does it when run as root)")
    with sync_playwright() as playwright:
        # launch() gives every run a fresh temporary --user-data-dir of its own.
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context()
    yield context
    context.close()


@pytest.fixture
def watched(browser: Browser) -> Iterator[Watched]:
    """A desktop-sized page of its own context, every request and error it causes recorded."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    yield Watched(context.new_page())
    context.close()


SHOP = "shop.example"


def serve_two_sites(start):
    """A service with two sites of different traffic: `default` and SHOP."""
    server = start(TRACKER_TRUSTED_PROXIES="127.0.0.1")
    seed(server)  # while `default` is the only site, every event is its
    with server.client() as client:
        client.post("/sites", json={"id": SHOP, "domains": [SHOP]}).raise_for_status()
    seed(server, users=9, seed=3, site=SHOP)
    return server


@pytest.fixture(scope="module")
def two_sites(module_tracker_server):
    """Two sites for the module's tests, which leave the sites as they are (their own keys and
    share links aside)."""
    return serve_two_sites(module_tracker_server)


@pytest.fixture
def own_two_sites(tracker_server):
    """Two sites of the test's own, for a test that adds, changes or deletes sites, or counts
    keys or share links."""
    return serve_two_sites(tracker_server)


class PageHandler(BaseHTTPRequestHandler):
    """Serves pages/*.html with __SERVICE__ (the server's service_url) and __USER__ (?user=) filled in."""

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        path = PAGES / Path(url.path).name
        if path.suffix != ".html" or not path.is_file():
            self.send_error(404)
            return
        user = parse_qs(url.query).get("user", [""])[0]
        text = path.read_text().replace("__SERVICE__", self.server.service_url)
        body = text.replace("__USER__", html.escape(user)).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args) -> None:
        pass


@contextlib.contextmanager
def serve_pages() -> Iterator[ThreadingHTTPServer]:
    """The test pages on their own 127.0.0.1 port, so requests to the service are cross-origin."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), PageHandler)
    server.service_url = ""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


class Service(Protocol):
    """What the tests use of the `tracker_server` fixture's live service."""

    url: str
    token: str

    def client(self): ...
    def start(self) -> object: ...
    def stop(self) -> int: ...


@dataclass
class Sent:
    """A request the browser made to the service, `at` the moment Playwright reported it."""

    method: str
    path: str
    resource_type: str
    content_type: str
    body: str | None
    at: float


@dataclass
class Site:
    """The live service, the page origin and one browser context, with helpers to look at both."""

    service: Service
    origin: str
    context: BrowserContext
    sent: list[Sent] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.context.on("request", self._record)

    def _record(self, request: Request) -> None:
        if request.url.startswith(self.service.url + "/"):
            path = urlsplit(request.url).path
            content_type = request.headers.get("content-type", "")
            self.sent.append(Sent(request.method, path, request.resource_type, content_type,
                                  request.post_data, time.monotonic()))

    def requests(self, path: str) -> list[Sent]:
        return [s for s in self.sent if s.path == path and s.method == "POST"]

    def events(self) -> list[dict]:
        """Every event posted to /track, in the order sent: a retried event appears once per try."""
        return [e for s in self.requests("/track") for e in json.loads(s.body)["events"]]

    def open(self, name: str = "module.html", user: str | None = None, *,
             query: dict | None = None, referer: str | None = None, **options) -> Page:
        page = self.context.new_page()
        page.goto(self.url(name, user, query=query, **options), referer=referer)
        return page

    def pause(self, seconds: float) -> None:
        """Waits while Playwright keeps delivering request events and running route handlers."""
        pages = [page for page in self.context.pages if not page.is_closed()]
        if pages:
            pages[-1].wait_for_timeout(seconds * 1000)
        else:
            time.sleep(seconds)

    def url(self, name: str, user: str | None = None, *, query: dict | None = None,
            **options) -> str:
        params = {"user": user} if user else {}
        params.update(query or {})
        if options:
            params["options"] = json.dumps(options)
        return f"{self.origin}/{name}" + (f"?{urlencode(params)}" if params else "")

    def route(self, path: str, handler: Callable) -> None:
        self.context.route(self.service.url + path, handler)

    def unroute(self, path: str) -> None:
        self.context.unroute(self.service.url + path)

    def accept(self) -> None:
        """Answers /track in the service's place, for events the service does not store yet."""
        def answer(route: Route) -> None:
            count = len(json.loads(route.request.post_data)["events"])
            body = json.dumps({"accepted": count, "duplicates": 0, "ignored": 0})
            route.fulfill(status=200, headers=CORS, body=body)

        self.route("/track", answer)

    def movements(self, user: str, site: str | None = None) -> list[dict]:
        """The user's stored movements, oldest first (of `site`, else of the only site)."""
        params = {"userId": user, "limit": 1000, **({"site": site} if site else {})}
        with self.service.client() as client:
            answer = client.get("/movements", params=params)
        answer.raise_for_status()
        return answer.json()["movements"][::-1]

    def session(self, user: str, session_id: str) -> dict | None:
        with self.service.client() as client:
            answer = client.get("/session", params={"sessionId": session_id, "userId": user})
        return answer.json()["session"] if answer.status_code == 200 else None

    def wait_for_movements(self, user: str, count: int, timeout: float = 10,
                           site: str | None = None) -> list[dict]:
        """Waits until the user has `count` movements, then a moment longer to catch extra ones."""
        deadline = time.monotonic() + timeout
        while len(self.movements(user, site)) < count and time.monotonic() < deadline:
            self.pause(0.1)
        self.pause(0.3)
        return self.movements(user, site)


def origin_of(pages: ThreadingHTTPServer) -> str:
    return f"http://127.0.0.1:{pages.server_address[1]}"


@pytest.fixture(scope="module")
def pages() -> Iterator[ThreadingHTTPServer]:
    with serve_pages() as server:
        yield server


@pytest.fixture(scope="module")
def module_service(module_tracker_server, pages: ThreadingHTTPServer):
    """One service for the module's tests: each tracks users of its own."""
    service = module_tracker_server(TRACKER_READ_ORIGINS=origin_of(pages))
    pages.service_url = service.url
    return service


@pytest.fixture
def site(module_service, pages: ThreadingHTTPServer, context: BrowserContext) -> Site:
    return Site(module_service, origin_of(pages), context)


@pytest.fixture
def own_site(tracker_server, context: BrowserContext) -> Iterator[Site]:
    """A service of the test's own, for a test that stops and starts it."""
    with serve_pages() as own_pages:
        service = tracker_server(TRACKER_READ_ORIGINS=origin_of(own_pages))
        own_pages.service_url = service.url
        yield Site(service, origin_of(own_pages), context)
