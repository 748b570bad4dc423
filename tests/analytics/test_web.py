"""GET /stats and GET /breakdown: every answer equals the brute-force count of web_reference.

Random visits are posted in batches, each batch with its own `User-Agent` and
client address (named in `X-Forwarded-For` by a trusted proxy), then asked
over windows that cut through visits, in several zones, with filters, for
every `by`. The enrichment a visit should get is hard-coded below (checked
once by hand against ua-parser and iptocc), so the reference never calls the
service's own parsers.
"""

from __future__ import annotations

import contextlib
import math
import tempfile
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

import web_reference as reference
from helpers import DAY, HOUR, MINUTE, PEER, PROXY, TOKEN, service_env
from tracker.analytics import visit_chains
from tracker.app import create_app
from tracker.config import Config

ZONES = [None, "Asia/Kolkata", "America/New_York", "Australia/Lord_Howe"]

IPAD = ("Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.4 Mobile/15E148 Safari/604.1")
# What ua-parser 1.0.2 (builtins 202610) with the spec's device classes, and iptocc 3.3.170,
# gave for these when they were written down.
AGENTS = {
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36": ("Chrome", "Windows", "desktop"),
    "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0":
        ("Firefox", "Linux", "desktop"),
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.4 Mobile/15E148 Safari/604.1": ("Mobile Safari", "iOS", "mobile"),
    IPAD: ("Mobile Safari", "iOS", "tablet"),
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Mobile Safari/537.36": ("Chrome Mobile", "Android", "mobile"),
    "Mozilla/5.0 (Linux; Android 13; SM-X200) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36": ("Chrome", "Android", "tablet"),
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Safari/605.1.15": ("Safari", "Mac OS X", "desktop"),
    "TotallyUnknownAgent/1.0": (None, None, None),
}
COUNTRIES = {"8.8.8.8": "US", "2001:4860:4860::8888": "US", "194.25.2.129": "DE",
             "212.58.244.20": "GB", "10.0.0.1": None, "127.0.0.1": None}

USERS = ["alice", "bob", "carol", "dave"]
SESSIONS = ["s1", "s2", "s3", "s4"]
PATHS = ["/", "/pricing", "/docs:intro", "/blog/ü", 7, None]
REFERRERS = ["", "https://www.google.de/", "https://t.co/x", "https://blog.example.org/post",
             "https://example.com/internal", "not a url", "https://www.bing.com/search?q=a",
             "https://www.facebook.com/", "https://yandex.com.tr/search", "https://chatgpt.com/c/1",
             "https://docs.google.com/d/1", "https://www.amazon.com/dp/1", "https://t.me/channel",
             "https://www.youtube.com/watch", None]
PROPERTY_KEYS = ["plan", "n", "ok", "obj", "path", "target", "missing"]
EVENTS = ["page_view", "click", "signup"]
BREAKDOWNS = [*reference.VISIT_DIMENSIONS, "page", "event"]
LENGTHS = [1, MINUTE, HOUR - 1, HOUR, 90 * MINUTE, 5 * HOUR, 6 * HOUR + 40 * MINUTE,
           6 * HOUR + 41 * MINUTE, DAY + 7, 3 * DAY, 16 * DAY + 16 * HOUR, 16 * DAY + 17 * HOUR,
           31 * DAY]


def oldest(now: int) -> int:
    return now - 30 * DAY + 3 * HOUR  # ingest refuses movements more than 30 days old


CLUSTERS_AGO = [3 * DAY, 10 * DAY - 7, 29 * DAY]
"""How long before now visits crowd together, so that windows find several."""


def midnights(now: int) -> list[int]:
    """Every tested zone's midnights within a day of each cluster: where 1d buckets cut."""
    found = []
    for zone in ZONES:
        clock = ZoneInfo(zone or "UTC")
        for ago in CLUSTERS_AGO:
            day = datetime.fromtimestamp((now - ago - DAY) / 1000, clock).date()
            for _ in range(3):
                found.append(int(datetime(day.year, day.month, day.day, tzinfo=clock)
                                 .timestamp() * 1000))
                day = day.fromordinal(day.toordinal() + 1)
    return sorted(t for t in found if oldest(now) + HOUR < t < now - 3 * HOUR)


