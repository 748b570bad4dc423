"""A brute-force /analytics: every number computed from the plain list of movements.

Deliberately shares no code with the service: bucket boundaries come from
asking `zoneinfo` the local time at every instant of a fine grid.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from helpers import DAY, MINUTE

QUARTER = 15 * MINUTE


def local_time(instant: int, zone: str | None) -> datetime:
    return datetime.fromtimestamp(instant / 1000, ZoneInfo(zone) if zone else UTC)


def bucket_starts(bucket: str, zone: str | None, start: int, end: int) -> list[int]:
    """Scan a grid fine enough for the zones tested (offsets and changes on 15 minutes)."""
    step = MINUTE if bucket == "1m" else QUARTER
    instant = (start - 2 * DAY) // step * step
    found, dates = [], set()
    while instant < end:
        local = local_time(instant, zone)
        if bucket == "1m":
            begins = local.second == 0
        elif bucket == "1h":
            begins = local.minute == 0 and local.second == 0
        else:
            begins = local.date() not in dates and (not dates or local.date() > max(dates))
            dates.add(local.date())
        if begins:
            found.append(instant)
        instant += step
    first = max(i for i, t in enumerate(found) if t <= start)
    return found[first:]


def analytics(movements: list[dict], answer: dict, user: str | None, event: str | None,
              zone: str | None) -> dict:
    """The whole answer for the window and bucket the service chose, counted by hand."""
    start, end, bucket = answer["from"], answer["to"], answer["bucket"]
    chosen = [m for m in movements if start <= m["timestamp"] < end
              and (user is None or m["userId"] == user) and (event is None or m["event"] == event)]
    views = [m for m in chosen if m["event"] == "page_view"]
    paths = Counter(m["data"]["path"] for m in views if isinstance(m.get("data", {}).get("path"), str))
    events = Counter(m["event"] for m in chosen)
    starts = bucket_starts(bucket, zone, start, end)
    series = []
    for i, t in enumerate(starts):
        stop = starts[i + 1] if i + 1 < len(starts) else end
        inside = [m for m in chosen if t <= m["timestamp"] < stop]
        series.append({"t": t, "movements": len(inside),
                       "pageViews": sum(m["event"] == "page_view" for m in inside)})
    return {
        "userId": user, "from": start, "to": end, "bucket": bucket,
        "totals": {"movements": len(chosen), "pageViews": len(views),
                   "sessions": len({(m["userId"], m["sessionId"]) for m in chosen}),
                   "users": len({m["userId"] for m in chosen})},
        "events": [{"event": e, "count": n}
                   for e, n in sorted(events.items(), key=lambda item: (-item[1], item[0]))],
        "topPages": [{"path": p, "count": n}
                     for p, n in sorted(paths.items(), key=lambda item: (-item[1], item[0]))[:10]],
        "series": series,
    }


def expected_bucket(zone: str | None, start: int, end: int) -> str:
    for bucket in ("1m", "1h"):
        if end - start <= 500 * (MINUTE if bucket == "1m" else 60 * MINUTE) and \
                len(bucket_starts(bucket, zone, start, end)) <= 400:
            return bucket
    return "1d"
