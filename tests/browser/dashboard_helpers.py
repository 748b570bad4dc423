"""What the dashboard's browser tests share: seeded traffic, signing in, and reading what a
page shows beside what the API answers."""

from __future__ import annotations

import contextlib
import json
import random
from urllib.parse import urlsplit

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, Route

from helpers import DAY, MINUTE, now_ms

CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/124.0.0.0 Safari/537.36")
IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
          "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1")
HOSTILE_PATH = '/<img src=x onerror="document.title=\'owned\'">'
HOSTILE_EVENT = "<b>bold</b>"
PATHS = ["/", "/pricing", "/docs", HOSTILE_PATH]
REFERRERS = ["", "https://www.google.com/search", "https://news.ycombinator.com/item", "https://github.com/a"]
ADDRESSES = ["8.8.8.8", "81.2.69.142", "2.16.0.1"]  # resolve to different countries
WINDOW = {"timeRange": "7d", "tz": "UTC"}
READY = "body[data-state=ready]"
METRICS = ("visitors", "visits", "pageviews", "bounceRate", "visitDuration")


def seed(server, users: int = 24, seed: int = 7, site: str | None = None) -> None:
    """Visits over the last six days: paths, referrers, two browsers, three addresses, signups;
    of `site` when given (else of the only site)."""
    rng = random.Random(seed)
    now = now_ms()
    named = {"site": site} if site else {}
    with server.client() as client:
        for user in range(users):
            events = []
            for visit in range(rng.randint(1, 3)):
                start = now - rng.randint(10 * MINUTE, 6 * DAY)
                for step, path in enumerate(rng.sample(PATHS, rng.randint(1, 3))):
                    events.append({"userId": f"user-{user}", "sessionId": f"s-{user}-{visit}",
                                   "event": "page_view", "timestamp": start + step * MINUTE,
                                   "data": {"path": path, "host": "example.com",
                                            "referrer": rng.choice(REFERRERS) if step == 0 else ""},
                                   **named})
                if rng.random() < 0.5:
                    events.append({"userId": f"user-{user}", "sessionId": f"s-{user}-{visit}",
                                   "event": rng.choice(["signup", HOSTILE_EVENT]),
                                   "timestamp": start + 5 * MINUTE, "data": {"plan": rng.choice(["free", "pro"])},
                                   **named})
            headers = {"User-Agent": rng.choice([CHROME, IPHONE]),
                       "X-Forwarded-For": rng.choice(ADDRESSES)}
            client.post("/track", json={"events": events}, headers=headers).raise_for_status()
        # Two visitors active now, for the live count.
        for user in ("live-1", "live-2"):
            client.post("/track", json={"userId": user, "sessionId": f"s-{user}", "event": "page_view",
                                        "data": {"path": "/"}, **named}).raise_for_status()


class Watched:
    """A page with every request, console error and page error it caused recorded."""

    def __init__(self, page: Page):
        self.page = page
        self.requests: list = []
        self.errors: list[str] = []
        page.on("request", lambda request: self.requests.append(request))
        page.on("console", lambda message: message.type == "error" and self.errors.append(message.text))
        page.on("pageerror", lambda error: self.errors.append(str(error)))


def sign_in(page: Page, service, query: str = "?range=7d&tz=UTC", remember: bool = False,
            token: str | None = None) -> None:
    """Opens the dashboard and signs in with `token` (the admin's unless given)."""
    page.goto(f"{service.url}/{query}")
    page.fill("input[name=token]", token or service.token)
    if remember:
        page.check("input[name=remember]")
    page.click("form[data-signin] button[type=submit]")
    page.wait_for_selector(READY)


def wait_ready(page: Page) -> None:
    page.wait_for_selector(READY)


def rows(page: Page, dimension: str) -> list[tuple[str | None, int]]:
    panel = page.locator(f'[data-breakdown="{dimension}"]')
    return [(row.get_attribute("data-value"), int(row.get_attribute("data-visitors")))
            for row in panel.locator("[data-row]").all()]


def breakdown(service, by: str, **parameters) -> list[tuple[str | None, int]]:
    with service.client() as client:
        answer = client.get("/breakdown", params={**WINDOW, "by": by, "limit": 10, **parameters})
    answer.raise_for_status()
    return [(row["value"], row["visitors"]) for row in answer.json()["results"]]


def stats(service, **parameters) -> dict:
    with service.client() as client:
        answer = client.get("/stats", params={**WINDOW, **parameters})
    answer.raise_for_status()
    return answer.json()["totals"]


def shown_totals(page: Page) -> dict:
    return {name: float(page.get_attribute(f'[data-metric="{name}"]', "data-raw")) for name in METRICS}


class HeldBack:
    """Holds the first request for `path` back, as a slow answer would be, until `release`;
    lets every later one through."""

    def __init__(self, page: Page, path: str):
        self.urls: list[str] = []
        self.failures: list[str] = []
        self._held: list[Route] = []
        page.route(lambda url: urlsplit(url).path == path, self._handle)
        page.on("requestfailed", lambda request: self._held and request == self._held[0].request
                and self.failures.append(request.failure or ""))

    def _handle(self, route: Route) -> None:
        self.urls.append(route.request.url)
        if self._held:
            route.continue_()
        else:
            self._held.append(route)

    def release(self, body: str, content_type: str) -> None:
        """Answers the held request now, late, with `body`."""
        with contextlib.suppress(PlaywrightError):  # the page gave up on it: nobody to answer
            self._held[0].fulfill(status=200, body=body, content_type=content_type)


def stale_movement(url: str) -> str:
    """A live feed whose only movement comes from the superseded stream."""
    movement = {"userId": "stale-user", "sessionId": "s", "event": "page_view", "timestamp": now_ms(),
                "data": {"path": "/stale"}, "eventId": "stale"}
    return f"id: 1\nevent: movement\ndata: {json.dumps(movement)}\n\n"
