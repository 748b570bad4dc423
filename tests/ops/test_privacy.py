"""Logs never hold event data, deviceInfo or tokens; user ids only when the operator asks."""

from __future__ import annotations

import pytest

from helpers import TOKEN, movement
from tracker.ops.privacy import loggable_path

USER = "user-PRIVATE-ID"
SESSION = "session-PRIVATE-ID"


@pytest.mark.parametrize("path, logged", [
    ("/track", "/track"),
    ("/movements?userId=u1&limit=5", "/movements"),
    ("/users/u1/export", "/users/{userId}/export"),
    ("/users/u1", "/users/{userId}"),
])
def test_paths_lose_query_strings_and_user_ids(path, logged):
    assert loggable_path(path, log_user_ids=False) == logged
    assert loggable_path(path, log_user_ids=True) == path


@pytest.mark.parametrize("log_user_ids", [False, True])
def test_control_characters_in_paths_are_logged_escaped(log_user_ids):
    assert loggable_path("/dashboard/a\x00b\x1b[2J\x7f", log_user_ids) == \
        "/dashboard/a\\x00b\\x1b[2J\\x7f"


def test_a_nul_byte_in_a_path_is_a_404_and_never_reaches_the_log_raw(tracker_server):
    server = tracker_server(TRACKER_ACCESS_LOG="true", TRACKER_LOG_USER_IDS="true")
    with server.client() as http:
        for path in ("/dashboard/%00", "/dashboard/js/%00main.js", "/users/%00/export"):
            answer = http.get(path)
            assert answer.status_code in (404, 422) and answer.json()["error"], path
        assert http.get("/dashboard/%00").status_code == 404
    assert server.stop() == 0
    output = server.output()
    assert "\x00" not in output and "unexpected error" not in output
    assert '"route":"/dashboard/{path:path}","status":404' in output


def exercise(server) -> None:
    """Every kind of request that carries something private, good and bad."""
    event = movement(user=USER, session=SESSION, data={"secret": "PRIVATE-DATA"}, eventId="PRIVATE-EVENT-ID")
    with server.client() as http:
        assert http.post("/track", json=event).status_code == 200
        assert http.post("/track", json={**event, "event": ""}).status_code == 422
        assert http.post("/session", json={"userId": USER, "sessionId": SESSION,
                                           "deviceInfo": {"screen": "PRIVATE-DEVICE"}}).status_code == 200
        assert http.get("/movements", params={"userId": USER}).status_code == 200
        assert http.get("/session", params={"sessionId": SESSION, "userId": USER}).status_code == 200
        assert http.get("/movements", params={"userId": USER},
                        headers={"Authorization": "Bearer PRIVATE-WRONG-TOKEN"}).status_code == 401
        http.get(f"/users/{USER}/export")


def test_logs_hold_no_user_data(tracker_server):
    server = tracker_server(TRACKER_ACCESS_LOG="true")
    exercise(server)
    assert server.stop() == 0
    output = server.output()
    assert '"route":"/track","status":200' in output and '"route":"/movements","status":401' in output
    assert "PRIVATE" not in output and TOKEN not in output


def test_user_ids_are_logged_only_when_the_operator_asks(tracker_server):
    server = tracker_server(TRACKER_ACCESS_LOG="true", TRACKER_LOG_USER_IDS="true")
    exercise(server)
    assert server.stop() == 0
    output = server.output()
    assert f'"path":"/movements?userId={USER}' in output
    assert "PRIVATE-DATA" not in output and "PRIVATE-DEVICE" not in output
    assert "PRIVATE-WRONG-TOKEN" not in output and TOKEN not in output
