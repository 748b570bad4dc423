"""Funnels: one shard's share of GET /funnels, how many entities reach each step.

Shards are disjoint by user, so shares add up. A step's movements are one
range of idx_movements_steps (event, page path, user, session, time), which
holds all a funnel reads of them.

When no movement can match two steps and there is no `within`, following the
earliest chain is enough: an entity reaches step k exactly when its first
movement of step 0 in the window, the first of step 1 at or after that, ...,
the first of step k at or after the one before, all exist (the i-th movement
of any chain is no earlier than this one's). SQLite finds each with one index
search per entity still going (`_earliest_chains`), and no rows reach Python.

Otherwise (a step repeated, `page_view` beside `page:` steps, a `within`, or
archive files in the window), the window's movements of the steps are read in
order of entity then time, merged with the archived ones, and each entity's
are walked once (`funnel_walk.depth`).
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import groupby

import apsw

from tracker.analytics import conversions
from tracker.analytics.filters import PASSES, Filters
from tracker.analytics.funnel_walk import Walk, depth
from tracker.analytics.rollups import PAGE_VIEW, page_path
from tracker.storage import archives

PAGE_STEP = "page:"

# The path a page view counts for, as migration 9 indexes it (the same text, so that
# SQLite reads it from idx_movements_steps); NULL for every other event.
STEP_PATH = ("iif(m.event = 'page_view', "
             "iif(json_type(m.data, '$.path') = 'text', m.data ->> '$.path', NULL), NULL)")

STEPS_INDEX = "movements AS m INDEXED BY idx_movements_steps"

MAX_STEPS = 8

Row = tuple[str, str, int, str, str | None]
"""(userId, sessionId or '' by user, timestamp, event, path of a page view)"""

# The visit of movement `m` passes the filters (or :filtered is false).
VISIT_PASSES = (f"(NOT :filtered OR EXISTS (SELECT 1 FROM visits v WHERE v.userId = m.userId "
                f"AND v.sessionId = m.sessionId AND {PASSES}))")

# Step i's movements: its event, and `IS` its path (NULL: not a page view of one path),
# an index prefix either way.
STEP_MATCH = "m.event = :event{i} AND " + STEP_PATH + " IS :path{i}"


def _earliest_chains_query(steps: int, by_visit: bool) -> str:
    """One materialised level per step, each the entities of the level before with the time
    of their next movement of the step (or NULL); then how many each level holds."""
    session = "m.sessionId" if by_visit else "''"
    entity = "m.userId, m.sessionId" if by_visit else "m.userId"
    same_session = "AND m.sessionId = e.s" if by_visit else ""
    levels = [f"""step0 AS MATERIALIZED (
      SELECT m.userId AS u, {session} AS s, min(m.timestamp) AS t FROM {STEPS_INDEX}
      WHERE {STEP_MATCH.format(i=0)} AND m.timestamp >= :start AND m.timestamp < :end
        AND {VISIT_PASSES}
      GROUP BY {entity})"""]
    for i in range(1, steps):
        levels.append(f"""step{i} AS MATERIALIZED (
          SELECT e.u, e.s, (SELECT min(m.timestamp) FROM {STEPS_INDEX}
                            WHERE {STEP_MATCH.format(i=i)} AND m.userId = e.u {same_session}
                              AND m.timestamp >= e.t AND m.timestamp < :end
                              AND {VISIT_PASSES}) AS t
          FROM step{i - 1} AS e WHERE e.t IS NOT NULL)""")
    counts = ", ".join(f"(SELECT count(t) FROM step{i})" for i in range(steps))
    return f"WITH {', '.join(levels)} SELECT {counts}"


# Per (number of steps, by visit): the statement following the earliest chains.
EARLIEST_CHAINS = {(steps, by_visit): _earliest_chains_query(steps, by_visit)
                   for steps in range(2, MAX_STEPS + 1) for by_visit in (False, True)}

# The window's movements of one step (:any: a page view of any path), by entity, time and id.
STEP_MOVEMENTS = f"""
SELECT m.userId AS u, iif(:by_visit, m.sessionId, '') AS s, m.timestamp AS t, m.event,
       {STEP_PATH}, m.id AS id
FROM {STEPS_INDEX}
WHERE m.event = :event AND (:any OR {STEP_PATH} IS :path)
  AND m.timestamp >= :start AND m.timestamp < :end AND {VISIT_PASSES}
