"""GET /retention answers: cohorts of new users and the later periods they came back in.

A user's cohort is the period holding its first movement ever: the `first`
of its all-events span in the rollups, which count archived movements too.
Whether it has a movement in a later period [a, b) follows from its span and
gaps (of one event, or of all) as in `rollups.py`: it has one in every period
its span meets except those lying wholly inside one of its gaps, and periods
are days or weeks, longer than GAP_MS, so every such gap is stored. So the
users of a cohort active in period p are its spans meeting p less its gaps
holding p (a user's gaps are disjoint). SQLite counts the spans and gaps of
each cohort by the periods they start and end in, in one pass over the
cohort's rows; the running sums over the periods are done here.

Identified users alone make cohorts unless anonymous ones are asked for: an
anonymous visitor's id changes every day (its salt does), so each of its days
would make a "new user" who never comes back, and day-1 retention would read
far lower than it is.

Shards hold disjoint users, so their shares add up.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from itertools import accumulate

import apsw

from tracker.analytics import zones
from tracker.analytics.rollups import ALL_EVENTS, DAY, USERS
from tracker.enrich.visitor_ids import ANONYMOUS_PREFIX
from tracker.storage import archives

PERIODS = ("day", "week")

# What a row of COHORT_COUNTS counts.
COHORT, SPAN, GAP = 0, 1, 2

# Rows (what, cohort, a, b, n) for the cohorts of the periods [:low, :high) (of identified
# users only, unless :anonymous): per cohort, its users; its users' spans of the event
# asked about (:event, '' for every event) that start in period a and end in period b;
# its users' gaps of that event that start in period a and end in period b, if some
# period lies between. The cohort users are found by
# the index on (kind, event, first), then (CROSS JOIN: in this order) their spans
# and gaps by their primary keys.
# Placeholders in braces: the SQL of period_of() for each time.
COHORT_COUNTS = f"""
WITH cohort AS MATERIALIZED (
  SELECT userId, {{first}} AS c FROM activity_spans
  WHERE kind = {USERS} AND event = '{ALL_EVENTS}' AND first >= :low AND first < :high
    AND (:anonymous OR substr(userId, 1, {len(ANONYMOUS_PREFIX)}) != '{ANONYMOUS_PREFIX}'))
SELECT {COHORT}, c, 0, 0, count(*) FROM cohort GROUP BY c
UNION ALL
SELECT {SPAN}, c, a, b, count(*) FROM (
  SELECT cohort.c, {{span_first}} AS a, {{span_last}} AS b
  FROM cohort CROSS JOIN activity_spans AS s
    ON s.userId = cohort.userId AND s.sessionId = '' AND s.kind = {USERS} AND s.event = :event)
GROUP BY c, a, b
UNION ALL
SELECT {GAP}, c, a, b, count(*) FROM (
  SELECT cohort.c, {{gap_prev}} AS a, {{gap_next}} AS b
  FROM cohort CROSS JOIN activity_gaps AS g
    ON g.userId = cohort.userId AND g.sessionId = '' AND g.kind = {USERS} AND g.event = :event
    AND g.prev < :high AND g.next > :low)
WHERE b - a >= 2
GROUP BY c, a, b
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
    clock = zone or UTC
    weeks = [datetime.fromtimestamp(t / 1000, clock).isocalendar()[:2] for t in days]
    return [t for t, week, before in zip(days[1:], weeks[1:], weeks) if week != before]


def cohorts_share(conn: apsw.Connection, cuts: list[int], event: str | None,
                  anonymous: bool = False) -> Cohorts:
    return archives.read_consistently(conn, _cohorts_share, cuts, event or ALL_EVENTS, anonymous)


def _cohorts_share(conn: apsw.Connection, cuts: list[int], event: str, anonymous: bool) -> Cohorts:
    listed = len(cuts) - 1
    found = empty_cohorts(listed)
    if not listed:
        return found
    # changes[c][p]: how many more users of cohort c are active in period p than in p - 1.
    changes = [[0] * (listed + 2) for _ in range(listed)]
    params = {"low": cuts[0], "high": cuts[-1], "event": event, "anonymous": anonymous,
              **{f"cut{i}": cut for i, cut in enumerate(cuts)}}
    for what, cohort, a, b, n in conn.execute(cohort_counts(len(cuts)), params):
        if what == COHORT:
            found.users[cohort] += n
        elif what == SPAN:  # active in a..b
            changes[cohort][a] += n
            changes[cohort][b + 1] -= n
        else:  # not active in a + 1..b - 1
            changes[cohort][a + 1] -= n
            changes[cohort][b] += n
    for cohort, change in enumerate(changes):
        active = list(accumulate(change))
        found.returned[cohort] = active[cohort:listed]
    return found


@cache
def cohort_counts(cut_count: int) -> str:
    """COHORT_COUNTS for `cut_count` cuts, bound as :cut0, :cut1, ..."""
    return COHORT_COUNTS.format(
        first=period_of("first", cut_count), span_first=period_of("s.first", cut_count),
        span_last=period_of("s.last", cut_count), gap_prev=period_of("g.prev", cut_count),
        gap_next=period_of("g.next", cut_count))


def period_of(column: str, cut_count: int) -> str:
    """SQL for the index i of the period [:cut<i>, :cut<i+1>) holding `column`: a binary search
    over the cuts' parameters, -1 before :cut0 and cut_count - 1 from the last cut on. Its
    shape depends only on how many cuts there are; their values are bound."""

    def search(low: int, high: int) -> str:  # the index, knowing low <= it <= high
        if low == high:
            return str(low)
        middle = (low + high + 1) // 2
        return f"iif({column} < :cut{middle}, {search(low, middle - 1)}, {search(middle, high)})"

    return search(-1, cut_count - 1)