def visit_starts(now: int, boundaries: list[int]) -> st.SearchStrategy:
    clusters = [now - ago for ago in CLUSTERS_AGO]
    near_cluster = st.builds(lambda t, d: t + d, st.sampled_from(clusters),
                             st.integers(-3 * HOUR, 3 * HOUR))
    return st.one_of(
        near_cluster, near_cluster,
        st.builds(lambda t, d: t + d, st.sampled_from(boundaries),
                  st.integers(-40 * MINUTE, 40 * MINUTE)),
        st.integers(oldest(now), now - 3 * HOUR),
        st.integers(now - 5 * HOUR, now - 3 * HOUR),
    )


utms = st.fixed_dictionaries({}, optional={
    "source": st.sampled_from(["google", "newsletter", "partner", "facebook", "fb-ads", "yt", "sms", ""]),
    "medium": st.sampled_from(["cpc", "banner", "paid_social", "email", "affiliate", "social", "referral"]),
    "campaign": st.sampled_from(["spring:sale", "launch", "cross-network", "e-shop"]),
    "term": st.just("shoes"),
    "content": st.just("hero"),
})

page_view_data = st.fixed_dictionaries({"path": st.sampled_from(PATHS)}, optional={
    "host": st.sampled_from(["example.com", "www.example.com"]),
    "referrer": st.sampled_from(REFERRERS),
    "utm": utms,
    "clickId": st.sampled_from([{"gclid": True}, {"msclkid": True}, {"gclid": "Cj0K"}]),
    "plan": st.just("pro"),
})

signup_data = st.fixed_dictionaries({}, optional={
    "plan": st.sampled_from(["pro", "free", "", "Zürich", "zebra", None]),
    "n": st.sampled_from([3, 0, -1, 2.5, 1.0]),
    "ok": st.booleans(),
    "obj": st.sampled_from([{"a": 1}, [1, 2]]),
})

click_data = st.fixed_dictionaries({}, optional={"target": st.sampled_from(["buy", "nav"]),
                                                 "n": st.just(3)})

steps = st.one_of(
    st.tuples(st.just("page_view"), page_view_data),
    st.tuples(st.just("page_view"), page_view_data),
    st.tuples(st.just("click"), click_data),
    st.tuples(st.just("signup"), signup_data),
)
offsets = st.sampled_from([0, 0, 1, MINUTE]) | st.integers(0, 2 * HOUR)


def visits(now: int, boundaries: list[int]) -> st.SearchStrategy:
    """The movements of one visit: a start and up to five steps at most two hours after it."""
    return st.builds(
        lambda user, session, start, taken: [
            {"userId": user, "sessionId": session, "event": event, "timestamp": start + offset,
             "data": data} for offset, (event, data) in taken],
        st.sampled_from(USERS), st.sampled_from(SESSIONS), visit_starts(now, boundaries),
        st.lists(st.tuples(offsets, steps), min_size=1, max_size=5)
        | st.tuples(offsets, steps).map(lambda step: [step]))


def batches(movements: list[dict]) -> st.SearchStrategy:
    """The movements in posting order, cut into batches, each with a User-Agent and address."""
    contexts = st.tuples(st.sampled_from(sorted(AGENTS)), st.sampled_from(sorted(COUNTRIES)))

    def cut(order: list[dict], sizes: list[int], chosen: list[tuple]) -> list[tuple]:
        found, start = [], 0
        for size, context in zip(sizes, chosen):
            if start < len(order):
                found.append((*context, order[start:start + size]))
                start += size
        return found

    return st.builds(cut, st.permutations(movements),
                     st.lists(st.integers(1, 8), min_size=len(movements), max_size=len(movements)),
                     st.lists(contexts, min_size=len(movements), max_size=len(movements)))


def stored_of(posted: list[tuple]) -> list[dict]:
    """What the service stores, in storage order, with the context each request gives."""
    stored = []
    for agent, address, events in posted:
        browser, os, device = AGENTS[agent]
        context = {"browser": browser, "os": os, "device": device,
                   "country": COUNTRIES[address], "region": None, "city": None}
        stored += [{**event, **context} for event in events]
    return stored


