"""Visits across a window's cuts: the few whose stored counts cannot say which bucket (or
whether the window) holds their page views, and those page views read from their movements.

A window cut into buckets counts a visit in the bucket of its first movement,
and a visit that lies inside one bucket by its stored counts. Only visits that
began before a cut and ended at or after it need their movements, stored or
archived: two index ranges of visits per cut find them (those that began less
than LONG_VISIT_MS before it, and the long ones), never a pass over the
window's visits.
"""

from __future__ import annotations

import bisect
import json
from dataclasses import dataclass

import apsw

from tracker.analytics.filters import PASSES, VISIT_DIMENSIONS, Filters
from tracker.analytics.rollups import PAGE_VIEW, page_path
from tracker.storage import archives

# Visits of at least this long have their own index (idx_visits_long): a visit running
# across an instant began less than this before it, or is one of those.
LONG_VISIT_MS = 3_600_000

# Visits passing the filters that run across a cut (:cuts, a JSON array; :start the
# window's start), with the broken-down dimension's value. A visit across an inner cut
# that began before the window runs across its start too, so only the start's own search
# looks earlier. CROSS JOIN keeps the cuts outside: one index range of visits per cut.
SPANNING_RECENT = """
WITH c(at) AS (SELECT value FROM json_each(:cuts))
SELECT v.id, v.userId, v.sessionId, v.first, v.last, {value} FROM c CROSS JOIN visits v NOT INDEXED
WHERE v.first >= c.at - {long} AND v.first < c.at AND v.last >= c.at
  AND (c.at = :start OR v.first >= :start) AND {passes}
"""
SPANNING_LONG = """
WITH c(at) AS (SELECT value FROM json_each(:cuts))
SELECT v.id, v.userId, v.sessionId, v.first, v.last, {value}
FROM c CROSS JOIN visits v INDEXED BY idx_visits_long
WHERE v.first >= iif(c.at = :start, 0, :start) AND v.first < c.at - {long}
  AND v.last - v.first >= {long} AND v.last >= c.at AND {passes}
"""
# Per broken-down dimension (None: none), the two searches.
SPANNING = {
    dimension: tuple(query.format(value=f"v.{dimension}" if dimension else "NULL",
                                  long=LONG_VISIT_MS, passes=PASSES)
                     for query in (SPANNING_RECENT, SPANNING_LONG))
    for dimension in (None, *VISIT_DIMENSIONS)
}

# :visits: [visit id, userId, sessionId, from, to] of each visit; :paths: whether to read
# the paths. The visits stay outside: one range of the user's movements per visit (the
# event index would read every page view of the time between).
VISIT_PAGE_VIEWS = f"""
WITH s(visit, userId, sessionId, low, high) AS (
  SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4 FROM json_each(:visits)
)
SELECT s.visit, m.timestamp, iif(:paths, m.data, NULL)
FROM s CROSS JOIN movements m INDEXED BY idx_movements_user_time
WHERE m.userId = s.userId AND m.timestamp >= s.low AND m.timestamp < s.high
  AND m.sessionId = s.sessionId AND m.event = '{PAGE_VIEW}'
"""

ARCHIVED_IN = "SELECT 1 FROM archives WHERE last >= ? AND first < ? LIMIT 1"

@dataclass(frozen=True)
class Span:
    """A window cut into buckets: cuts[i] to cuts[i + 1] is bucket i."""

    cuts: tuple[int, ...]

    @property
    def start(self) -> int:
        return self.cuts[0]

    @property
    def end(self) -> int:
        return self.cuts[-1]

    def bucket_of(self, instant: int) -> int:
        return bisect.bisect_right(self.cuts, instant) - 1


@dataclass(frozen=True)
class Visit:
    id: int
    userId: str
    sessionId: str
    first: int
    last: int
    value: str | None  # the broken-down dimension's value, when there is one


def spanning_visits(conn: apsw.Connection, span: Span, filters: Filters,
                     dimension: str | None = None) -> list[Visit]:
    """Visits passing the filters with page views in the window that their stored counts
    cannot place: those running across a cut (the window's start, a bucket's end), having
    begun before it and ended at or after it.

    Such a visit began less than LONG_VISIT_MS before the cut, or is a long one: two index
    ranges per cut, never a pass over the window's visits."""
    params = {**filters.params(), "cuts": json.dumps(list(span.cuts)), "start": span.start}
    found = {}
    for query in SPANNING[dimension]:
        for row in conn.execute(query, params):
            found[row[0]] = Visit(*row)
    return list(found.values())


def page_views_of(conn: apsw.Connection, visits: list[Visit], span: Span,
                   paths: bool) -> dict[int, list[tuple[int, str | None]]]:
    """(time, path) of each visit's page views in the window, stored or archived, by visit id;
    the path is None unless `paths`, and the archives are read only when they reach the window."""
    found: dict[int, list[tuple[int, str | None]]] = {visit.id: [] for visit in visits}
    if not visits:
        return found
    bounds = {visit.id: (max(visit.first, span.start), min(visit.last + 1, span.end))
              for visit in visits}
    stored = json.dumps([[visit.id, visit.userId, visit.sessionId, *bounds[visit.id]]
                         for visit in visits])
    for visit, timestamp, data in conn.execute(VISIT_PAGE_VIEWS, {"visits": stored, "paths": paths}):
        found[visit].append((timestamp, None if data is None else page_path(PAGE_VIEW, data)))
    if conn.execute(ARCHIVED_IN, (span.start, span.end)).fetchone() is None:
        return found
    for visit in visits:
        low, high = bounds[visit.id]
        found[visit.id] += [(m.timestamp, page_path(PAGE_VIEW, bytes(m.data)) if paths else None)
                            for m in archives.movements_in(conn, low, high, visit.userId)
                            if m.sessionId == visit.sessionId and m.event == PAGE_VIEW]
    return found
