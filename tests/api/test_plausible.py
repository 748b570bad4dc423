"""POST /api/event: Plausible's Events API, stored as /track stores the same page view or event."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from helpers import connect, fold_all, metric_samples, saturated_writer
from tracker.enrich.visitor_ids import visitor_id

DESKTOP = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
           "Chrome/124.0.0.0 Safari/537.36")
ADDRESS = "81.2.69.160"
PAGE = "https://shop.example/pricing?utm_source=news&utm_medium=email&gclid=abc"
PROXIED = {"TRACKER_TRUSTED_PROXIES": "127.0.0.1", "TRACKER_RATE_LIMIT": "0"}


@pytest.fixture
def proxied(make_client):
    client = make_client(peer="127.0.0.1", **PROXIED)
    for site_id, domain in (("shop", "shop.example"), ("blog", "blog.example")):
        assert client.post("/sites", json={"id": site_id, "domains": [domain]}).status_code == 201
    return client


def post(client, body, agent: str = DESKTOP, content_type: str = "text/plain", **headers):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post("/api/event", content=raw, headers={
        "Content-Type": content_type, "User-Agent": agent, "X-Forwarded-For": ADDRESS, **headers})


def visitor_on(data_dir: Path, now: int, address: str, site: int = 0) -> str:
    """The spec's visitor id of the address and DESKTOP on a site, from the day's salt file."""
    day = datetime.fromtimestamp(now // 1000, UTC).date().isoformat()
    salt = (data_dir / "salts" / f"{day}.salt").read_bytes()
    return visitor_id(salt, address, DESKTOP, str(site) if site else "")


def stored(data_dir: Path) -> list[tuple[str, str, str, dict]]:
    """(site directory, userId, event, data) of every stored movement, sorted."""
    found = []
    for path in data_dir.rglob("shard-*.sqlite"):
        place = str(path.parent.relative_to(data_dir))
        with connect(path, read_only=True) as conn:
            for user, event, data in conn.execute("SELECT userId, event, data FROM movements"):
                found.append((place, user, event, json.loads(data)))
    return sorted(found, key=lambda row: (row[0], row[2]))


def test_a_page_view_is_stored_as_tracker_js_would_send_it(proxied, data_dir, now):
    answer = post(proxied, {"n": "pageview", "u": PAGE, "d": "shop.example", "r": "https://news.example/a",
                            "w": 1280, "v": 36})
    assert (answer.status_code, answer.text) == (202, "ok")
    assert answer.headers["content-type"].startswith("text/plain")
    fold_all(proxied)
    [(place, user, event, data)] = stored(data_dir)
    assert (place, event) == ("sites/1", "page_view")
    assert data == {"path": "/pricing", "host": "shop.example", "referrer": "https://news.example/a",
                    "utm": {"source": "news", "medium": "email"}, "clickId": {"gclid": True}}
    assert user == visitor_on(data_dir, now, ADDRESS, site=1)


def test_the_visitor_is_keyed_with_the_address_and_user_agent_as_for_track(proxied, data_dir):
    body = {"n": "pageview", "u": PAGE, "d": "shop.example"}
    post(proxied, body)
    post(proxied, body)
    post(proxied, body, agent=DESKTOP.replace("124", "125"))
    proxied.post("/track", json={"event": "page_view", "site": "shop",
                                 "data": {"path": "/pricing", "host": "shop.example"}},
                 headers={"User-Agent": DESKTOP, "X-Forwarded-For": ADDRESS})
    fold_all(proxied)
    users = Counter(user for _place, user, _event, _data in stored(data_dir))
    # The three with DESKTOP are one visitor: /api/event and /track give it the same id.
    assert sorted(users.values()) == [1, 3]


def test_a_custom_event_with_props_and_revenue(proxied, data_dir):
    answer = post(proxied, {"name": "Purchase", "url": PAGE, "domain": "shop.example",
                            "props": {"plan": "pro", "seats": 3}, "revenue": {"amount": "19.90", "currency": "EUR"}},
                  content_type="application/json")
    assert answer.status_code == 202
    fold_all(proxied)
    [(_place, _user, event, data)] = stored(data_dir)
    assert (event, data) == ("Purchase", {"plan": "pro", "seats": 3, "path": "/pricing", "host": "shop.example"})
    revenue = []
    for path in data_dir.rglob("shard-*.sqlite"):
        with connect(path, read_only=True) as conn:
            revenue += conn.execute("SELECT revenue, currency FROM movements WHERE currency IS NOT NULL")
    assert revenue == [("19.90", "EUR")]


def test_several_domains_store_the_event_in_each_site(proxied, data_dir):
    post(proxied, {"n": "Signup", "u": PAGE, "d": "shop.example,blog.example"})
    fold_all(proxied)
    assert [(place, event) for place, _u, event, _d in stored(data_dir)] == [("sites/1", "Signup"),
                                                                              ("sites/2", "Signup")]


def test_a_domain_of_no_site_is_dropped_with_202(proxied, data_dir):
    answer = post(proxied, {"n": "pageview", "u": "https://other.example/", "d": "other.example"})
    assert (answer.status_code, answer.text) == (202, "ok")
    answer = post(proxied, {"n": "pageview", "u": "https://other.example/"})  # d from the URL
    assert answer.status_code == 202
    fold_all(proxied)
    assert stored(data_dir) == []


def test_a_new_service_takes_every_domain_into_its_only_site(make_client, data_dir):
    client = make_client(peer="127.0.0.1", **PROXIED)
    assert post(client, {"n": "pageview", "u": PAGE, "d": "anything.example"}).status_code == 202
    fold_all(client)
    assert [(place, event) for place, _u, event, _d in stored(data_dir)] == [(".", "page_view")]


def test_engagement_is_taken_and_stores_nothing(proxied, data_dir):
    answer = post(proxied, {"n": "engagement", "u": PAGE, "d": "shop.example", "sd": 80, "e": 5000})
    assert (answer.status_code, answer.text) == (202, "ok")
    fold_all(proxied)
    assert stored(data_dir) == []


def test_bots_are_acknowledged_and_not_stored(proxied, data_dir):
    answer = post(proxied, {"n": "pageview", "u": PAGE, "d": "shop.example"}, agent="curl/8.5.0")
    assert answer.status_code == 202
    fold_all(proxied)
    assert stored(data_dir) == []
    samples = metric_samples(proxied.get("/metrics").text)
    assert samples[("tracker_events_ignored_total", ("reason", "bot"))] == 1


@pytest.mark.parametrize("body, errors", [
    (b"{not json", {"request": ["Unable to parse request body as json"]}),
    (b"[]", {"request": ["Unable to parse request body as json"]}),
    ({"n": "pageview", "d": "shop.example"}, {"url": ["is required"]}),
    ({"u": PAGE, "d": "shop.example"}, {"event_name": ["can't be blank"]}),
    ({"n": "pageview", "u": PAGE, "d": ""}, {"domain": ["can't be blank"]}),
    ({"n": "x" * 65, "u": PAGE, "d": "shop.example"},
     {"event_name": ["Expected `str` of length <= 64 - at `$.event`"]}),
])
def test_invalid_events_are_400_with_plausibles_errors(proxied, data_dir, body, errors):
    answer = post(proxied, body)
    assert answer.status_code == 400
    assert answer.json() == {"errors": errors}
    fold_all(proxied)
    assert stored(data_dir) == []


def test_props_over_the_size_limit_are_400(proxied, data_dir):
    answer = post(proxied, {"n": "x", "u": PAGE, "d": "shop.example", "p": {"big": "x" * 17_000}})
    assert answer.status_code == 400
    assert list(answer.json()["errors"]) == ["props"]


def test_content_type_and_size_are_answered_as_on_track(proxied):
    answer = post(proxied, {"n": "pageview", "u": PAGE}, content_type="application/x-www-form-urlencoded")
    assert (answer.status_code, answer.json()["error"]) == (415, "unsupported_media_type")
    answer = post(proxied, b"{" + b" " * (1024 * 1024) + b"}")
    assert (answer.status_code, answer.json()["error"]) == (413, "body_too_large")


# Each header with the ones Plausible reads after it, which it outranks.
@pytest.mark.parametrize("headers", [
    {"X-Plausible-IP": "81.2.69.160", "CF-Connecting-IP": "8.8.8.8", "X-Forwarded-For": "8.8.8.8"},
    {"CF-Connecting-IP": "81.2.69.160", "B-Forwarded-For": "8.8.8.8", "X-Forwarded-For": "8.8.8.8"},
    {"B-Forwarded-For": "8.8.8.8, 81.2.69.160, 127.0.0.1", "X-Forwarded-For": "8.8.8.8"},
    {"X-Forwarded-For": "81.2.69.160", "Forwarded": "for=8.8.8.8"},
    {"Forwarded": 'for=8.8.8.8, for="81.2.69.160:1234";proto=https, for=127.0.0.1'},
    {"Forwarded": 'for="[2001:db8::1]:4711"'},
], ids=["x-plausible-ip", "cf-connecting-ip", "b-forwarded-for", "x-forwarded-for", "forwarded",
        "forwarded-ipv6"])
def test_plausibles_headers_name_the_client_from_a_trusted_proxy(make_client, data_dir, now, headers):
    trusted = make_client(peer="127.0.0.1", **PROXIED)
    trusted.post("/api/event", json={"n": "pageview", "u": PAGE}, headers={"User-Agent": DESKTOP, **headers})
    fold_all(trusted)
    [(_place, user, _event, _data)] = stored(data_dir)
    client = "2001:db8::1" if "2001" in str(headers) else "81.2.69.160"
    assert user == visitor_on(data_dir, now, client)


def test_an_untrusted_peer_cannot_name_another_client(make_client, data_dir, now):
    client = make_client(peer="203.0.113.9", **PROXIED)
    client.post("/api/event", json={"n": "pageview", "u": PAGE}, headers={
        "User-Agent": DESKTOP, "X-Plausible-IP": "81.2.69.160", "X-Forwarded-For": "81.2.69.160"})
    fold_all(client)
    [(_place, user, _event, _data)] = stored(data_dir)
    assert user == visitor_on(data_dir, now, "203.0.113.9")


def test_rate_limited_per_client_as_named_by_plausibles_headers(make_client):
    client = make_client(peer="127.0.0.1", TRACKER_TRUSTED_PROXIES="127.0.0.1", TRACKER_RATE_LIMIT="1",
                         TRACKER_RATE_BURST="2")
    body = {"n": "pageview", "u": PAGE}
    answers = [post(client, body, **{"X-Plausible-IP": "81.2.69.160"}).status_code for _ in range(3)]
    assert answers == [202, 202, 429]
    other = post(client, body, **{"X-Plausible-IP": "81.2.69.161"})
    assert other.status_code == 202
    limited = post(client, body, **{"X-Plausible-IP": "81.2.69.160"})
    assert limited.json()["error"] == "rate_limited" and int(limited.headers["Retry-After"]) >= 1


def test_cors_headers_on_every_answer_errors_included(make_client):
    client = make_client(TRACKER_ALLOWED_ORIGINS="https://shop.example")
    origin = {"Origin": "https://shop.example"}
    good = post(client, {"n": "pageview", "u": PAGE}, **origin)
    bad = post(client, {"n": "pageview"}, **origin)
    assert (good.status_code, bad.status_code) == (202, 400)
    for answer in (good, bad):
        assert answer.headers["access-control-allow-origin"] == "https://shop.example"
    refused = post(client, {"n": "pageview", "u": PAGE}, Origin="https://evil.example")
    assert "access-control-allow-origin" not in refused.headers


def test_an_overloaded_log_is_503_as_on_track_and_stores_nothing(make_client, data_dir):
    client = make_client(TRACKER_QUEUE_LIMIT="5", TRACKER_SHARDS="1")
    with saturated_writer(client):
        answer = post(client, {"n": "pageview", "u": PAGE})
        assert (answer.status_code, answer.json()["error"], answer.headers["Retry-After"]) == (503, "overloaded", "1")
    fold_all(client)
    assert stored(data_dir) == []