def traffic(now: int, boundaries: list[int]) -> st.SearchStrategy:
    """(the requests browsers send, what the service stores of them)."""
    return st.lists(visits(now, boundaries), min_size=2, max_size=15).flatmap(
        lambda made: batches([m for visit in made for m in visit])).map(
        lambda posted: (posted, stored_of(posted)))


def filter_values(stored: list[dict], start: int, end: int) -> dict[str, list[str]]:
    """For each dimension, the values of the visits the window sees, and one no visit has."""
    visits = [v for v in reference.build_visits(stored)
              if any(start <= m["timestamp"] < end for m in v.movements)]
    found = {d: {v.dimensions[d] for v in visits} for d in reference.VISIT_DIMENSIONS}
    found["page"] = set().union(set(), *(v.paths for v in visits))
    # Mostly values some visit has: a filter that passes nothing tests little.
    return {d: sorted(values - {None}) * 3 + ["nope"] for d, values in found.items()}


def one_dimension(values: dict[str, list[str]], dimensions: Iterable[str]) -> st.SearchStrategy:
    """Filters on one of these dimensions: one value, sometimes two."""
    return st.sampled_from(sorted(dimensions)).flatmap(
        lambda d: st.lists(st.sampled_from(values[d]), min_size=1, max_size=2, unique=True)
        .map(lambda chosen: [f"{d}:{value}" for value in chosen]))


def filters(values: dict[str, list[str]]) -> st.SearchStrategy:
    """One to three filters; sometimes two values on one dimension."""
    one = one_dimension(values, reference.FILTER_DIMENSIONS)
    return st.one_of(one, st.lists(one, min_size=2, max_size=2).map(
        lambda groups: [text for group in groups for text in group][:3]))


