"""The read endpoints' query parameters, one row a case."""

from __future__ import annotations

import pytest

from helpers import DAY
from rule_table import check_rule, get
from tracker.schemas import LATEST_MS

CASES = [
    # name, request, status, error code
    ("read sessionId missing", get("/session"), 422, "invalid_field"),
    ("read sessionId 129 characters", get("/session?sessionId=" + "s" * 129), 422, "invalid_field"),
    ("read sessionId control character", get("/session?sessionId=a%07b"), 422, "invalid_field"),
    ("read userId missing", get("/movements"), 422, "invalid_field"),
    ("read userId empty", get("/movements?userId="), 422, "invalid_field"),
    ("read limit 0", get("/movements?userId=u1&limit=0"), 422, "invalid_field"),
    ("read limit 1001", get("/movements?userId=u1&limit=1001"), 422, "invalid_field"),
    ("read limit not an integer", get("/movements?userId=u1&limit=ten"), 422, "invalid_field"),
    ("read from negative", get("/movements?userId=u1&from=-1"), 422, "invalid_field"),
    ("read cursor not ours", get("/movements?userId=u1&cursor=%%%"), 422, "invalid_field"),
    ("read event 65 characters", get("/movements?userId=u1&event=" + "e" * 65), 422, "invalid_field"),
    ("read to past the latest time", get(f"/movements?userId=u1&to={LATEST_MS + 1}"), 422, "invalid_field"),
    ("stats window past the year 9999",
     get("/stats?from=9007198390740992&to=9007199254740992&tz=UTC"), 422, "invalid_field"),
    ("stats window ending in 9999-12-31",
     get("/stats?from=253402000000000&to=253402300000000&tz=Pacific/Kiritimati"), 422, "invalid_field"),
    ("retention window at the year 10000",
     get("/retention?period=week&from=253402300700000&to=253402300800000"), 422, "invalid_field"),
    ("analytics window past the year 9999",
     get("/analytics?from=253402300000000&to=253402300700000"), 422, "invalid_field"),
    ("breakdown window past the year 9999",
     get("/breakdown?by=page&from=253402300000000&to=253402300700000"), 422, "invalid_field"),
    ("funnel window past the year 9999",
     get("/funnels?step=a&step=b&from=253402300000000&to=253402300700000"), 422, "invalid_field"),
]


@pytest.mark.parametrize("name, request_, status, code", CASES, ids=[c[0] for c in CASES])
def test_rule(table_client, name, request_, status, code):
    check_rule(table_client, request_, status, code)


@pytest.mark.parametrize("zone", ["UTC", "Pacific/Kiritimati", "Etc/GMT+12", "America/St_Johns"])
@pytest.mark.parametrize("path, query", [
    ("/stats", {"compare": "previous"}), ("/breakdown", {"by": "page"}),
    ("/breakdown", {"by": "country"}), ("/retention", {"period": "week"}),
    ("/retention", {"period": "day"}), ("/funnels", {"step": ["a", "b"]}), ("/analytics", {}),
], ids=["stats", "breakdown-page", "breakdown-country", "retention-week", "retention-day",
        "funnels", "analytics"])
def test_the_latest_window_is_answered_in_every_zone(table_client, path, query, zone):
    window = {"from": LATEST_MS - 7 * DAY, "to": LATEST_MS, "tz": zone}
    response = table_client.get(path, params={**query, **window})
    assert response.status_code == 200, response.text


def test_the_longest_window_ending_at_the_latest_time_is_answered(table_client):
    window = {"from": LATEST_MS - 400 * DAY, "to": LATEST_MS, "tz": "Pacific/Kiritimati"}
    assert table_client.get("/stats", params={"compare": "previous", **window}).status_code == 200
    assert table_client.get("/retention", params={"period": "week", **window}).status_code == 200
