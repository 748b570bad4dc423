"""Web analytics: one shard's share of GET /stats and GET /breakdown.

Shards are disjoint by user, so shares add up, distinct visitors included.
Every share is read in one transaction (`archives.read_consistently`).

Visits are counted in the bucket of their first movement, from the visits
table (`tracker/analytics/visits.py`). Without filters, a bucket's visitors
are its visits whose user's previous visit began before the bucket, one
range of a covering index per bucket; with a filter on one value of a chained
dimension alone, the same over that value's chain; with other filters, a
distinct count of the visits that pass. Page views are counted where they happen: without filters
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

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import NamedTuple

import apsw

from tracker.analytics import activity, conversions
from tracker.analytics.conversions import Conversions
from tracker.analytics.filters import (
    COUNTED_MOVEMENT,
    COUNTED_PAGEVIEWS,
    FILTERED_PAGEVIEWS,
    GOAL,
    PAGE,
    PAGE_PATHS,
    PASSES,
    VISIT_DIMENSIONS,
    Filters,
    driven,
)
from tracker.analytics.goals import Goal
from tracker.analytics.rollups import (
    GAP_MS,
    PAGE_SESSIONS,
    PAGE_USERS,
    PAGE_VIEW,
    SESSIONS,
    USERS,
    page_path,
)
from tracker.analytics.spanning import Span, Visit, page_views_of, spanning_visits
from tracker.analytics.visit_chains import CHAINED
from tracker.storage import archives

EVENT = "event"
PROPERTY = "prop:"

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

# A filter on one value of a chained dimension and nothing else: that value's visitors are a
# sum over its chain, as without filters, and one range of its covering index per bucket.
CHAINED_FILTER_BUCKET = {dimension: f"""
SELECT count(*), coalesce(sum(v.{column} IS NULL OR v.{column} < :low), 0), coalesce(sum(v.movements = 1), 0),
       coalesce(sum(v.last - v.first), 0), coalesce(sum(iif(v.last < :high, v.pageviews, 0)), 0)
FROM visits v INDEXED BY idx_visits_{dimension}
WHERE v.{dimension} = :value AND v.first >= :low AND v.first < :high
""" for dimension, column in CHAINED.items()}

FILTERED_VISITORS = driven(f"""
SELECT count(DISTINCT v.userId) FROM visits v NOT INDEXED
WHERE v.first >= :low AND v.first < :high AND {PASSES}
""")

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


@dataclass
class StatsShare:
    """Per bucket [visitors, visits, bounces, duration ms, pageviews], and the window's visitors."""

    series: list[list[int]]
    visitors: int = 0
    goal: Conversions | None = None  # under a goal filter

    def add(self, other: StatsShare) -> StatsShare:
        for mine, theirs in zip(self.series, other.series):
            for i, value in enumerate(theirs):
                mine[i] += value
        self.visitors += other.visitors
        self.goal = merged(self.goal, other.goal)
        return self

    def totals(self) -> Totals:
        """The window's totals, as /stats answers them."""
        visits = sum(point[1] for point in self.series)
        bounces = sum(point[2] for point in self.series)
        duration = sum(point[3] for point in self.series)
        pageviews = sum(point[4] for point in self.series)
        return Totals(self.visitors, visits, pageviews, *rates(visits, bounces, duration))


class Totals(NamedTuple):
    visitors: int
    visits: int
    pageviews: int
    bounceRate: float
    visitDuration: float  # seconds


def rates(visits: int, bounces: int, duration_ms: int) -> tuple[float, float]:
    """(bounce rate, mean duration in seconds), 0 for no visits."""
    if not visits:
        return 0.0, 0.0
    return bounces / visits, duration_ms / visits / 1000


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
    goal: Conversions | None = None  # under a goal filter, and in goal rows

    def add(self, other: Row) -> Row:
        self.visitors += other.visitors
        self.visits += other.visits
        self.events += other.events
        self.bounces += other.bounces
        self.duration += other.duration
        self.goal = merged(self.goal, other.goal)
        return self


def merged(mine: Conversions | None, theirs: Conversions | None) -> Conversions | None:
    if theirs is None:
        return mine
    return (mine or Conversions()).add(theirs)


