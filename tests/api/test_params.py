"""The read endpoints' query parameters, one row a case."""

from __future__ import annotations

from datetime import datetime

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
    ("stats from neither ms nor ISO 8601", get("/stats?from=yesterday&to=2026-12-02"), 422,
     "invalid_field"),
    ("stats from a month 13", get("/stats?from=2026-13-01&to=2026-12-02"), 422, "invalid_field"),
    ("stats from an ISO time alone", get("/stats?from=08:00&to=2026-12-02"), 422, "invalid_field"),
    ("stats ISO window backwards", get("/stats?from=2026-12-02&to=2026-12-01"), 422,
     "invalid_field"),
    ("stats ISO window over 400 days", get("/stats?from=2025-01-01&to=2026-12-01"), 422,
     "invalid_field"),
    ("movements to ISO past the latest time",
     get("/movements?userId=u1&to=9999-12-31T00:00:00Z"), 422, "invalid_field"),
    ("movements from ISO before 1970",
     get("/movements?userId=u1&from=1969-12-31T00:00:00Z"), 422, "invalid_field"),
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


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp() * 1000)


@pytest.mark.parametrize("given, zone, start, end", [
    (("2026-12-01", "2026-12-08"), None, "2026-12-01T00:00+00:00", "2026-12-08T00:00+00:00"),
    (("2026-12-01", "2026-12-08"), "Asia/Kolkata", "2026-12-01T00:00+05:30",
     "2026-12-08T00:00+05:30"),
    (("2026-12-01T08:30:00Z", "2026-12-01T10:00:00+01:00"), "Asia/Kolkata",
     "2026-12-01T08:30+00:00", "2026-12-01T09:00+00:00"),
    (("2026-12-01T08:30", "1796200000000"), None, "2026-12-01T08:30+00:00", None),
], ids=["dates", "dates-on-the-zone-clock", "date-times-with-offsets", "iso-and-ms"])
def test_from_and_to_take_iso_8601_dates_and_date_times(table_client, given, zone, start, end):
    query = {"from": given[0], "to": given[1], **({"tz": zone} if zone else {})}
    answer = table_client.get("/stats", params=query)
    assert answer.status_code == 200, answer.text
    assert answer.json()["from"] == ms(start)
    assert answer.json()["to"] == (ms(end) if end else int(given[1]))
    in_ms = table_client.get("/stats", params={**query, "from": ms(start),
                                               "to": answer.json()["to"]})
    assert in_ms.json() == answer.json()


def test_an_iso_8601_bad_value_says_what_is_expected(table_client):
    detail = table_client.get("/stats", params={"from": "1 Dec", "to": "2026-12-02"}).json()["detail"]
    assert "`from`" in detail and "ISO 8601" in detail and "milliseconds" in detail


def test_movements_take_an_iso_8601_window(table_client):
    answer = table_client.get("/movements", params={"userId": "nobody", "from": "2026-12-01",
                                                    "to": "2026-12-02T00:00:00Z"})
    assert answer.status_code == 200 and answer.json()["movements"] == []
