"""Errors as JSON: unknown paths and methods, overload and rate limits, and details that name the field."""

from __future__ import annotations

import pytest

from helpers import movement, saturated_writer
from rule_table import check_rule, get

CASES = [
    # name, request, status, error code
    ("405 GET /track", get("/track"), 405, "method_not_allowed"),
    ("405 PUT /track", ("PUT", "/track", "{}"), 405, "method_not_allowed"),
    ("405 DELETE /session", ("DELETE", "/session", None), 405, "method_not_allowed"),
    ("404 unknown path", get("/nowhere"), 404, "not_found"),
    ("404 no live session", get("/session?sessionId=nope"), 404, "not_found"),
]


@pytest.mark.parametrize("name, request_, status, code", CASES, ids=[c[0] for c in CASES])
def test_rule(table_client, name, request_, status, code):
    check_rule(table_client, request_, status, code)


def test_429_rate_limited_with_retry_after(make_client):
    client = make_client(TRACKER_RATE_LIMIT="1", TRACKER_RATE_BURST="1")
    assert client.post("/track", json=movement()).status_code == 200
    # One token a second: a loaded machine may take that long over a request, so a few more.
    statuses = []
    for _ in range(20):
        response = client.post("/track", json=movement())
        statuses.append(response.status_code)
        if response.status_code != 200:
            break
    assert response.status_code == 429 and response.json()["error"] == "rate_limited", statuses
    assert int(response.headers["Retry-After"]) >= 1


def test_503_overloaded_with_retry_after(make_client):
    client = make_client(TRACKER_QUEUE_LIMIT="1", TRACKER_SHARDS="1")
    with saturated_writer(client):
        response = client.post("/track", json=movement())
        assert response.status_code == 503 and response.json()["error"] == "overloaded"
        assert int(response.headers["Retry-After"]) >= 1


def test_error_detail_names_the_batch_index_and_field(client):
    events = [movement(), movement(), movement(timestamp=1)]
    detail = client.post("/track", json={"events": events}).json()["detail"]
    assert "$.events[2].timestamp" in detail
