"""The periods email reports cover, on the site's clock.

A weekly report covers Monday 00:00 to the next Monday 00:00 and goes out on
that next Monday at 08:00; a monthly one covers a calendar month and goes out
on the 1st of the next at 08:00. Local midnights and 08:00 are turned into
instants by the zone's rules, so a daylight-saving change inside a period
only makes it an hour longer or shorter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEK = "week"
MONTH = "month"
SEND_HOUR = 8


@dataclass(frozen=True)
class Period:
    every: str
    start: int  # ms, inclusive
    end: int  # ms, exclusive
    previous_start: int  # the period before runs from here to `start`
    send_at: int  # when its report is due
    first_day: date
    last_day: date

    @property
    def label(self) -> str:
        if self.every == MONTH:
            return self.first_day.strftime("%B %Y")
        return f"the week of {_day(self.first_day)} to {_day(self.last_day)}"

    @property
    def previous_label(self) -> str:
        return "the month before" if self.every == MONTH else "the week before"


def _day(day: date) -> str:
    return f"{day.day} {day.strftime('%b %Y')}"


def last_complete(every: str, zone: ZoneInfo | None, now: int) -> Period:
    """The latest period that has ended by `now`."""
    today = datetime.fromtimestamp(now / 1000, zone or UTC).date()
    if every == WEEK:
        end = today - timedelta(days=today.weekday())
        start, previous = end - timedelta(days=7), end - timedelta(days=14)
    else:
        end = today.replace(day=1)
        start = (end - timedelta(days=1)).replace(day=1)
        previous = (start - timedelta(days=1)).replace(day=1)
    return Period(every, _instant(start, zone), _instant(end, zone), _instant(previous, zone),
                  _instant(end, zone, SEND_HOUR), start, end - timedelta(days=1))


def latest_due(every: str, zone: ZoneInfo | None, now: int) -> Period:
    """The latest period whose report is due by `now` (its send time has passed)."""
    found = last_complete(every, zone, now)
    return found if now >= found.send_at else last_complete(every, zone, found.start)


def _instant(day: date, zone: ZoneInfo | None, hour: int = 0) -> int:
    return int(datetime.combine(day, time(hour), zone or UTC).timestamp() * 1000)
