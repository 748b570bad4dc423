"""Web analytics: one shard's share of GET /stats and GET /breakdown.

Shards are disjoint by user, so shares add up, distinct visitors included.
Every share is read in one transaction (`archives.read_consistently`).

Visits are counted in the bucket of their first movement, from the visits
table (`tracker/analytics/visits.py`). Without filters, a bucket's visitors
are its visits whose user's previous visit began before the bucket, one
range of a covering index per bucket; with filters, a distinct count of the
visits that pass. Page views are counted where they happen: without filters
from the rollups, like /analytics; with filters, a visit that lies inside
one bucket gives its stored count, and the few that run across a bucket's
edge (or the window's start) are counted from their movements, stored or
archived. Without filters, page breakdowns take each path's visitors and
visits from the rollups' page entities (`page_audiences`) and event
breakdowns from its event entities; with filters, event breakdowns add up the
stored per-event counts (`visit_events`) of the passing visits inside the
window, and count the movements of those across its edges, and property
breakdowns read the window's movements of the visits that pass.
"""

from __future__ import annotations

import bisect
import json
from collections import Counter
from dataclasses import dataclass, field

import apsw

from tracker.analytics import activity
from tracker.analytics.filters import (
    COUNTED_MOVEMENT,
    COUNTED_PAGEVIEWS,
    FILTERED_PAGEVIEWS,
    PAGE,
    PAGE_PATHS,
    PASSES,
    VISIT_DIMENSIONS,
    Filters,
    driven,
)
from tracker.analytics.rollups import (
    GAP_MS,
    PAGE_SESSIONS,
    PAGE_USERS,
    PAGE_VIEW,
    SESSIONS,
    USERS,
    page_path,
)
from tracker.analytics.visit_chains import CHAINED
from tracker.storage import archives

EVENT = "event"
PROPERTY = "prop:"

# Visits of at least this long have their own index (idx_visits_long): a visit running
# across an instant began less than this before it, or is one of those.
LONG_VISIT_MS = 3_600_000

# A bucket's visits, visitors, visitors of the whole window (:start its start), bounces,
# duration: one range of a covering index per bucket.
UNFILTERED_BUCKET = """
SELECT count(*), coalesce(sum(v.prev IS NULL OR v.prev < :low), 0),
       coalesce(sum(v.prev IS NULL OR v.prev < :start), 0), coalesce(sum(v.movements = 1), 0),
       coalesce(sum(v.last - v.first), 0)
FROM visits v INDEXED BY idx_visits_first WHERE v.first >= :low AND v.first < :high
"""

# The table is clustered by first movement: a window's visits are one range of it.
FILTERED_BUCKET = driven(f"""
SELECT count(*), count(DISTINCT v.userId), coalesce(sum(v.movements = 1), 0),
       coalesce(sum(v.last - v.first), 0), coalesce(sum(iif(v.last < :high, {COUNTED_PAGEVIEWS}, 0)), 0)
FROM visits v NOT INDEXED WHERE v.first >= :low AND v.first < :high AND {PASSES}
""")

FILTERED_VISITORS = driven(f"""
SELECT count(DISTINCT v.userId) FROM visits v NOT INDEXED
WHERE v.first >= :low AND v.first < :high AND {PASSES}
""")

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

# Per dimension: the window's visits passing the filters grouped by their value.
BY_VISIT_DIMENSION = {dimension: driven(f"""
SELECT v.{dimension}, count(DISTINCT v.userId), count(*), sum(iif(v.last < :end, {COUNTED_PAGEVIEWS}, 0)),
       sum(v.movements = 1), sum(v.last - v.first)
FROM visits v NOT INDEXED WHERE v.first >= :start AND v.first < :end AND {PASSES}
GROUP BY v.{dimension}
""") for dimension in VISIT_DIMENSIONS}

