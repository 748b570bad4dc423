"""GET /live's token and Last-Event-ID, and GET /live/visitors, against the real service."""

from __future__ import annotations

import httpx2 as httpx

from api.test_sse import post, tagged
from helpers import MINUTE, TLS, movement, now_ms


def test_a_malformed_or_foreign_last_event_id_is_a_422(tracker_server):
    server = tracker_server()
    with server.client() as client:
        post(client, [tagged("u1")])
        for value in ("abc", "-1", "01", "1.5", "1e3", "0", "99999999", "1" * 40):
            answer = client.get("/live", headers={"Last-Event-ID": value})
            assert answer.status_code == 422, value
            assert answer.json()["error"] == "invalid_field"


def test_live_needs_the_read_token(tracker_server):
    server = tracker_server()
    for path in ("/live", "/live/visitors"):
        answer = httpx.get(f"{server.url}{path}", timeout=10, verify=TLS)
        assert answer.status_code == 401
        assert answer.json()["error"]


def test_live_visitors_counts_users_and_visits_of_the_last_five_minutes(tracker_server):
    server = tracker_server(workers=2)
    now = now_ms()
    with server.client() as client:
        post(client, [movement(user="a", session="a1"), movement(user="a", session="a2"),
                      movement(user="b", session="b1"), movement(user="b", session="b1"),
                      movement(user="c", session="c1", timestamp=now - 6 * MINUTE)])
        answer = client.get("/live/visitors").json()
    assert (answer["visitors"], answer["visits"]) == (2, 3)
    assert answer["to"] - answer["from"] == 5 * MINUTE
