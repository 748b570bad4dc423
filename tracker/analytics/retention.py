"""GET /retention answers: cohorts of new users and the later periods they came back in.

A user's cohort is the period holding its first movement ever: the `first`
of its all-events span in the rollups, which count archived movements too.
Whether it has a movement in a later period [a, b) follows from its span and
gaps (of one event, or of all) as in `rollups.py`: periods are days or weeks,
longer than GAP_MS, so every gap that could hide one is stored. Each user's
span and gaps are read once and walked in one pass over the periods.

Shards hold disjoint users, so their shares add up.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Iterator

import apsw

from tracker.analytics import zones
from tracker.analytics.rollups import ALL_EVENTS, DAY, USERS
from tracker.storage import archives

PERIODS = ("day", "week")

# The cohort users (first movement in [?1, ?2)) by the index on (kind, event, first),
# each with its span of the event asked about (?3; '' for every event), if any.
COHORT_SPANS = f"""
SELECT c.userId, c.first, s.first, s.last FROM activity_spans AS c
LEFT JOIN activity_spans AS s
  ON s.userId = c.userId AND s.sessionId = '' AND s.kind = {USERS} AND s.event = ?3
WHERE c.kind = {USERS} AND c.event = '{ALL_EVENTS}' AND c.first >= ?1 AND c.first < ?2
"""

# Their gaps of that event that meet the periods [?1, ?2).
COHORT_GAPS = f"""
SELECT g.userId, g.prev, g.next FROM activity_spans AS c
JOIN activity_gaps AS g
  ON g.userId = c.userId AND g.sessionId = '' AND g.kind = {USERS} AND g.event = ?3
  AND g.prev < ?2 AND g.next > ?1
WHERE c.kind = {USERS} AND c.event = '{ALL_EVENTS}' AND c.first >= ?1 AND c.first < ?2
"""


@dataclass
class Cohorts:
    """Per listed period: its new users, and how many of them were active k periods later."""

    users: list[int]
    returned: list[list[int]] = field(default_factory=list)

    def add(self, other: Cohorts) -> Cohorts:
        self.users = [a + b for a, b in zip(self.users, other.users)]
        self.returned = [[a + b for a, b in zip(mine, theirs)]
                         for mine, theirs in zip(self.returned, other.returned)]
        return self


def empty_cohorts(listed: int) -> Cohorts:
    return Cohorts([0] * listed, [[0] * (listed - c) for c in range(listed)])


def period_cuts(period: str, zone: zones.ZoneInfo | None, start: int, end: int) -> list[int]:
    """Starts of the periods starting in [start, end), then the end of the last one."""
    # From a day early, so that a week starting at `start` is seen to start there.
    days = zones.bucket_starts("1d", zone, start - DAY, end + 9 * DAY)
    if period == "week":
        days = _week_starts(days, zone)
    starts = [t for t in days if t >= start]
    listed = bisect.bisect_left(starts, end)
    return starts[:listed + 1]


def _week_starts(days: list[int], zone: zones.ZoneInfo | None) -> list[int]:
    """The local days that begin an ISO week (a Monday, or the first day after a skipped one)."""
    clock = zone or timezone.utc
    weeks = [datetime.fromtimestamp(t / 1000, clock).isocalendar()[:2] for t in days]
    return [t for t, week, before in zip(days[1:], weeks[1:], weeks) if week != before]


def cohorts_share(conn: apsw.Connection, cuts: list[int], event: str | None) -> Cohorts:
    return archives.read_consistently(conn, _cohorts_share, cuts, event or ALL_EVENTS)


def _cohorts_share(conn: apsw.Connection, cuts: list[int], event: str) -> Cohorts:
    listed = len(cuts) - 1
    found = empty_cohorts(listed)
    if not listed:
        return found
    bounds = (cuts[0], cuts[-1], event)
    gaps: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for user, prev, next_ in conn.execute(COHORT_GAPS, bounds):
        gaps[user].append((prev, next_))
    for user, joined, first, last in conn.execute(COHORT_SPANS, bounds):
        cohort = bisect.bisect_right(cuts, joined) - 1
        found.users[cohort] += 1
        if first is None:
            continue
        for period in active_periods(cuts, first, last, sorted(gaps.get(user, ()))):
            if period >= cohort:
                found.returned[cohort][period - cohort] += 1
    return found


def active_periods(cuts: list[int], first: int, last: int,
                   gaps: list[tuple[int, int]]) -> Iterator[int]:
    """Indexes of the periods [cuts[i], cuts[i + 1]) holding a movement, ascending, each once.

    The movements lie in the stretches between the gaps, each from a movement
    to a movement with no gap longer than any period inside it.
    """
    after = -1  # the last period yielded
    for low, high in _stretches(first, last, gaps):
        begin = max(bisect.bisect_right(cuts, low) - 1, after + 1, 0)
        end = min(bisect.bisect_right(cuts, high) - 1, len(cuts) - 2)
        yield from range(begin, end + 1)
        after = max(after, end)


def _stretches(first: int, last: int, gaps: list[tuple[int, int]]) -> Iterator[tuple[int, int]]:
    """[from, to] of the stretches of movements between the gaps (sorted by start)."""
    low = first
    for prev, next_ in gaps:
        yield low, prev
        low = next_
    yield low, last