# Without filters, per dimension with a per-value chain: each value's visitors are its
# visits whose previous one with that value began before the window (visit_chains.py), and
# its index holds the rest in the value's order, so there is neither a sort nor a distinct
# count. The index is read whole: it is narrow, and a value's entries of the window are not
# one range of it.
BY_CHAINED_DIMENSION = {dimension: f"""
SELECT v.{dimension}, sum(v.{column} IS NULL OR v.{column} < :start), count(*),
       sum(iif(v.last < :end, v.pageviews, 0)), sum(v.movements = 1), sum(v.last - v.first)
FROM visits v INDEXED BY idx_visits_{dimension} WHERE v.first >= :start AND v.first < :end
GROUP BY v.{dimension}
""" for dimension, column in CHAINED.items()}

# Page views by path: of the visits inside the window from `visit_pages`, and :spanning
# ([path, userId, visit id, page views] of those across its edges).
BY_PAGE = driven(f"""
WITH spanning(path, userId, visit, n) AS (
  SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3 FROM json_each(:spanning)
), counted(path, userId, visit, n) AS (
  SELECT q.path, v.userId, v.id, q.n FROM visits v NOT INDEXED JOIN visit_pages q ON q.visit = v.id
  WHERE v.first >= :start AND v.last < :end AND {PASSES}
    AND (:f_page IS NULL OR q.path IN {PAGE_PATHS})
  UNION ALL SELECT * FROM spanning
)
SELECT path, count(DISTINCT userId), count(*), sum(n) FROM counted GROUP BY path
""")

VISIT_MOVEMENTS = f"""
SELECT event, iif(event = '{PAGE_VIEW}', data, NULL) FROM movements
WHERE userId = ? AND timestamp >= ? AND timestamp < ? AND sessionId = ?
"""

PARTIAL_VISITS = f"""
SELECT v.id, v.userId, v.sessionId, v.first, v.last, NULL
FROM visit_events_partial p CROSS JOIN visits v ON v.id = p.visit
WHERE v.first < :end AND v.last >= :start AND {PASSES}
"""

# Events by name: of the visits inside the window with full counts from `visit_events`
# (page views of the filtered paths only, with a page filter), and :outside ([event,
# userId, visit id, n] of the others).
BY_EVENT = driven(f"""
WITH outside(event, userId, visit, n) AS (
  SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3 FROM json_each(:outside)
), counted(event, userId, visit, n) AS (
  SELECT e.event, v.userId, v.id,
         iif(:f_page IS NOT NULL AND e.event = '{PAGE_VIEW}', {FILTERED_PAGEVIEWS}, e.n)
  FROM visits v NOT INDEXED CROSS JOIN visit_events e ON e.visit = v.id
  WHERE v.first >= :start AND v.last < :end AND {PASSES}
    AND v.id NOT IN (SELECT visit FROM visit_events_partial)
  UNION ALL SELECT * FROM outside
)
SELECT event, count(DISTINCT userId), count(*), sum(n) FROM counted WHERE n > 0 GROUP BY event
""")

# One event's (:event, or every event's) movements of the passing visits grouped by
# data[:key] as text (a string as is, a number or boolean as its JSON text, else NULL),
# stored, and :archived ([event, userId, visit id, data] of archived ones that count).
BY_PROPERTY = f"""
WITH archived(event, userId, visit, data) AS (
  SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3 FROM json_each(:archived)
), counted(event, userId, visit, data) AS (
  SELECT m.event, m.userId, v.id, m.data FROM movements m
  JOIN visits v ON v.userId = m.userId AND v.sessionId = m.sessionId
  WHERE m.timestamp >= :start AND m.timestamp < :end AND (:event IS NULL OR m.event = :event)
    AND {PASSES} AND {COUNTED_MOVEMENT}
  UNION ALL SELECT * FROM archived
)
SELECT (SELECT CASE type WHEN 'text' THEN value WHEN 'integer' THEN data -> fullkey
                WHEN 'real' THEN data -> fullkey WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' END
        FROM json_each(data) WHERE key = :key) AS grouped,
       count(DISTINCT userId), count(DISTINCT visit), count(*)
FROM counted GROUP BY grouped
"""

PASSING_VISIT = f"""
SELECT v.id FROM visits v WHERE v.userId = :user AND v.sessionId = :session AND {PASSES}
"""


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