ORDER BY u, s, t, id
"""

PASSING_VISIT = f"SELECT 1 FROM visits v WHERE v.userId = :user AND v.sessionId = :session AND {PASSES}"


@dataclass(frozen=True)
class Step:
    """An event name, or a page view of one path (`page:PATH`)."""

    event: str
    path: str | None = None

    @classmethod
    def parse(cls, text: str) -> Step:
        if text.startswith(PAGE_STEP):
            return cls(PAGE_VIEW, text.removeprefix(PAGE_STEP))
        return cls(text)


@dataclass(frozen=True)
class Funnel:
    steps: tuple[Step, ...]
    within: int | None = None  # ms from a chain's first movement to its last; None: no limit
    by_visit: bool = False

    def matched(self, event: str, path: str | None) -> tuple[int, ...]:
        """Indexes of the steps a movement matches, highest first."""
        return tuple(i for i in reversed(range(len(self.steps)))
                     if self.steps[i].event == event
                     and (self.steps[i].path is None or self.steps[i].path == path))

    def earliest_chain_suffices(self) -> bool:
        """No `within`, and no movement matches two steps: distinct steps, none `page_view`
        of any path (which also keeps every step an index prefix ending in the path)."""
        return (self.within is None and len(set(self.steps)) == len(self.steps)
                and Step(PAGE_VIEW) not in self.steps)


def funnel_share(conn: apsw.Connection, funnel: Funnel, start: int, end: int,
                 filters: Filters) -> list[int]:
    """Per step, how many of the shard's entities reach it in [start, end)."""
    return archives.read_consistently(conn, _funnel_share, funnel, start, end, filters)


def _funnel_share(conn: apsw.Connection, funnel: Funnel, start: int, end: int,
                  filters: Filters) -> list[int]:
    filters, _completions = conversions.bind(conn, filters, start, end)
    if funnel.earliest_chain_suffices() and not archives.any_in(conn, start, end):
        return _earliest_chains(conn, funnel, start, end, filters)
    return _walked(conn, funnel, start, end, filters)


def _earliest_chains(conn: apsw.Connection, funnel: Funnel, start: int, end: int,
                     filters: Filters) -> list[int]:
    """Per step, the entities whose earliest chain reaches it."""
    params: dict = {**filters.params(), "filtered": bool(filters), "start": start, "end": end}
    for i, step in enumerate(funnel.steps):
        params[f"event{i}"], params[f"path{i}"] = step.event, step.path
    query = EARLIEST_CHAINS[(len(funnel.steps), funnel.by_visit)]
    return list(conn.execute(query, params).fetchone())


def _walked(conn: apsw.Connection, funnel: Funnel, start: int, end: int,
            filters: Filters) -> list[int]:
    rows = heapq.merge(_stored(conn, funnel, start, end, filters),
                       _archived(conn, funnel, start, end, filters), key=lambda row: row[:3])
    matches: dict[tuple[str, str | None], tuple[int, ...]] = {}

    def matched(row: Row) -> tuple[int, ...]:
        key = (row[3], row[4])
        if key not in matches:
            matches[key] = funnel.matched(*key)
        return matches[key]

    walk = Walk(len(funnel.steps), funnel.within)
    reached = Counter(depth(walk, [(row[2], matched(row)) for row in entity])
                      for _key, entity in groupby(rows, key=lambda row: row[:2]))
    return [sum(n for deepest, n in reached.items() if deepest > i)
            for i in range(len(funnel.steps))]


def _stored(conn: apsw.Connection, funnel: Funnel, start: int, end: int,
            filters: Filters) -> Iterator[Row]:
    """The window's movements of the steps, each once, by entity, time and id."""
    params = {**filters.params(), "filtered": bool(filters), "by_visit": funnel.by_visit,
              "start": start, "end": end}
    per_step = [conn.execute(STEP_MOVEMENTS, {**params, "event": step.event, "path": step.path,
                                              "any": step == Step(PAGE_VIEW)})
                for step in _read_steps(funnel)]
    for *row, _id in heapq.merge(*per_step, key=lambda row: (row[0], row[1], row[2], row[5])):
        yield tuple(row)


def _read_steps(funnel: Funnel) -> list[Step]:
    """The distinct steps, less `page:` steps when `page_view` reads every page view."""
    steps = set(funnel.steps)
    if Step(PAGE_VIEW) in steps:
        steps = {step for step in steps if step.event != PAGE_VIEW or step.path is None}
    return sorted(steps, key=lambda step: (step.event, step.path or ""))


def _archived(conn: apsw.Connection, funnel: Funnel, start: int, end: int,
              filters: Filters) -> list[Row]:
    """The window's archived movements of step events whose visit passes, sorted like _stored."""
    events = {step.event for step in funnel.steps}
    params = filters.params()
    passes: dict[tuple[str, str], bool] = {}
    rows = []
    for movement in archives.movements_in(conn, start, end):
        if movement.event not in events:
            continue
        key = (movement.userId, movement.sessionId)
        if filters and key not in passes:
            passes[key] = conn.execute(
                PASSING_VISIT, {**params, "user": key[0], "session": key[1]}).fetchone() is not None
        if filters and not passes[key]:
            continue
        path = page_path(movement.event, bytes(movement.data).decode())
        rows.append((movement.userId, movement.sessionId if funnel.by_visit else "",
                     movement.timestamp, movement.event, path))
    return sorted(rows, key=lambda row: row[:3])
