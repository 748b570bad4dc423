"""The periods email reports cover, on the site's clock."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from tracker.lifecycle.report_periods import MONTH, WEEK, last_complete, latest_due

PARIS = ZoneInfo("Europe/Paris")


def ms(text: str, zone: ZoneInfo = PARIS) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=zone).timestamp() * 1000)


def test_a_week_runs_monday_to_monday_and_is_due_at_eight():
    period = last_complete(WEEK, PARIS, ms("2026-11-04T10:00"))  # a Wednesday
    assert (period.start, period.end) == (ms("2026-10-26T00:00"), ms("2026-11-02T00:00"))
    assert period.previous_start == ms("2026-10-19T00:00")
    assert period.send_at == ms("2026-11-02T08:00")
    assert period.label == "the week of 26 Oct 2026 to 1 Nov 2026"


def test_a_week_across_the_clock_change_is_an_hour_longer():
    period = last_complete(WEEK, PARIS, ms("2026-10-28T10:00"))
    assert period.first_day.isoformat() == "2026-10-19"
    assert period.end - period.start == (7 * 24 + 1) * 3_600_000  # 25 October: back an hour


def test_before_eight_on_monday_the_week_before_is_still_the_latest_due():
    early = latest_due(WEEK, PARIS, ms("2026-11-02T07:59"))
    assert early.start == ms("2026-10-19T00:00")
    assert latest_due(WEEK, PARIS, ms("2026-11-02T08:00")).start == ms("2026-10-26T00:00")


def test_a_month_is_a_calendar_month_due_on_the_first():
    period = last_complete(MONTH, PARIS, ms("2026-03-15T12:00"))
    assert (period.start, period.end) == (ms("2026-02-01T00:00"), ms("2026-03-01T00:00"))
    assert period.previous_start == ms("2026-01-01T00:00")
    assert period.label == "February 2026"
    assert latest_due(MONTH, PARIS, ms("2026-03-01T07:00")).label == "January 2026"


def test_the_site_zone_decides_the_day():
    # 23:30 on Sunday in UTC is already Monday in Tokyo
    instant = ms("2026-11-01T23:30", ZoneInfo("UTC"))
    assert last_complete(WEEK, ZoneInfo("UTC"), instant).end == ms("2026-10-26T00:00", ZoneInfo("UTC"))
    tokyo = ZoneInfo("Asia/Tokyo")
    assert last_complete(WEEK, tokyo, instant).end == ms("2026-11-02T00:00", tokyo)