@dataclass
class StatsShare:
    """Per bucket [visitors, visits, bounces, duration ms, pageviews], and the window's visitors."""

    series: list[list[int]]
    visitors: int = 0

    def add(self, other: StatsShare) -> StatsShare:
        for mine, theirs in zip(self.series, other.series):
            for i, value in enumerate(theirs):
                mine[i] += value
        self.visitors += other.visitors
        return self


def empty_stats(span: Span) -> StatsShare:
    return StatsShare([[0, 0, 0, 0, 0] for _ in span.cuts[1:]])


@dataclass
class Row:
    """One breakdown value's counts; `events` holds pageviews for visit and page rows."""

    visitors: int = 0
    visits: int = 0
    events: int = 0
    bounces: int = 0
    duration: int = 0

    def add(self, other: Row) -> Row:
        self.visitors += other.visitors
        self.visits += other.visits
        self.events += other.events
        self.bounces += other.bounces
        self.duration += other.duration
        return self


@dataclass
class BreakdownShare:
    rows: dict[str | None, Row] = field(default_factory=dict)

    def add(self, other: BreakdownShare) -> BreakdownShare:
        """Add `other`'s rows to these, taking over those of values not here yet (a share is
        added once, and a breakdown by source has thousands of values in every shard)."""
        for value, row in other.rows.items():
            mine = self.rows.get(value)
            if mine is None:
                self.rows[value] = row
            else:
                mine.add(row)
        return self

    def row(self, value: str | None) -> Row:
        return self.rows.setdefault(value, Row())


def stats_shares(conn: apsw.Connection, spans: tuple[Span, ...], filters: Filters) -> list[StatsShare]:
    """The share of each window (a window and the one before it, to compare), in one
    transaction: one task per shard, and windows read from the same snapshot."""
    return archives.read_consistently(conn, _stats_shares, spans, filters)


def _stats_shares(conn: apsw.Connection, spans: tuple[Span, ...], filters: Filters) -> list[StatsShare]:
    return [_stats_share(conn, span, filters) for span in spans]


def breakdown_share(conn: apsw.Connection, by: str, span: Span, filters: Filters,
                    event: str | None) -> BreakdownShare:
    return archives.read_consistently(conn, _breakdown_share, by, span, filters, event)


def _stats_share(conn: apsw.Connection, span: Span, filters: Filters) -> StatsShare:
    share = empty_stats(span)
    buckets = list(zip(span.cuts, span.cuts[1:]))
    if not filters:
        for i, (low, high) in enumerate(buckets):
            visits, visitors, window_visitors, bounces, duration = conn.execute(
                UNFILTERED_BUCKET, {"low": low, "high": high, "start": span.start}).fetchone()
            share.series[i][:4] = [visitors, visits, bounces, duration]
            share.visitors += window_visitors
        for i, count in enumerate(_page_views_per_bucket(conn, span)):
            share.series[i][4] = count
        return share
    params = filters.params()
    for i, (low, high) in enumerate(buckets):
        visits, visitors, bounces, duration, counted = conn.execute(
            FILTERED_BUCKET[filters.driving], {**params, "low": low, "high": high}).fetchone()
        share.series[i] = [visitors, visits, bounces, duration, counted]
    share.visitors = conn.execute(
        FILTERED_VISITORS[filters.driving], {**params, "low": span.start, "high": span.end}).fetchone()[0]
    spanning = _spanning_visits(conn, span, filters)
    for views in _page_views_of(conn, spanning, span, bool(filters.pages)).values():
        for timestamp, path in views:
            if filters.counts_page(path):
                share.series[span.bucket_of(timestamp)][4] += 1
    return share


def _page_views_per_bucket(conn: apsw.Connection, span: Span) -> list[int]:
    """Every page view per bucket, from the rollups and the raw ends (as /analytics counts them)."""
    counts = [0] * (len(span.cuts) - 1)
    raw, slots = activity.split_pieces(activity.pieces(list(span.cuts)))
    for start, end in raw:
        for row in activity.raw_movements(conn, start, end, PAGE_VIEW):
            counts[span.bucket_of(row[0])] += 1
    for slot, movements, _page_views in conn.execute(activity.SLOT_TOTALS, (slots, PAGE_VIEW)):
        counts[span.bucket_of(slot)] += movements
    return counts


