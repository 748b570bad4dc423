"""GET /session and GET /movements."""

from __future__ import annotations

import base64

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import movement, now_ms


def test_get_session_with_and_without_user(client):
    client.post("/track", json=movement(user="alice", session="sa"))
    for params in ({"sessionId": "sa"}, {"sessionId": "sa", "userId": "alice"}):
        body = client.get("/session", params=params).json()
        assert body["session"]["userId"] == "alice" and body["session"]["deviceInfo"] == {}
    wrong_user = client.get("/session", params={"sessionId": "sa", "userId": "bob"})
    assert wrong_user.status_code == 404 and wrong_user.json()["error"] == "not_found"
    assert client.get("/session", params={"sessionId": "nope"}).status_code == 404


def test_get_session_requires_session_id(client):
    response = client.get("/session")
    assert response.status_code == 422 and "sessionId" in response.json()["detail"]


def test_idle_session_is_not_live(make_client):
    client = make_client(TRACKER_SESSION_TTL_SECONDS="60")
    client.post("/track", json=movement(session="old", timestamp=now_ms() - 61_000))
    client.post("/track", json=movement(session="fresh", timestamp=now_ms() - 59_000))
    assert client.get("/session", params={"sessionId": "old"}).status_code == 404
    assert client.get("/session", params={"sessionId": "fresh"}).status_code == 200


def test_movements_are_newest_first_with_filters(client):
    base = now_ms() - 10_000
    events = [movement(event="page_view" if i % 2 else "click", timestamp=base + i) for i in range(6)]
    client.post("/track", json={"events": events})
    page = client.get("/movements", params={"userId": "u1"}).json()
    assert [m["timestamp"] for m in page["movements"]] == [base + i for i in range(5, -1, -1)]
    assert page["nextCursor"] is None
    views = client.get("/movements", params={"userId": "u1", "event": "page_view",
                                             "from": base + 2, "to": base + 5}).json()
    assert [m["timestamp"] for m in views["movements"]] == [base + 3]
    assert views["movements"][0]["eventId"] is None


def test_cursor_never_repeats_or_skips_while_movements_arrive(client):
    base = now_ms() - 100_000
    client.post("/track", json={"events": [movement(timestamp=base + i % 7, eventId=f"old{i}")
                                           for i in range(45)]})
    seen, cursor = [], None
    while True:
        params = {"userId": "u1", "limit": 10, **({"cursor": cursor} if cursor else {})}
        page = client.get("/movements", params=params).json()
        seen += [m["eventId"] for m in page["movements"]]
        # newer and equally old movements arrive between pages
        client.post("/track", json={"events": [movement(timestamp=now_ms()), movement(timestamp=base)]})
        cursor = page["nextCursor"]
        if cursor is None:
            break
    old = [e for e in seen if e is not None]
    assert sorted(old) == sorted(f"old{i}" for i in range(45))
    assert len(old) == len(set(old))


@pytest.mark.parametrize("params", [
    {"userId": "u1", "limit": "0"}, {"userId": "u1", "limit": "1001"},
    {"userId": "u1", "limit": "ten"}, {"userId": "u1", "cursor": "!!notacursor"},
    {"userId": "u1", "from": "yesterday"}, {"userId": "u" * 129}, {},
])
def test_bad_movement_queries_are_422(client, params):
    response = client.get("/movements", params=params)
    assert response.status_code == 422 and response.json()["error"] == "invalid_field"


def b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize("cursor", [
    b64(f"{2**64}:1"), b64(f"1:{2**63}"), b64("9" * 5000 + ":1"), b64("-1:5"), b64("1:-5"),
    b64("1.5:2"), b64("1e3:2"), b64("0x10:2"), b64(" 1:2"), b64("1_0:2"), b64("١:٢"),
    b64("1:2:3"), b64("1"), b64('{"t": 1}'), b64("null"), "====", "a", "🙂", "%00",
    base64.urlsafe_b64encode(b"\xff\xfe:1").decode(),
], ids=lambda cursor: cursor[:24])
def test_a_tampered_cursor_is_422_never_500(client, cursor):
    response = client.get("/movements", params={"userId": "u1", "cursor": cursor})
    assert response.status_code == 422 and response.json()["error"] == "invalid_field"
    assert "cursor" in response.json()["detail"]


@settings(max_examples=200, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cursor=st.text(min_size=1, max_size=60) | st.integers().map(lambda n: b64(f"{n}:{n}")))
def test_any_cursor_is_a_page_or_a_422(client, cursor):
    response = client.get("/movements", params={"userId": "u1", "cursor": cursor})
    assert response.status_code in (200, 422), response.text


def test_the_largest_cursor_the_service_could_hand_out_still_reads(client):
    client.post("/track", json=movement(user="u1", eventId="e1"))
    largest = b64(f"{2**63 - 1}:{2**63 - 1}")
    response = client.get("/movements", params={"userId": "u1", "cursor": largest})
    assert response.status_code == 200 and len(response.json()["movements"]) == 1
