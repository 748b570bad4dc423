"""A brute-force /retention: cohorts and returns computed from the plain list of movements.

Shares no code with the service. A period is named by its local date (a day)
or its ISO (year, week) (a week) on the zone's clock, and starts at the local
midnight of that date (of the week's Monday): right for zones whose midnight
is never skipped or repeated, as in the zones tested.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def clock(zone: str | None):
    return ZoneInfo(zone) if zone else UTC


def period_of(instant: int, period: str, zone: str | None) -> object:
    local = datetime.fromtimestamp(instant / 1000, clock(zone)).date()
    return local if period == "day" else local.isocalendar()[:2]


def start_of(first_day: date, zone: str | None) -> int:
    return int(datetime.combine(first_day, time(), clock(zone)).timestamp() * 1000)


def listed_periods(period: str, zone: str | None, start: int, end: int) -> list[tuple[object, int]]:
    """(name, start) of every period starting in [start, end), in order."""
    day = datetime.fromtimestamp(start / 1000, clock(zone)).date() - timedelta(days=1)
    found = []
    while (begins := start_of(day, zone)) < end:
        if begins >= start and (period == "day" or day.weekday() == 0):
            found.append((period_of(begins, period, zone), begins))
        day += timedelta(days=1)
    return found


def retention(movements: list[dict], period: str, start: int, end: int, zone: str | None,
              event: str | None, identified: bool = True) -> dict:
    """Cohorts of the users whose ids do not start with `anon:` (of every user when not
    `identified`)."""
    listed = listed_periods(period, zone, start, end)
    first: dict[str, int] = {}
    for m in movements:
        if identified and m["userId"].startswith("anon:"):
            continue
        first[m["userId"]] = min(first.get(m["userId"], m["timestamp"]), m["timestamp"])
    active: dict[str, set[object]] = {}
    for m in movements:
        if event is None or m["event"] == event:
            active.setdefault(m["userId"], set()).add(period_of(m["timestamp"], period, zone))
    cohorts = []
    for c, (name, begins) in enumerate(listed):
        members = [u for u, t in first.items() if period_of(t, period, zone) == name]
        returned = [sum(listed[k][0] in active.get(u, ()) for u in members)
                    for k in range(c, len(listed))]
        cohorts.append({"t": begins, "users": len(members), "returned": returned})
    return {"period": period, "from": start, "to": end, "cohorts": cohorts}