def windows(moments: list[int], boundaries: list[int]) -> st.SearchStrategy:
    """Windows around a movement (from exactly at it to ending just before it), or starting
    near a movement or a midnight: they cut through visits."""
    lengths = st.sampled_from(LENGTHS) | st.integers(2 * HOUR, 2 * DAY)
    around = st.builds(lambda at, length, eighths: (at - length * eighths // 8,
                                                    at - length * eighths // 8 + length),
                       st.sampled_from(moments), lengths, st.integers(0, 8))
    near = st.builds(lambda anchor, shift, length: (anchor + shift, anchor + shift + length),
                     st.sampled_from(moments) | st.sampled_from(boundaries),
                     st.integers(-2 * HOUR, 2 * HOUR) | st.sampled_from([-1, 0, 1]), lengths)
    return around | around | near


def queries(stored: list[dict], boundaries: list[int],
            chosen_filters: Callable[[dict[str, list[str]]], st.SearchStrategy] | None = None,
            ) -> st.SearchStrategy:
    """Queries whose filters are drawn by `chosen_filters` (from the values the window sees),
    or are none or any `filters`."""
    moments = [m["timestamp"] for m in stored]
    filtered = chosen_filters or (lambda values: st.just([]) | filters(values))
    return windows(moments, boundaries).flatmap(lambda window: st.fixed_dictionaries({
        "window": st.just(window),
        "zone": st.sampled_from(ZONES),
        "filters": filtered(filter_values(stored, *window)),
        "compare": st.booleans(),
        "by": st.sampled_from([*BREAKDOWNS, *(f"prop:{key}" for key in PROPERTY_KEYS)]),
        "event": st.sampled_from(EVENTS),
        "limit": st.none() | st.integers(1, 12) | st.just(1000),
    }))


@contextlib.contextmanager
def fresh_client(data_dir: Path) -> Iterator[TestClient]:
    """The app as `make_client` builds it, with its own data directory for one example."""
    config = Config.from_env(service_env(data_dir, **PROXY))
    with TestClient(create_app(config), headers={"Authorization": f"Bearer {TOKEN}"},
                    client=(PEER, 50000)) as client:
        yield client


@contextlib.contextmanager
def serving(posted: list[tuple]) -> Iterator[TestClient]:
    """A fresh app that has taken every request of `posted`."""
    with tempfile.TemporaryDirectory() as tmp, fresh_client(Path(tmp) / "data") as client:
        for agent, address, events in posted:
            post(client, agent, address, events)
        yield client


def post(client: TestClient, agent: str, address: str, events: list[dict]) -> None:
    response = client.post("/track", json={"events": events},
                           headers={"User-Agent": agent, "X-Forwarded-For": address})
    assert response.status_code == 200, response.text


def window_params(query: dict) -> list[tuple[str, object]]:
    params = [("from", query["window"][0]), ("to", query["window"][1])]
    params += [("tz", query["zone"])] if query["zone"] else []
    return params + [("filter", text) for text in query["filters"]]


def ask(client: TestClient, path: str, params: list[tuple[str, object]]) -> dict:
    response = client.get(path, params=params)
    assert response.status_code == 200, f"{path} {params}: {response.status_code} {response.text}"
    return response.json()


def difference(actual: object, expected: object, where: str = "answer") -> str | None:
    """Where two answers first differ (floats within a relative 1e-9), or None."""
    if isinstance(expected, float):
        close = isinstance(actual, (int, float)) and not isinstance(actual, bool) and \
            math.isclose(actual, expected, rel_tol=1e-9)
        return None if close else f"{where}: {actual!r} != {expected!r}"
    if isinstance(expected, dict):
        if not isinstance(actual, dict) or actual.keys() != expected.keys():
            return f"{where}: {actual!r} != {expected!r}"
        return next(filter(None, (difference(actual[k], expected[k], f"{where}.{k}")
                                  for k in expected)), None)
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return f"{where}: {actual!r} != {expected!r}"
        return next(filter(None, (difference(a, e, f"{where}[{i}]")
                                  for i, (a, e) in enumerate(zip(actual, expected)))), None)
    same = actual == expected and type(actual) is type(expected)
    return None if same else f"{where}: {actual!r} != {expected!r}"


def check_stats(client: TestClient, stored: list[dict], query: dict) -> None:
    params = window_params(query) + ([("compare", "previous")] if query["compare"] else [])
    expected = reference.stats(stored, *query["window"], query["zone"], query["filters"],
                               query["compare"])
    found = difference(ask(client, "/stats", params), expected)
    assert found is None, f"/stats {params}: {found}"


def check_breakdown(client: TestClient, stored: list[dict], query: dict, by: str) -> None:
    params = window_params(query) + [("by", by)]
    event = query["event"] if by.startswith("prop:") else None
    params += [("event", event)] if event else []
    params += [("limit", query["limit"])] if query["limit"] else []
    expected = reference.breakdown(stored, by, *query["window"], query["filters"],
                                   query["limit"] or 10, event)
    found = difference(ask(client, "/breakdown", params), expected)
    assert found is None, f"/breakdown {params}: {found}"


def test_stats_and_breakdowns_equal_a_brute_force_count(now):
    # Hypothesis needs the same strategies for every example, so the clock is read once.
    boundaries = midnights(now)

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(sent=traffic(now, boundaries), data=st.data())
    def stats_and_breakdowns_equal_a_brute_force_count(sent, data):
        posted, stored = sent
        first, *others = data.draw(st.lists(queries(stored, boundaries), min_size=1, max_size=3))
        with serving(posted) as client:
            for by in [*BREAKDOWNS, *(f"prop:{key}" for key in PROPERTY_KEYS)]:
                check_breakdown(client, stored, first, by)
            for query in [first, *others]:
                check_stats(client, stored, query)
            for query in others:
                check_breakdown(client, stored, query, query["by"])

    stats_and_breakdowns_equal_a_brute_force_count()


def test_a_filter_on_one_chained_dimension_alone_equals_a_brute_force_count(now):
    """Such a filter is read through the value's chain (no distinct count): stats, and
    breakdowns by the chained dimensions, the filtered one among them."""
    boundaries = midnights(now)

    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(sent=traffic(now, boundaries), data=st.data())
    def chained_filters_equal_a_brute_force_count(sent, data):
        posted, stored = sent
        chained = data.draw(st.lists(queries(
            stored, boundaries, lambda values: one_dimension(values, visit_chains.CHAINED)),
            min_size=1, max_size=3))
        with serving(posted) as client:
            for query in chained:
                check_stats(client, stored, query)
                for by in visit_chains.CHAINED:
                    check_breakdown(client, stored, query, by)

    chained_filters_equal_a_brute_force_count()


# Worked examples of the spec's rules, end to end.

FIREFOX_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0"


def visit(user: str, at: int, *steps: tuple[int, str, dict]) -> list[dict]:
    return [{"userId": user, "sessionId": f"{user}-s", "event": event, "timestamp": at + offset,
             "data": data} for offset, event, data in steps]


def last_day(now: int) -> dict:
    return {"from": now - DAY, "to": now}


def breakdown_of(client: TestClient, now: int, by: str) -> list[dict]:
    return ask(client, "/breakdown", [*last_day(now).items(), ("by", by)])["results"]


def test_a_google_referrer_is_organic_search_from_google(web_client, now):
    post(web_client, FIREFOX_LINUX, "8.8.8.8", visit("u1", now - HOUR, (0, "page_view", {
        "path": "/", "host": "example.com", "referrer": "https://www.google.de/"})))
    assert [r["value"] for r in breakdown_of(web_client, now, "referrer")] == ["google.de"]
    assert [r["value"] for r in breakdown_of(web_client, now, "source")] == ["Google"]
    assert [r["value"] for r in breakdown_of(web_client, now, "channel")] == ["Organic Search"]


def test_utm_cpc_from_google_is_paid_search(web_client, now):
    post(web_client, FIREFOX_LINUX, "8.8.8.8", visit("u1", now - HOUR, (0, "page_view", {
        "path": "/", "host": "example.com", "utm": {"source": "google", "medium": "cpc"}})))
    assert [r["value"] for r in breakdown_of(web_client, now, "source")] == ["google"]
    assert [r["value"] for r in breakdown_of(web_client, now, "utmMedium")] == ["cpc"]
    assert [r["value"] for r in breakdown_of(web_client, now, "channel")] == ["Paid Search"]


def test_an_ipad_is_a_tablet_and_8_8_8_8_is_in_the_us(web_client, now):
    post(web_client, IPAD, "8.8.8.8", visit("u1", now - HOUR, (0, "page_view", {"path": "/"})))
    assert breakdown_of(web_client, now, "device") == [
        {"value": "tablet", "visitors": 1, "visits": 1, "pageviews": 1, "bounceRate": 1.0,
         "visitDuration": 0.0}]
    assert [r["value"] for r in breakdown_of(web_client, now, "browser")] == ["Mobile Safari"]
    assert [r["value"] for r in breakdown_of(web_client, now, "os")] == ["iOS"]
    assert [r["value"] for r in breakdown_of(web_client, now, "country")] == ["US"]


def test_a_country_filter_narrows_every_total(web_client, now):
    two_minutes = visit("us", now - 2 * HOUR, (0, "page_view", {"path": "/"}),
                        (2 * MINUTE, "page_view", {"path": "/pricing"}), (MINUTE, "click", {}))
    bounced = visit("de", now - HOUR, (0, "page_view", {"path": "/"}))
    post(web_client, FIREFOX_LINUX, "8.8.8.8", two_minutes)
    post(web_client, FIREFOX_LINUX, "194.25.2.129", bounced)
    everyone = ask(web_client, "/stats", list(last_day(now).items()))["totals"]
    assert everyone == {"visitors": 2, "visits": 2, "pageviews": 3, "bounceRate": 0.5,
                        "visitDuration": 60.0}
    in_us = ask(web_client, "/stats", [*last_day(now).items(), ("filter", "country:US")])["totals"]
    assert in_us == {"visitors": 1, "visits": 1, "pageviews": 2, "bounceRate": 0.0,
                     "visitDuration": 120.0}


@pytest.mark.parametrize("key", ["what?", "it's", 'say "hi"', "a.b", "$.path", "x) OR 1=1 --"])
def test_a_property_key_is_matched_exactly_whatever_it_holds(web_client, now, key):
    post(web_client, FIREFOX_LINUX, "8.8.8.8", visit("u1", now - HOUR, (0, "signup", {key: "yes"}),
                                                    (MINUTE, "signup", {"other": "no"})))
    query = [*last_day(now).items(), ("by", f"prop:{key}"), ("event", "signup")]
    assert ask(web_client, "/breakdown", query)["results"] == [
        {"value": "yes", "visitors": 1, "visits": 1, "events": 1},
        {"value": None, "visitors": 1, "visits": 1, "events": 1}]

