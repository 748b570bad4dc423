"""Rate limiting of the ingest endpoints: token buckets per client address."""

from __future__ import annotations

import asyncio

import pytest

from helpers import movement
from tracker.enrich.client import TrustedProxies
from tracker.middleware.ratelimit import RateLimit, TokenBuckets


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_bucket_allows_the_burst_then_refills_at_the_rate():
    clock = Clock()
    buckets = TokenBuckets(rate=2, burst=3, clock=clock)
    assert [buckets.take("a") for _ in range(3)] == [0, 0, 0]
    assert buckets.take("a") == pytest.approx(0.5)
    assert buckets.take("b") == 0  # another client has its own bucket
    clock.now += 0.5
    assert buckets.take("a") == 0 and buckets.take("a") > 0
    clock.now += 3600  # a long pause refills to the burst, no further
    assert [buckets.take("a") for _ in range(4)][-1] > 0


def test_ten_thousand_addresses_do_not_grow_the_limiter_beyond_its_cap():
    buckets = TokenBuckets(rate=1, burst=1, max_clients=1000)
    limiter = RateLimit(_accept, buckets, TrustedProxies(["10.0.0.1"]))

    async def many_clients() -> None:
        for i in range(10_000):
            assert await _post(limiter, "10.0.0.1", f"192.0.{i // 256}.{i % 256}") == 200
            assert len(buckets) <= 1000
        # the most recent clients are remembered, and still limited
        assert await _post(limiter, "10.0.0.1", "192.0.39.15") == 429

    asyncio.run(many_clients())
    assert len(buckets) == 1000


def test_over_the_limit_is_429_with_retry_after(make_client):
    client = make_client(TRACKER_RATE_LIMIT="1", TRACKER_RATE_BURST="3")
    answers = [client.post("/track", json=movement()) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    limited = client.post("/session", json={"userId": "u1", "sessionId": "s1"})
    assert limited.status_code == 429
    assert limited.json()["error"] == "rate_limited"
    assert limited.headers["Retry-After"] == "1"
    assert client.get("/movements", params={"userId": "u1"}).status_code == 200  # reads are not limited
    assert len(client.get("/movements", params={"userId": "u1"}).json()["movements"]) == 3


def test_forwarded_for_from_an_untrusted_peer_is_ignored(make_client):
    client = make_client(peer="203.0.113.9", TRACKER_RATE_LIMIT="1", TRACKER_RATE_BURST="1")
    assert client.post("/track", json=movement(), headers={"X-Forwarded-For": "1.1.1.1"}).status_code == 200
    assert client.post("/track", json=movement(), headers={"X-Forwarded-For": "2.2.2.2"}).status_code == 429


def test_forwarded_for_from_a_trusted_proxy_names_the_client(make_client):
    client = make_client(peer="10.0.0.1", TRACKER_RATE_LIMIT="1", TRACKER_RATE_BURST="1",
                         TRACKER_TRUSTED_PROXIES="10.0.0.1")
    for address in ("1.1.1.1", "2.2.2.2"):
        assert client.post("/track", json=movement(), headers={"X-Forwarded-For": address}).status_code == 200
    assert client.post("/track", json=movement(), headers={"X-Forwarded-For": "1.1.1.1"}).status_code == 429


def test_limit_zero_takes_the_limiter_out_of_the_stack(make_client):
    client = make_client(TRACKER_RATE_LIMIT="0")
    assert client.app.state.rate_buckets is None
    assert not [m for m in client.app.user_middleware if m.cls is RateLimit]
    assert all(client.post("/track", json=movement()).status_code == 200 for _ in range(20))


def test_live_service_limits_by_peer_address(tracker_server):
    server = tracker_server(TRACKER_RATE_LIMIT="1", TRACKER_RATE_BURST="2")
    with server.client() as http:
        statuses = [http.post("/track", json=movement()).status_code for _ in range(10)]
        assert statuses[:2] == [200, 200] and 429 in statuses
        limited = http.post("/track", json=movement(), headers={"Origin": "https://shop.example"})
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    assert limited.headers["Access-Control-Allow-Origin"] == "*"
    assert limited.json()["error"] == "rate_limited"


async def _accept(scope, receive, send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b""})


async def _post(app, peer: str, forwarded: str) -> int:
    scope = {"type": "http", "method": "POST", "path": "/track", "client": (peer, 1),
             "headers": [(b"x-forwarded-for", forwarded.encode())]}
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent[0]["status"]
