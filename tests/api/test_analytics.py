"""GET /analytics: its parameters and its token."""

from __future__ import annotations

import pytest

from helpers import DAY


@pytest.mark.parametrize("params, detail", [
    ({"timeRange": "2d"}, "`timeRange` must be one of 1h, 24h, 7d, 30d"),
    ({"from": "10", "to": "10"}, "`from` must be before `to`"),
    ({"from": "20", "to": "10"}, "`from` must be before `to`"),
    ({"from": "ten", "to": "20"}, "`from` must be milliseconds since the epoch or an ISO 8601"),
    ({"from": "10", "to": "2.5"}, "`to` must be milliseconds since the epoch or an ISO 8601"),
    ({"from": "-1", "to": "20"}, "`from` must be between"),
    ({"from": "0", "to": str(400 * DAY + 1)}, "at most 400 days"),
    ({"from": "10"}, "`from` and `to` must be given together"),
    ({"to": "10"}, "`from` and `to` must be given together"),
    ({"timeRange": "1h", "from": "1", "to": "2"}, "either `timeRange` or `from` and `to`"),
    ({"tz": "Mars/Olympus"}, "`tz` must be an IANA time zone"),
    ({"tz": "../../etc/passwd"}, "`tz` must be an IANA time zone"),
    ({"tz": ""}, "`tz` must be an IANA time zone"),
    ({"userId": "u" * 129}, "`userId` must be 1 to 128 characters"),
    ({"event": "bad\x07"}, "`event` must be 1 to 64 characters"),
])
def test_bad_analytics_parameters_are_422(client, params, detail):
    response = client.get("/analytics", params=params)
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "invalid_field" and detail in body["detail"]


def test_analytics_needs_the_read_token(client):
    response = client.get("/analytics", headers={"Authorization": "Bearer wrong"})
    assert response.status_code == 401 and response.json()["error"] == "unauthorized"


def test_a_window_of_exactly_400_days_is_allowed(client):
    answer = client.get("/analytics", params={"from": 0, "to": 400 * DAY, "tz": "Asia/Kolkata"})
    assert answer.status_code == 200 and answer.json()["bucket"] == "1d"
    assert len(answer.json()["series"]) == 401
