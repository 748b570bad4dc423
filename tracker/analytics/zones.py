"""Bucket boundaries on a zone's clock: local minutes, hours and midnights as UTC instants.

A zone's offset is constant between transitions, so within each stretch of
one offset the boundaries are a plain grid shifted by that offset. A `1h`
bucket starts wherever the local clock reads hh:00:00 (a repeated hour gives
two, a skipped one none); a `1d` bucket at the first instant of each local
date, which after a transition across midnight is the transition itself.
"""

from __future__ import annotations

import bisect
import functools
import zoneinfo
from datetime import datetime
from zoneinfo import ZoneInfo

from tracker.analytics.rollups import DAY, HOUR, MINUTE
from tracker.schemas import Bucket

BUCKETS = {"1m": MINUTE, "1h": HOUR, "1d": DAY}

# Offsets are sampled this often to find transitions (zones change offset at
# most a few times a year); boundaries are computed from this far before the
# window so that the bucket holding its start is known even after a skipped day.
SAMPLE_MS = HOUR
LEAD_MS = 2 * DAY


@functools.cache
def known_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def zone_named(name: str) -> ZoneInfo | None:
    """The zone of that IANA name, or None when there is no such zone."""
    return ZoneInfo(name) if name in known_zones() else None


def offset_ms(zone: ZoneInfo | None, instant: int) -> int:
    if zone is None:
        return 0
    # Transitions fall on whole seconds, so the second holding `instant` has its offset.
    offset = datetime.fromtimestamp(instant // 1000, zone).utcoffset()
    return 0 if offset is None else int(offset.total_seconds()) * 1000


def stretches(zone: ZoneInfo | None, start: int, end: int) -> list[tuple[int, int, int]]:
    """(from, to, offset) pieces of [start, end) over which the zone's offset is constant."""
    if zone is None:
        return [(start, end, 0)]
    pieces = []
    begin, offset = start, offset_ms(zone, start)
    low = start
    while low < end - 1:
        high = min(low + SAMPLE_MS, end - 1)
        if offset_ms(zone, high) == offset:
            low = high
            continue
        change = _transition(zone, low, high, offset)
        pieces.append((begin, change, offset))
        begin, offset, low = change, offset_ms(zone, change), change
    pieces.append((begin, end, offset))
    return pieces


def _transition(zone: ZoneInfo | None, low: int, high: int, before: int) -> int:
    """The first whole second in (low, high] whose offset differs from `before`."""
    low_s, high_s = low // 1000, high // 1000
    while high_s - low_s > 1:
        middle = (low_s + high_s) // 2
        if offset_ms(zone, middle * 1000) == before:
            low_s = middle
        else:
            high_s = middle
    return high_s * 1000


def boundaries(bucket: str, zone: ZoneInfo | None, start: int, end: int) -> list[int]:
    """Every instant in [start, end) at which a bucket of that size begins, ascending."""
    size = BUCKETS[bucket]
    found: list[int] = []
    last_date: int | None = None
    for begin, finish, offset in stretches(zone, start, end):
        local_begin = begin + offset
        if bucket == "1d" and (last_date is None or local_begin // DAY > last_date):
            found.append(begin)  # the clock jumped into a new date here
            last_date = local_begin // DAY
        for local in range(-(-local_begin // size) * size, finish + offset, size):
            if bucket == "1d":
                if last_date is not None and local // DAY <= last_date:
                    continue  # a date seen before the clock went back
                last_date = local // DAY
            found.append(local - offset)
    return found


def bucket_starts(bucket: str, zone: ZoneInfo | None, start: int, end: int) -> list[int]:
    """Starts of the buckets meeting [start, end), ascending: the first holds `start`."""
    found = boundaries(bucket, zone, start - LEAD_MS, end)
    return found[bisect.bisect_right(found, start) - 1:]


def bucket_for_window(zone: ZoneInfo | None, start: int, end: int, most: int) -> Bucket:
    """The smallest bucket giving at most `most` buckets over [start, end), else `1d`."""
    for bucket in ("1m", "1h"):
        # A skipped hour or day makes fewer buckets than the length suggests, never more than DAY's worth.
        plausible = end - start <= most * BUCKETS[bucket] + DAY
        if plausible and len(bucket_starts(bucket, zone, start, end)) <= most:
            return bucket
    return "1d"
