"""Funnels: one shard's share of GET /funnels, how many entities reach each step.

Shards are disjoint by user, so shares add up. The window's movements of the
step events are read through the (event, timestamp) index, merged with the
archived ones, in order of entity then time, and each entity's are walked once
(`depth`), keeping per step only the latest start of a chain that reaches it.
"""

from __future__ import annotations

import heapq
from collections import Counter
from dataclasses import dataclass
from itertools import groupby
from typing import Iterable, Iterator

import apsw

from tracker.analytics.rollups import PAGE_VIEW, page_path
from tracker.analytics.web import Filters
from tracker.storage import archives

PAGE_STEP = "page:"
PATH = "iif(json_type(m.data, '$.path') = 'text', m.data ->> '$.path', NULL)"

Row = tuple[str, str, int, str, str | None]
"""(userId, sessionId or '' by user, timestamp, event, path of a page view)"""


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

    def allows(self, start: int | None, at: int) -> bool:
        """Whether a chain started at `start` may take a movement at `at`."""
        return start is not None and (self.within is None or at - start <= self.within)


def funnel_share(conn: apsw.Connection, funnel: Funnel, start: int, end: int,
                 filters: Filters) -> list[int]:
    """Per step, how many of the shard's entities reach it in [start, end)."""
    return archives.read_consistently(conn, _funnel_share, funnel, start, end, filters)


def _funnel_share(conn: apsw.Connection, funnel: Funnel, start: int, end: int,
                  filters: Filters) -> list[int]:
    rows = heapq.merge(_stored(conn, funnel, start, end, filters),
                       _archived(conn, funnel, start, end, filters), key=lambda row: row[:3])
    reached = Counter(depth(funnel, [(row[2], funnel.matched(row[3], row[4])) for row in entity])
                      for _key, entity in groupby(rows, key=lambda row: row[:2]))
    return [sum(n for deepest, n in reached.items() if deepest > i)
            for i in range(len(funnel.steps))]


def _stored(conn: apsw.Connection, funnel: Funnel, start: int, end: int,
            filters: Filters) -> Iterator[Row]:
    events = sorted({step.event for step in funnel.steps})
    session = "m.sessionId" if funnel.by_visit else "''"
    join, where, params = "", "1", []
    if filters:
        where, params = filters.where()
        join = "CROSS JOIN visits v ON v.userId = m.userId AND v.sessionId = m.sessionId"
    paths, path_rule = _page_rule(funnel)
    # CROSS JOIN keeps the movements outermost, read as ranges of the event index.
    query = f"""
    SELECT m.userId, {session}, m.timestamp, m.event, iif(m.event = '{PAGE_VIEW}', {PATH}, NULL)
    FROM movements m INDEXED BY idx_movements_event_time {join}
    WHERE m.event IN ({", ".join("?" for _ in events)}) AND m.timestamp >= ? AND m.timestamp < ?
      {path_rule} AND {where}
    ORDER BY m.userId, {session}, m.timestamp, m.id
    """
    yield from conn.execute(query, (*events, start, end, *paths, *params))


def _page_rule(funnel: Funnel) -> tuple[list[str], str]:
    """When every page view step names a path, only page views of those paths are read."""
    pages = [step.path for step in funnel.steps if step.event == PAGE_VIEW]
    if not pages or None in pages:
        return [], ""
    return pages, f"AND (m.event <> '{PAGE_VIEW}' OR {PATH} IN ({', '.join('?' for _ in pages)}))"


def _archived(conn: apsw.Connection, funnel: Funnel, start: int, end: int,
              filters: Filters) -> list[Row]:
    """The window's archived movements of step events whose visit passes, sorted like _stored."""
    events = {step.event for step in funnel.steps}
    where, params = filters.where()
    passing = f"SELECT 1 FROM visits v WHERE v.userId = ? AND v.sessionId = ? AND {where}"
    passes: dict[tuple[str, str], bool] = {}
    rows = []
    for movement in archives.movements_in(conn, start, end):
        if movement.event not in events:
            continue
        key = (movement.userId, movement.sessionId)
        if filters and key not in passes:
            passes[key] = conn.execute(passing, (*key, *params)).fetchone() is not None
        if filters and not passes[key]:
            continue
        path = page_path(movement.event, bytes(movement.data).decode())
        rows.append((movement.userId, movement.sessionId if funnel.by_visit else "",
                     movement.timestamp, movement.event, path))
    return sorted(rows, key=lambda row: row[:3])


def depth(funnel: Funnel, movements: Iterable[tuple[int, tuple[int, ...]]]) -> int:
    """How many steps an entity reaches, from its (time, steps matched) in time order.

    starts[i] is the latest start of a chain of distinct movements matching steps 0..i so far:
    of chains reaching one step, the latest started leaves the most room for `within`.
    Movements of one instant may be taken in any order, so they are handled together.
    """
    starts: list[int | None] = [None] * len(funnel.steps)
    for at, tied in groupby(movements, key=lambda movement: movement[0]):
        matches = [matched for _at, matched in tied if matched]
        if len(matches) == 1:
            _advance_one(funnel, starts, at, matches[0])
        elif matches:
            _advance_tied(funnel, starts, at, matches)
    return sum(start is not None for start in starts)


def _advance_one(funnel: Funnel, starts: list[int | None], at: int,
                 matched: tuple[int, ...]) -> None:
    """One movement: highest step first, so that it extends chains that do not hold it yet."""
    for i in matched:
        if i == 0:
            starts[0] = at
        elif funnel.allows(starts[i - 1], at):
            starts[i] = _later(starts[i], starts[i - 1])


def _advance_tied(funnel: Funnel, starts: list[int | None], at: int,
                  matches: list[tuple[int, ...]]) -> None:
    """Movements of one instant: a chain that reached step j (or a new one, j = -1) goes on to
    every step k such that steps j+1..k can each take a different one of these movements."""
    slots = _slots(matches, len(starts))
    before = list(starts)
    for j in range(-1, len(starts) - 1):
        start = at if j < 0 else before[j]
        if not funnel.allows(start, at):
            continue
        for k in range(j + 1, _reach(slots, j + 1, len(starts))):
            starts[k] = _later(starts[k], start)


def _later(start: int | None, other: int) -> int:
    return other if start is None else max(start, other)


def _slots(matches: list[tuple[int, ...]], steps: int) -> list[tuple[int, ...]]:
    """The movements as the steps each matches; more alike than there are steps add nothing."""
    return [matched for matched, n in Counter(matches).items() for _ in range(min(n, steps))]


def _reach(slots: list[tuple[int, ...]], first: int, steps: int) -> int:
    """One past the last step k such that steps first..k match distinct slots (Kuhn's
    augmenting paths, one step added at a time)."""
    holder: dict[int, int] = {}  # slot -> the step it is matched to

    def place(step: int, seen: set[int]) -> bool:
        for slot, matched in enumerate(slots):
            if step in matched and slot not in seen:
                seen.add(slot)
                if slot not in holder or place(holder[slot], seen):
                    holder[slot] = step
                    return True
        return False

    for step in range(first, steps):
        if not place(step, set()):
            return step
    return steps
