"""Request observation: the access log."""

from __future__ import annotations

import json

from helpers import logged, movement


def test_access_log_is_one_json_line_without_user_data(make_client):
    client = make_client(TRACKER_ACCESS_LOG="true", TRACKER_METRICS="false")
    with logged("tracker.access") as lines:
        client.post("/track", json=movement(user="secret-user", data={"card": "4111"}))
        client.get("/session", params={"sessionId": "s1", "userId": "secret-user"})
    assert [json.loads(line)["route"] for line in lines] == ["/track", "/session"]
    assert json.loads(lines[0])["status"] == 200 and json.loads(lines[0])["method"] == "POST"
    assert not any("secret-user" in line or "4111" in line or "Bearer" in line for line in lines)
