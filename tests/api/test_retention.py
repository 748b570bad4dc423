"""GET /retention: its parameters and its token."""

from __future__ import annotations

import pytest

from helpers import DAY

BAD_QUERIES = [
    ("month", {"period": "month"}),
    ("no period", {}),
    ("unknown zone", {"period": "day", "tz": "Mars/Olympus"}),
    ("from without to", {"period": "day", "from": 0}),
    ("both window forms", {"period": "day", "timeRange": "7d", "from": 0, "to": DAY}),
    ("unknown range", {"period": "day", "timeRange": "2d"}),
    ("window too long", {"period": "day", "from": 0, "to": 401 * DAY}),
    ("empty event", {"period": "day", "event": ""}),
]


@pytest.mark.parametrize("params", [p for _name, p in BAD_QUERIES],
                         ids=[name for name, _p in BAD_QUERIES])
def test_a_bad_parameter_is_a_422_naming_it(client, params):
    response = client.get("/retention", params=params)
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_field"
    assert response.json()["detail"]


def test_retention_needs_the_read_token(client):
    response = client.get("/retention", params={"period": "day"},
                          headers={"Authorization": "Bearer no"})
    assert response.status_code == 401
    assert response.json()["error"]