@dataclass(frozen=True)
class Visit:
    id: int
    userId: str
    sessionId: str
    first: int
    last: int
    value: str | None  # the broken-down dimension's value, when there is one


def _spanning_visits(conn: apsw.Connection, span: Span, filters: Filters,
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


def _page_views_of(conn: apsw.Connection, visits: list[Visit], span: Span,
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


def _breakdown_share(conn: apsw.Connection, by: str, span: Span, filters: Filters,
                     event: str | None) -> BreakdownShare:
    if by in VISIT_DIMENSIONS:
        return _by_visit_dimension(conn, by, span, filters)
    if by == PAGE:
        return _by_page(conn, span, filters)
    if by == EVENT and not filters and span.end - span.start >= GAP_MS:
        return _events_from_rollups(conn, span)
    if by == EVENT:
        return _by_event(conn, span, filters)
    return _by_property(conn, by.removeprefix(PROPERTY), span, filters, event)


def _by_visit_dimension(conn: apsw.Connection, dimension: str, span: Span,
                        filters: Filters) -> BreakdownShare:
    share = BreakdownShare()
    params = {**filters.params(), "start": span.start, "end": span.end}
    query = (BY_CHAINED_DIMENSION[dimension] if not filters and dimension in CHAINED
             else BY_VISIT_DIMENSION[dimension][filters.driving])
    for value, *counts in conn.execute(query, params):
        share.rows[value] = Row(*counts)
    spanning = _spanning_visits(conn, span, filters, dimension)
    views = _page_views_of(conn, spanning, span, bool(filters.pages))
    for visit in spanning:
        counted = sum(filters.counts_page(path) for _t, path in views[visit.id])
        if counted:
            share.row(visit.value).events += counted
    return share


def _by_page(conn: apsw.Connection, span: Span, filters: Filters) -> BreakdownShare:
    """Page views grouped by path: of visits inside the window from `visit_pages`, of those
    spanning its edges from their movements, with distinct users over both. A visit is one
    row per path on either side, so its rows count the visits."""
    spanning = []
    visits = _spanning_visits(conn, span, filters)
    views = _page_views_of(conn, visits, span, True)
    for visit in visits:
        paths = Counter(path for _t, path in views[visit.id]
                        if path is not None and filters.counts_page(path))
        spanning += [[path, visit.userId, visit.id, n] for path, n in paths.items()]
    share = BreakdownShare()
    params = {**filters.params(), "spanning": json.dumps(spanning), "start": span.start,
              "end": span.end}
    for path, *counts in conn.execute(BY_PAGE[filters.driving], params):
        share.rows[path] = Row(*counts)
    return share


def page_views_by_path(conn: apsw.Connection, span: Span) -> Counter:
    """Page views per path in the window, from the rollups and the raw ends."""
    return archives.read_consistently(conn, _page_views_by_path, span)


def _page_views_by_path(conn: apsw.Connection, span: Span) -> Counter:
    raw, slots = activity.split_pieces(activity.pieces([span.start, span.end]))
    pages: Counter = Counter()
    for start, end in raw:
        for row in activity.raw_movements(conn, start, end, PAGE_VIEW):
            path = page_path(PAGE_VIEW, row[4])
            if path is not None:
                pages[path] += 1
    pages.update(dict(conn.execute(activity.PAGE_TOTALS, (slots,))))
    return pages


def page_audiences(conn: apsw.Connection, paths: list[str], span: Span) -> BreakdownShare:
    """Visitors and visits that viewed each path in the window, from the rollups' page
    entities (a window of at least GAP_MS)."""
    share = BreakdownShare()
    with conn:
        for path in paths:
            share.rows[path] = Row(
                visitors=activity.active_entities(conn, PAGE_USERS, path, span.start, span.end),
                visits=activity.active_entities(conn, PAGE_SESSIONS, path, span.start, span.end))
    return share


def _events_from_rollups(conn: apsw.Connection, span: Span) -> BreakdownShare:
    """Every event: its movements from the rollups, its users and visits from the entity spans."""
    raw, slots = activity.split_pieces(activity.pieces([span.start, span.end]))
    events: Counter = Counter()
    for start, end in raw:
        events.update(row[1] for row in activity.raw_movements(conn, start, end, None))
    events.update(dict(conn.execute(activity.EVENT_TOTALS, (slots, None))))
    share = BreakdownShare()
    for event, count in events.items():
        share.rows[event] = Row(
            visitors=activity.active_entities(conn, USERS, event, span.start, span.end),
            visits=activity.active_entities(conn, SESSIONS, event, span.start, span.end),
            events=count)
    return share


def _by_event(conn: apsw.Connection, span: Span, filters: Filters) -> BreakdownShare:
    """Events of the visits that pass the filters, with a page filter page views of its paths
    only: of the visits inside the window from their counts (`visit_events`, `visit_pages`),
    of those running across its edges, and of those without full counts, from their movements
    in the window, stored or archived."""
    params = {**filters.params(), "start": span.start, "end": span.end}
    outside = {visit.id: visit for visit in _spanning_visits(conn, span, filters)}
    for row in conn.execute(PARTIAL_VISITS, params):
        outside.setdefault(row[0], Visit(*row))
    counted = []
    for visit in outside.values():
        events = Counter(event for event, path in _visit_movements(conn, visit, span)
                         if event != PAGE_VIEW or filters.counts_page(path))
        counted += [[event, visit.userId, visit.id, n] for event, n in events.items()]
    share = BreakdownShare()
    for event, *counts in conn.execute(BY_EVENT[filters.driving], {**params, "outside": json.dumps(counted)}):
        share.rows[event] = Row(*counts)
    return share


def _visit_movements(conn: apsw.Connection, visit: Visit, span: Span) -> list[tuple[str, str | None]]:
    """(event, page view path) of a visit's movements in the window, stored or archived."""
    low, high = max(visit.first, span.start), min(visit.last + 1, span.end)
    found = [(event, data if data is None else page_path(PAGE_VIEW, data)) for event, data in
             conn.execute(VISIT_MOVEMENTS, (visit.userId, low, high, visit.sessionId))]
    found += [(m.event, page_path(m.event, bytes(m.data)))
              for m in archives.movements_in(conn, low, high, visit.userId)
              if m.sessionId == visit.sessionId]
    return found


def _by_property(conn: apsw.Connection, key: str, span: Span, filters: Filters,
                 event: str | None) -> BreakdownShare:
    """One event's property values, over the window's movements of the visits that pass the
    filters, stored and archived, with distinct visits and users over both."""
    params = {**filters.params(), "start": span.start, "end": span.end, "event": event, "key": key,
              "archived": json.dumps(_archived_rows(conn, span, filters, event))}
    share = BreakdownShare()
    for grouped, *counts in conn.execute(BY_PROPERTY, params):
        share.rows[grouped] = Row(*counts)
    return share


def _archived_rows(conn: apsw.Connection, span: Span, filters: Filters,
                   event: str | None) -> list[list]:
    """[event, userId, visit id, data] of the window's archived movements that count."""
    params = filters.params()
    visits: dict[tuple[str, str], int | None] = {}
    rows = []
    for movement in archives.movements_in(conn, span.start, span.end):
        if event is not None and movement.event != event:
            continue
        key = (movement.userId, movement.sessionId)
        if key not in visits:
            found = conn.execute(PASSING_VISIT, {**params, "user": key[0], "session": key[1]}).fetchone()
            visits[key] = None if found is None else found[0]
        data = bytes(movement.data).decode()
        if visits[key] is None or (movement.event == PAGE_VIEW
                                   and not filters.counts_page(page_path(PAGE_VIEW, data))):
            continue
        rows.append([movement.event, movement.userId, visits[key], data])
    return rows
