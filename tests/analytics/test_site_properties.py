"""Two sites in one service answer exactly as two services holding one site each.

Random movements of two sites share user ids, session ids, event ids and
browsers (anonymous visitors); each names its site by its `site` field or by
its `data.host` (in any case, with a port), and batches mix the sites. Every
read endpoint, asked for each site, must answer what a service of its own
answers after the same requests with that site's movements only (and no
`site`). Anonymous ids are keyed with a salt of each data directory, so only
identified users are asked about one by one; the anonymous ones count in
every aggregate.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient
from test_web import AGENTS, COUNTRIES, PEER, PROXY, difference

import web_reference as reference
from helpers import DAY, HOUR, MINUTE, TOKEN, service_env
from tracker.app import create_app
from tracker.config import Config

# Sessions live two days, and no movement is within hours of that age, so the clock moving
# during an example cannot turn one session live in one service and expired in the other;
# the expiry job runs once, at start-up. Two shards: each example starts three services.
SETTINGS = {**PROXY, "TRACKER_SHARDS": "2", "TRACKER_SESSION_TTL_SECONDS": str(2 * 86_400),
            "TRACKER_ALARM_INTERVAL_SECONDS": "3600"}
DOMAINS = {"default": ["blog.example"], "shop": ["shop.example", "www.shop.example"]}
# How page views name those hosts: in any case, with a port or a trailing dot.
SITES = {"default": ["blog.example", "Blog.Example:8443"],
         "shop": ["shop.example", "WWW.shop.example", "www.shop.example."]}
SHOP_ZONE = "Asia/Kolkata"
USERS = ["alice", "bob", "carol", None]  # None: anonymous
SESSIONS = ["s1", "s2", "s3"]
EVENT_IDS = ["e1", "e2", "e3", None, None]
PATHS = ["/", "/pricing", "/blog/post"]
REFERRERS = ["", "https://www.google.de/", "https://t.co/x", "https://shop.example/cart"]
BROWSERS = [agent for agent, (browser, _os, _device) in AGENTS.items() if browser]
PROPERTY_KEYS = ["plan", "target"]
BREAKDOWNS = [*reference.VISIT_DIMENSIONS, "page", "event"]


def ago(now: int) -> st.SearchStrategy:
    """Within the last 20 hours, or 3 to 12 days back: never near the sessions' age limit."""
    return st.one_of(st.integers(HOUR // MINUTE, 20 * HOUR // MINUTE),
                     st.integers(3 * DAY // MINUTE, 12 * DAY // MINUTE)).map(
        lambda minutes: now - minutes * MINUTE)


def data_of(event: str) -> st.SearchStrategy:
    if event == "page_view":
        return st.fixed_dictionaries({"path": st.sampled_from(PATHS)}, optional={
            "referrer": st.sampled_from(REFERRERS),
            "utm": st.sampled_from([{"source": "newsletter"}, {"source": "google", "medium": "cpc"}]),
        })
    return st.fixed_dictionaries({}, optional={"plan": st.sampled_from(["free", "pro"]),
                                               "target": st.sampled_from(["buy", "nav"])})


def placed(site: str, how: str, host: str, other_host: str, data: dict) -> tuple[dict, dict]:
    """(the movement's `site` field if any, its data) for one way of naming its site."""
    if how == "field":
        return {"site": site}, data
    if how == "field and another host":
        return {"site": site}, {**data, "host": other_host}
    return {}, {**data, "host": host}


def movements(now: int) -> st.SearchStrategy:
    """(site, the movement as posted to the service of two sites)."""
    def build(site, how, host, other, user, session, event_id, event, data, at):
        named, data = placed(site, how, host, other, data)
        ids = {} if user is None else {"userId": user, "sessionId": session}
        given_id = {} if event_id is None else {"eventId": event_id}
        return site, {**ids, **named, **given_id, "event": event, "timestamp": at, "data": data}

    site = st.sampled_from(sorted(SITES))
    return site.flatmap(lambda chosen: st.sampled_from(["page_view", "signup", "click"]).flatmap(
        lambda event: st.builds(
            build, st.just(chosen), st.sampled_from(["field", "field and another host", "host"]),
            st.sampled_from(SITES[chosen]),
            st.sampled_from([h for s, hosts in SITES.items() if s != chosen for h in hosts]),
            st.sampled_from(USERS), st.sampled_from(SESSIONS), st.sampled_from(EVENT_IDS),
            st.just(event), data_of(event), ago(now))))


def requests(now: int) -> st.SearchStrategy:
    """Batches of (site, movement), each with a browser and an address."""
    return st.lists(st.tuples(st.sampled_from(BROWSERS), st.sampled_from(sorted(COUNTRIES)),
                              st.lists(movements(now), min_size=1, max_size=6)),
                    min_size=1, max_size=8)


@contextlib.contextmanager
def service(data_dir: Path) -> Iterator[TestClient]:
    config = Config.from_env(service_env(data_dir, **SETTINGS))
    with TestClient(create_app(config), headers={"Authorization": f"Bearer {TOKEN}"},
                    client=(PEER, 50000)) as client:
        yield client


def post(client: TestClient, agent: str, address: str, events: list[dict]) -> dict:
    response = client.post("/track", json={"events": events},
                           headers={"User-Agent": agent, "X-Forwarded-For": address})
    assert response.status_code == 200, response.text
    return response.json()


def fill(both: TestClient, alone: dict[str, TestClient], made: list) -> None:
    """The requests to the service of two sites, and each site's part of them to its own."""
    counts = {"accepted": 0, "duplicates": 0}
    expected = {"accepted": 0, "duplicates": 0}
    for agent, address, pairs in made:
        answer = post(both, agent, address, [movement for _site, movement in pairs])
        for name in counts:
            counts[name] += answer[name]
        for site, client in alone.items():
            own = [{k: v for k, v in m.items() if k != "site"} for s, m in pairs if s == site]
            if own:
                answer = post(client, agent, address, own)
                for name in expected:
                    expected[name] += answer[name]
    assert counts == expected


def reads(now: int, made: list, site: str) -> list[tuple[str, dict]]:
    """Every read endpoint over the data, for one site: every breakdown over all of it, a
    few over a window that cuts through it, and each identified user's own data."""
    mine = [m for _agent, _address, pairs in made for s, m in pairs if s == site]
    users = sorted({m["userId"] for m in mine if "userId" in m} | {"nobody"})
    sessions = sorted({m["sessionId"] for m in mine if "sessionId" in m} | {"s9"})
    everything = {"from": now - 13 * DAY, "to": now}
    cut = {"from": now - 2 * DAY - 7 * HOUR, "to": now - 5 * HOUR}
    asked = [("/analytics", everything), ("/analytics", {**everything, "event": "signup"}),
             ("/stats", {**everything, "compare": "previous"}),
             ("/funnels", {**everything, "step": ["page:/", "signup"]}),
             ("/funnels", {**everything, "step": ["page_view", "click"], "by": "visit"}),
             ("/retention", {**everything, "period": "day"}),
             ("/retention", {**everything, "period": "week", "event": "signup"}),
             ("/analytics", cut), ("/stats", {**cut, "filter": "page:/pricing", "tz": "UTC"}),
             ("/funnels", {**cut, "step": ["page:/", "click"]}),
             ("/retention", {**cut, "period": "day"})]
    asked += [("/breakdown", {**everything, "by": by, "limit": 100}) for by in BREAKDOWNS]
    asked += [("/breakdown", {**cut, "by": by}) for by in ("page", "event", "channel", "country")]
    asked += [("/breakdown", {**everything, "by": f"prop:{key}", "event": event})
              for key in PROPERTY_KEYS for event in ("signup", "click")]
    for user in users:
        asked += [("/analytics", {**everything, "userId": user}),
                  ("/movements", {"userId": user, "limit": 1000}), (f"/users/{user}/export", {}),
                  ("/session", {"sessionId": sessions[0], "userId": user})]
    return asked + [("/session", {"sessionId": session}) for session in sessions]


def movement_pages(client: TestClient, user: str, site: str | None) -> list[list[dict]]:
    """A user's movements two at a time, following the cursors (opaque: each service has its
    own), as the pages' movements."""
    pages, cursor = [], None
    while True:
        params = {"userId": user, "limit": 2, **({"site": site} if site else {}),
                  **({"cursor": cursor} if cursor else {})}
        page = client.get("/movements", params=params).json()
        pages.append(page["movements"])
        if (cursor := page["nextCursor"]) is None:
            return pages


def answer_of(client: TestClient, path: str, params: dict) -> list:
    """[status, answer]; an export's NDJSON as its lines."""
    response = client.get(path, params=params)
    if response.headers["content-type"].startswith("application/x-ndjson"):
        return [response.status_code, response.text.splitlines()]
    return [response.status_code, response.json()]


def test_each_of_two_sites_answers_as_a_service_holding_it_alone(now):
    @settings(max_examples=24, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(made=requests(now))
    def each_site_answers_as_if_alone(made):
        with tempfile.TemporaryDirectory() as tmp, service(Path(tmp) / "both") as both, \
                service(Path(tmp) / "default") as default, service(Path(tmp) / "shop") as shop:
            assert both.patch("/sites/default", json={"domains": DOMAINS["default"]}).status_code == 200
            made_shop = both.post("/sites", json={"id": "shop", "domains": DOMAINS["shop"],
                                                  "timezone": SHOP_ZONE})
            assert made_shop.status_code == 201, made_shop.text
            assert shop.patch("/sites/default", json={"timezone": SHOP_ZONE}).status_code == 200
            alone = {"default": default, "shop": shop}
            fill(both, alone, made)
            for site, client in alone.items():
                for path, params in reads(now, made, site):
                    found = answer_of(both, path, {**params, "site": site})
                    expected = answer_of(client, path, params)
                    differs = difference(found, expected)
                    assert differs is None, f"{site} {path} {params}: {differs}"
                for user in ("alice", "bob"):
                    assert movement_pages(both, user, site) == movement_pages(client, user, None)

    each_site_answers_as_if_alone()
