"""Buckets in a time zone: hours by the local clock, days from local midnights."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from helpers import DAY, HOUR


def local_instants(answer: dict, zone: str) -> list[str]:
    return [datetime.fromtimestamp(p["t"] / 1000, ZoneInfo(zone)).strftime("%d %H:%M%z")
            for p in answer["series"]]


def utc(*fields: int) -> int:
    return int(datetime(*fields, tzinfo=UTC).timestamp() * 1000)


@pytest.mark.parametrize("zone, start, end, bucket, expected", [
    # New York's autumn day has 25 hours and its spring day 23.
    ("America/New_York", utc(2026, 10, 31, 12), utc(2026, 11, 2, 12), "1d",
     ["31 00:00-0400", "01 00:00-0400", "02 00:00-0500"]),
    ("America/New_York", utc(2026, 11, 1, 4), utc(2026, 11, 1, 8), "1h",
     ["01 00:00-0400", "01 01:00-0400", "01 01:00-0500", "01 02:00-0500"]),
    ("America/New_York", utc(2026, 3, 8, 5), utc(2026, 3, 8, 9), "1h",
     ["08 00:00-0500", "08 01:00-0500", "08 03:00-0400", "08 04:00-0400"]),
    # Lord Howe moves its clocks by half an hour: the hour before each change lasts 90 minutes.
    ("Australia/Lord_Howe", utc(2026, 10, 3, 13, 30), utc(2026, 10, 3, 17), "1h",
     ["04 00:00+1030", "04 01:00+1030", "04 03:00+1100"]),
    ("Australia/Lord_Howe", utc(2026, 4, 4, 13), utc(2026, 4, 4, 17), "1h",
     ["05 00:00+1100", "05 01:00+1100", "05 02:00+1030", "05 03:00+1030"]),
    ("Asia/Kathmandu", utc(2026, 4, 4, 20), utc(2026, 4, 6, 12), "1d",
     ["05 00:00+0545", "06 00:00+0545"]),
    # Santiago's clocks skip midnight: that day starts at 01:00.
    ("America/Santiago", utc(2026, 9, 5, 12), utc(2026, 9, 7, 12), "1d",
     ["05 00:00-0400", "06 01:00-0300", "07 00:00-0300"]),
])
def test_buckets_follow_the_zone_clock(client, zone, start, end, bucket, expected):
    # Long enough that smaller buckets would be more than 400.
    params = {"from": start, "to": max(end, start + (17 * DAY if bucket == "1d" else 7 * HOUR)),
              "tz": zone}
    answer = client.get("/analytics", params=params).json()
    assert answer["bucket"] == bucket
    assert local_instants(answer, zone)[:len(expected)] == expected


def test_kolkata_days_start_at_half_past_six_utc(client):
    answer = client.get("/analytics", params={"timeRange": "7d", "tz": "Asia/Kolkata"}).json()
    assert all(datetime.fromtimestamp(p["t"] / 1000, UTC).strftime("%H:%M") == "18:30"
               for p in answer["series"])
    assert len(answer["series"]) == 8


def test_a_clock_change_just_before_the_window_ends_is_seen(client):
    change = utc(2026, 4, 4, 15)  # Lord Howe's 02:00 (+11) becomes 01:30 (+10:30)
    params = {"from": change - 7 * HOUR - 20 * 60_000, "to": change + 40 * 60_000,
              "tz": "Australia/Lord_Howe"}
    answer = client.get("/analytics", params=params).json()
    assert local_instants(answer, "Australia/Lord_Howe")[-2:] == ["05 01:00+1100", "05 02:00+1030"]
