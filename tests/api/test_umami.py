"""POST /api/send: Umami's tracker payload, stored as /track stores the same page view or event."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers import connect, fold_all, metric_samples, saturated_writer

DESKTOP = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
           "Chrome/124.0.0.0 Safari/537.36")
PROXIED = {"TRACKER_TRUSTED_PROXIES": "127.0.0.1", "TRACKER_RATE_LIMIT": "0"}


@pytest.fixture
def proxied(make_client):
    return make_client(peer="127.0.0.1", **PROXIED)


@pytest.fixture
def shop(proxied) -> str:
    """The Umami website id of a site `shop` with the domain shop.example."""
    answer = proxied.post("/sites", json={"id": "shop", "domains": ["shop.example"]})
    assert answer.status_code == 201
    return answer.json()["umamiId"]


def send(client, payload: dict, kind: str = "event", agent: str = DESKTOP, **headers):
    return client.post("/api/send", json={"type": kind, "payload": payload},
                       headers={"User-Agent": agent, "X-Forwarded-For": "81.2.69.160", **headers})


def stored(data_dir: Path) -> list[tuple[str, str, dict]]:
    """(site directory, event, data) of every stored movement."""
    found = []
    for path in data_dir.rglob("shard-*.sqlite"):
        with connect(path, read_only=True) as conn:
            found += [(str(path.parent.relative_to(data_dir)), event, json.loads(data))
                      for event, data in conn.execute("SELECT event, data FROM movements")]
    return sorted(found, key=lambda row: row[1])


PAYLOADS = [
    ("a page view from Umami 2's script: the path encoded, the title too",
     {"hostname": "shop.example", "url": "/caf%25C3%25A9?utm_source=news&gclid=x",
      "title": "Caf%C3%A9%20menu", "referrer": "https://news.example/a", "screen": "1280x720", "language": "en"},
     "page_view", {"path": "/caf%C3%A9", "host": "shop.example", "title": "Caf\u00e9 menu",
                   "referrer": "https://news.example/a", "utm": {"source": "news"}, "clickId": {"gclid": True}}),
    ("a page view from a later script: the whole URL, as it is",
     {"hostname": "shop.example", "url": "https://shop.example:8443/caf%C3%A9?utm_medium=email",
      "title": "Caf\u00e9 100%", "referrer": ""},
     "page_view", {"path": "/caf%C3%A9", "host": "shop.example:8443", "title": "Caf\u00e9 100%",
                   "referrer": "", "utm": {"medium": "email"}}),
    ("an event keeps its data and its page",
     {"hostname": "shop.example", "url": "/pricing", "name": "signup", "data": {"plan": "pro", "path": "/x"},
      "referrer": "https://news.example/"},
     "signup", {"plan": "pro", "path": "/pricing", "host": "shop.example"}),
]


@pytest.mark.parametrize("payload, event, data", [case[1:] for case in PAYLOADS],
                         ids=[case[0] for case in PAYLOADS])
def test_payloads_are_stored_as_tracker_js_would_send_them(proxied, shop, data_dir, payload, event, data):
    answer = send(proxied, {"website": shop, **payload})
    assert (answer.status_code, answer.json()) == (200, {"cache": ""})
    fold_all(proxied)
    assert stored(data_dir) == [("sites/1", event, data)]


@pytest.mark.parametrize("kind", ["identify", "performance"])
def test_identify_and_performance_are_taken_and_store_nothing(proxied, shop, data_dir, kind):
    answer = send(proxied, {"website": shop, "url": "/", "data": {"email": "a@b.c"}}, kind=kind)
    assert (answer.status_code, answer.json()) == (200, {"cache": ""})
    fold_all(proxied)
    assert stored(data_dir) == []


def test_a_bot_is_answered_and_not_stored(proxied, shop, data_dir):
    assert send(proxied, {"website": shop, "url": "/"}, agent="python-requests/2.32").status_code == 200
    fold_all(proxied)
    assert stored(data_dir) == []
    samples = metric_samples(proxied.get("/metrics").text)
    assert samples[("tracker_events_ignored_total", ("reason", "bot"))] == 1


def test_the_visitor_is_the_same_as_on_track(proxied, shop, data_dir):
    send(proxied, {"website": shop, "hostname": "shop.example", "url": "/a"})
    proxied.post("/track", json={"event": "page_view", "site": "shop", "data": {"path": "/b"}},
                 headers={"User-Agent": DESKTOP, "X-Forwarded-For": "81.2.69.160"})
    fold_all(proxied)
    answer = proxied.get("/stats", params={"site": "shop", "timeRange": "1h"})
    assert answer.json()["totals"]["visitors"] == 1
    assert answer.json()["totals"]["visits"] == 1


@pytest.mark.parametrize("body, status, error, where", [
    (b"{oops", 400, "malformed_json", None),
    (b"[]", 400, "not_an_object", None),
    ({"type": "event"}, 422, "invalid_field", "`payload`"),
    ({"type": "record", "payload": {"website": "x"}}, 422, "invalid_field", "$.type"),
    ({"type": "event", "payload": {"website": "x", "name": "n" * 65}}, 422, "invalid_field", "$.payload.name"),
    ({"type": "event", "payload": {"website": "0d6e4f2a-0000-4000-8000-000000000000"}}, 422, "unknown_site",
     "$.payload.website"),
    ({"type": "event", "payload": {"website": "SITE", "url": "http://[::1/"}}, 422, "invalid_field", "$.payload.url"),
    ({"type": "event", "payload": {"website": "SITE", "data": {"big": "x" * 17_000}}}, 422, "invalid_field",
     "$.payload.data"),
])
def test_errors_are_answered_as_on_track(proxied, shop, data_dir, body, status, error, where):
    raw = body if isinstance(body, bytes) else json.dumps(body).replace("SITE", shop).encode()
    answer = proxied.post("/api/send", content=raw, headers={"Content-Type": "application/json"})
    assert (answer.status_code, answer.json()["error"]) == (status, error)
    if where:
        assert where in answer.json()["detail"]
    fold_all(proxied)
    assert stored(data_dir) == []


def test_a_preflight_may_ask_for_umamis_cache_header(make_client):
    client = make_client(TRACKER_ALLOWED_ORIGINS="https://shop.example")
    answer = client.options("/api/send", headers={
        "Origin": "https://shop.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type, x-umami-cache"})
    assert answer.status_code == 204
    assert answer.headers["access-control-allow-origin"] == "https://shop.example"


def test_rate_limited_as_track(make_client, shop):
    client = make_client(peer="127.0.0.1", TRACKER_RATE_LIMIT="1", TRACKER_RATE_BURST="1")
    answers = [client.post("/api/send", json={"type": "identify", "payload": {"website": shop}}).status_code
               for _ in range(2)]
    assert answers == [200, 429]


def test_an_overloaded_log_is_503_and_stores_nothing(make_client, data_dir):
    client = make_client(TRACKER_QUEUE_LIMIT="5", TRACKER_SHARDS="1")
    website = client.get("/sites").json()["sites"][0]["umamiId"]
    with saturated_writer(client):
        answer = send(client, {"website": website, "url": "/"})
        assert (answer.status_code, answer.json()["error"], answer.headers["Retry-After"]) == (503, "overloaded", "1")
    fold_all(client)
    assert stored(data_dir) == []