@dataclass
class BreakdownShare:
    rows: dict[str | None, Row] = field(default_factory=dict)
    # Under a goal filter, each value's visitors without it: the base of the rows' conversion
    # rates, kept apart since a shard may have a value's visitors but none of its rows.
    bases: Counter[str | None] = field(default_factory=Counter)

    def add(self, other: BreakdownShare) -> BreakdownShare:
        """Add `other`'s rows to these, taking over those of values not here yet (a share is
        added once, and a breakdown by source has thousands of values in every shard)."""
        for value, row in other.rows.items():
            mine = self.rows.get(value)
            if mine is None:
                self.rows[value] = row
            else:
                mine.add(row)
        self.bases.update(other.bases)
        return self

    def with_bases(self) -> BreakdownShare:
        """The rows' conversion rates taken against the values' visitors over every shard."""
        for value, row in self.rows.items():
            if row.goal is not None:
                row.goal.base = self.bases[value]
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
                    event: str | None, goals: tuple[Goal, ...] = ()) -> BreakdownShare:
    """One shard's rows; `goals` are the site's, for `by=goal`."""
    return archives.read_consistently(conn, _breakdown_share, by, span, filters, event, goals)


def _stats_share(conn: apsw.Connection, span: Span, filters: Filters) -> StatsShare:
    filters, done = conversions.bind(conn, filters, span.start, span.end)
    share = _visit_stats(conn, span, filters)
    if done is not None:
        share.goal = conversions.totals(conn, filters, done, span.start, span.end)
    return share


def _visit_stats(conn: apsw.Connection, span: Span, filters: Filters) -> StatsShare:
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
    chained = filters.chained_alone
    params: dict[str, str | None]
    if chained is not None and len(chained[1]) == 1:
        query, params = CHAINED_FILTER_BUCKET[chained[0]], {"value": chained[1][0]}
        visitors_query, visitors_column = query, 1
    else:
        query, params = FILTERED_BUCKET[filters.driving], filters.params()
        visitors_query, visitors_column = FILTERED_VISITORS[filters.driving], 0
    for i, (low, high) in enumerate(buckets):
        visits, visitors, bounces, duration, counted = conn.execute(
            query, {**params, "low": low, "high": high}).fetchone()
        share.series[i] = [visitors, visits, bounces, duration, counted]
    share.visitors = conn.execute(
        visitors_query, {**params, "low": span.start, "high": span.end}).fetchone()[visitors_column]
    spanning = spanning_visits(conn, span, filters)
    for views in page_views_of(conn, spanning, span, bool(filters.pages)).values():
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


def _breakdown_share(conn: apsw.Connection, by: str, span: Span, filters: Filters,
                     event: str | None, goals: tuple[Goal, ...]) -> BreakdownShare:
    filters, done = conversions.bind(conn, filters, span.start, span.end)
    if by == GOAL:
        return _by_goal(conn, span, filters, goals)
    if by in VISIT_DIMENSIONS:
        share = _by_visit_dimension(conn, by, span, filters)
        if done is not None:
            _add_conversions(conn, share, by, span, filters, done)
        return share
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
    chained = filters.chained_alone
    if dimension in CHAINED and (not filters or (chained is not None and chained[0] == dimension)):
        # Each value's row is its own chain's: a filter on this dimension alone only drops rows.
        for value, *counts in conn.execute(BY_CHAINED_DIMENSION[dimension], params):
            if chained is None or value in chained[1]:
                share.rows[value] = Row(*counts)
    else:
        for value, *counts in conn.execute(BY_VISIT_DIMENSION[dimension][filters.driving], params):
            share.rows[value] = Row(*counts)
    spanning = spanning_visits(conn, span, filters, dimension)
    views = page_views_of(conn, spanning, span, bool(filters.pages))
    for visit in spanning:
        counted = sum(filters.counts_page(path) for _t, path in views[visit.id])
        if counted:
            share.row(visit.value).events += counted
    return share


def _add_conversions(conn: apsw.Connection, share: BreakdownShare, dimension: str, span: Span,
                     filters: Filters, done: conversions.Completions) -> None:
    """A goal filter's conversions on every row of a visit dimension."""
    found = conversions.by_value(conn, dimension, filters, done, span.start, span.end)
    for value, row in share.rows.items():
        row.goal = found.get(value, Conversions())
    share.bases.update({value: figures.base for value, figures in found.items()})


def _by_goal(conn: apsw.Connection, span: Span, filters: Filters,
             goals: tuple[Goal, ...]) -> BreakdownShare:
    """One row per goal of the site: its conversions among the window's visitors."""
    share = BreakdownShare()
    for name, found in conversions.by_goal(conn, goals, filters, span.start, span.end).items():
        share.rows[name] = Row(visitors=found.visitors, events=found.events, goal=found)
    return share


def _by_page(conn: apsw.Connection, span: Span, filters: Filters) -> BreakdownShare:
    """Page views grouped by path: of visits inside the window from `visit_pages`, of those
    spanning its edges from their movements, with distinct users over both. A visit is one
    row per path on either side, so its rows count the visits."""
    spanning = []
    visits = spanning_visits(conn, span, filters)
    views = page_views_of(conn, visits, span, True)
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
    outside = {visit.id: visit for visit in spanning_visits(conn, span, filters)}
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
