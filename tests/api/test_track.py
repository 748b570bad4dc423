"""POST /track and POST /session through the in-process app."""

from __future__ import annotations

import time

import pytest

from helpers import fold_all, movement, now_ms, same_shard_user, saturated_writer


def stored(client, user: str) -> list[dict]:
    response = client.get("/movements", params={"userId": user, "limit": 1000})
    assert response.status_code == 200
    return response.json()["movements"]


def test_single_movement_is_stored_and_acknowledged(client):
    response = client.post("/track", json=movement(data={"path": "/a"}, eventId="e1"))
    assert response.status_code == 200
    assert response.json() == {"accepted": 1, "duplicates": 0, "ignored": 0}
    [row] = stored(client, "u1")
    assert row["data"] == {"path": "/a"} and row["eventId"] == "e1" and row["event"] == "click"


def test_batch_spanning_shards_is_stored(client):
    events = [movement(user=f"user-{i}", session=f"s-{i}") for i in range(40)]
    response = client.post("/track", json={"events": events})
    assert response.json() == {"accepted": 40, "duplicates": 0, "ignored": 0}
    assert all(len(stored(client, f"user-{i}")) == 1 for i in range(40))


@pytest.mark.parametrize("content_type", ["text/plain", "text/plain;charset=UTF-8", None])
def test_beacon_and_untyped_bodies_are_read_as_json(client, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    body = b'{"userId": "u1", "sessionId": "s1", "event": "click"}'
    request = client.build_request("POST", "/track", content=body, headers=headers)
    assert ("content-type" in request.headers) == (content_type is not None)
    assert client.send(request).status_code == 200
    assert len(stored(client, "u1")) == 1


def test_event_id_retries_are_stored_once(client):
    first = client.post("/track", json={"events": [movement(eventId="a"), movement(eventId="b")]})
    assert first.json() == {"accepted": 2, "duplicates": 0, "ignored": 0}
    retry = client.post("/track", json={"events": [movement(eventId="a"), movement(eventId="c")]})
    assert retry.json() == {"accepted": 2, "duplicates": 1, "ignored": 0}
    assert sorted(m["eventId"] for m in stored(client, "u1")) == ["a", "b", "c"]


def test_repeated_event_id_within_one_request_counts_as_duplicate(client):
    events = [movement(eventId="x"), movement(eventId="x"), movement(user="u2", eventId="x")]
    assert client.post("/track", json={"events": events}).json() == {"accepted": 3, "duplicates": 1, "ignored": 0}
    assert len(stored(client, "u1")) == 1 and len(stored(client, "u2")) == 1


def test_a_batch_repeating_a_folded_a_logged_and_its_own_event_id_stores_each_once(client):
    assert client.post("/track", json=movement(eventId="folded")).json()["accepted"] == 1
    fold_all(client)
    assert client.post("/track", json=movement(eventId="logged")).json()["accepted"] == 1
    events = [movement(eventId=event_id) for event_id in ("folded", "new", "logged", "new", "other")]
    assert client.post("/track", json={"events": events}).json() == \
        {"accepted": 5, "duplicates": 3, "ignored": 0}
    assert sorted(m["eventId"] for m in stored(client, "u1")) == ["folded", "logged", "new", "other"]


def test_events_without_event_id_are_never_duplicates(client):
    events = [movement(), movement()]
    assert client.post("/track", json={"events": events}).json()["duplicates"] == 0
    assert len(stored(client, "u1")) == 2


def test_movements_create_and_extend_their_session(client):
    now = now_ms()
    client.post("/track", json={"events": [movement(timestamp=now - 5000), movement(timestamp=now - 9000)]})
    client.post("/track", json=movement(timestamp=now - 1000))
    session = client.get("/session", params={"sessionId": "s1"}).json()["session"]
    assert (session["startTime"], session["lastActivity"]) == (now - 9000, now - 1000)


def test_another_users_movements_leave_the_session_alone(client):
    now = now_ms()
    other = same_shard_user(client.app.state.store, "owner")
    client.post("/track", json=movement(user="owner", timestamp=now - 5000))
    client.post("/track", json=movement(user=other, timestamp=now))
    assert len(stored(client, other)) == 1
    session = client.get("/session", params={"sessionId": "s1"}).json()["session"]
    assert (session["userId"], session["lastActivity"]) == ("owner", now - 5000)


def test_post_session_creates_then_refreshes(client):
    first = client.post("/session", json={"userId": "u1", "sessionId": "s9", "deviceInfo": {"w": 1}})
    assert first.status_code == 200 and first.json()["created"] is True
    assert first.json()["session"]["deviceInfo"] == {"w": 1}
    time.sleep(0.01)
    again = client.post("/session", json={"userId": "u1", "sessionId": "s9"})
    body = again.json()
    assert body["created"] is False and body["session"]["deviceInfo"] == {"w": 1}
    assert body["session"]["lastActivity"] > first.json()["session"]["lastActivity"]
    replaced = client.post("/session", json={"userId": "u1", "sessionId": "s9", "deviceInfo": {"w": 2}})
    assert replaced.json()["session"]["deviceInfo"] == {"w": 2}


def test_post_session_of_another_user_is_a_conflict(client):
    client.post("/session", json={"userId": "u1", "sessionId": "taken"})
    other = same_shard_user(client.app.state.store, "u1")
    response = client.post("/session", json={"userId": other, "sessionId": "taken"})
    assert response.status_code == 409 and response.json()["error"] == "session_conflict"


def test_batch_with_one_bad_event_stores_nothing(client):
    events = [movement(eventId=str(i)) for i in range(10)] + [movement(event="")]
    response = client.post("/track", json={"events": events})
    assert response.status_code == 422
    assert "$.events[10].event" in response.json()["detail"]
    assert stored(client, "u1") == []


def test_full_writer_queue_answers_503_then_recovers(make_client):
    client = make_client(TRACKER_QUEUE_LIMIT="5", TRACKER_SHARDS="1")
    with saturated_writer(client) as writer:
        response = client.post("/track", json={"events": [movement()] * 3})
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "1"
        assert response.json()["error"] == "overloaded"
    while writer.queued_events:  # the writer takes what filled its queue
        time.sleep(0.01)
    assert client.post("/track", json=movement()).status_code == 200
    assert len(stored(client, "u1")) == 1


def test_a_timestamp_in_seconds_is_refused_with_a_hint_of_milliseconds(client):
    seconds = now_ms() // 1000
    answer = client.post("/track", json={"events": [movement(), movement(timestamp=seconds)]})
    assert answer.status_code == 422
    error = answer.json()
    assert error["error"] == "invalid_field"
    assert "milliseconds" in error["detail"] and "$.events[1].timestamp" in error["detail"]
    old = client.post("/track", json=movement(timestamp=now_ms() - 31 * 86_400_000))
    assert old.status_code == 422 and "30 days in the past" in old.json()["detail"]
    assert "milliseconds" not in old.json()["detail"]
