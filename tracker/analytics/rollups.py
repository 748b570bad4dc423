"""Rollups: aggregates kept in the same transaction as the movements they count.

Additive counts (movements per event, page views per path) are kept per
slot of four UTC-aligned grains: minute, quarter hour, hour and day. Every
real zone offset is a multiple of 15 minutes, so each bucket of any zone, and
any window, splits into whole slots plus at most a minute of raw movements at
each end (`analytics.pieces`).

Distinct counts (users, sessions) cannot be added up over slots, so they are
kept per entity instead: for each user and each (user, session), overall, per
event type and per page path viewed, the first and last movement
(`activity_spans`) and every
stretch longer than GAP_MS without a movement (`activity_gaps`). An entity
has a movement in [a, b) unless its last movement is before a, its first is
at or after b, or one of its gaps runs from before a to at or after b; those
three cases never overlap, and for b - a >= GAP_MS every such gap is stored.
So a distinct count over a long window is a few counted index ranges, exact
whatever the data, with no set of ids to gather and merge. Shorter windows
count their (few) raw movements.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable

import apsw
import msgspec

from tracker.storage.rows import MovementRow

MINUTE = 60_000
QUARTER = 15 * MINUTE
HOUR = 60 * MINUTE
DAY = 24 * HOUR
GRAINS = (MINUTE, QUARTER, HOUR, DAY)

# Migration 3 builds the rollups with these values; changing either needs a
# migration that rebuilds them.
GAP_MS = HOUR
PAGE_VIEW = "page_view"

# Entity kinds in activity_spans/activity_gaps; a user's row has sessionId ''
# and the all-events row has event '' (real ids and names are never empty).
# The page kinds count page views of one path (in the event column): by user
# and by (user, session), for the visitors and visits of a page breakdown.
USERS, SESSIONS, PAGE_USERS, PAGE_SESSIONS = 0, 1, 2, 3
ALL_EVENTS = ""

ADD_EVENTS = """
INSERT INTO rollup_events(grain, start, event, n) VALUES (?, ?, ?, ?)
ON CONFLICT DO UPDATE SET n = n + excluded.n
"""

ADD_PAGES = """
INSERT INTO rollup_pages(grain, start, path, n) VALUES (?, ?, ?, ?)
ON CONFLICT DO UPDATE SET n = n + excluded.n
"""

SELECT_SPAN = """
SELECT first, last FROM activity_spans
WHERE kind = ? AND event = ? AND userId = ? AND sessionId = ?
"""

INSERT_SPAN = """
INSERT INTO activity_spans(kind, event, userId, sessionId, first, last) VALUES (?, ?, ?, ?, ?, ?)
"""

# Only the columns that moved are assigned: SQLite rewrites the index entry of
# every assigned indexed column, changed or not, and that is a page write.
MOVE_LAST = """
UPDATE activity_spans SET last = ? WHERE kind = ? AND event = ? AND userId = ? AND sessionId = ?
"""

MOVE_FIRST = """
UPDATE activity_spans SET first = ? WHERE kind = ? AND event = ? AND userId = ? AND sessionId = ?
"""

# Entities new in a fold are counted once per (kind, event) for the whole batch:
# one statement for every new session would rewrite the same row each time.
COUNT_ENTITIES = """
INSERT INTO activity_counts(kind, event, n) VALUES (?, ?, ?)
ON CONFLICT DO UPDATE SET n = n + excluded.n
"""

ADD_GAP = """
INSERT INTO activity_gaps(kind, event, userId, sessionId, prev, next) VALUES (?, ?, ?, ?, ?, ?)
"""

GAP_BEFORE = """
SELECT prev, next FROM activity_gaps
WHERE kind = ? AND event = ? AND userId = ? AND sessionId = ? AND prev < ?
ORDER BY prev DESC LIMIT 1
"""

DROP_GAP = """
DELETE FROM activity_gaps WHERE kind = ? AND event = ? AND userId = ? AND sessionId = ? AND prev = ?
"""

# Erasing a user: counts go down, and rows that reach zero go, so that the
# tables hold exactly what ingest of the remaining movements would have made.
SUBTRACT_EVENTS = "UPDATE rollup_events SET n = n - ? WHERE grain = ? AND start = ? AND event = ?"
DROP_EMPTY_EVENTS = "DELETE FROM rollup_events WHERE grain = ? AND start = ? AND event = ? AND n = 0"
SUBTRACT_PAGES = "UPDATE rollup_pages SET n = n - ? WHERE grain = ? AND start = ? AND path = ?"
DROP_EMPTY_PAGES = "DELETE FROM rollup_pages WHERE grain = ? AND start = ? AND path = ? AND n = 0"

USER_ENTITY_COUNTS = """
SELECT kind, event, count(*) FROM activity_spans WHERE userId = ? GROUP BY kind, event
"""
DROP_USER_GAPS = "DELETE FROM activity_gaps WHERE userId = ?"
DROP_USER_SPANS = "DELETE FROM activity_spans WHERE userId = ?"
UNCOUNT_ENTITIES = "UPDATE activity_counts SET n = n - ? WHERE kind = ? AND event = ?"
DROP_EMPTY_ENTITY_COUNT = "DELETE FROM activity_counts WHERE kind = ? AND event = ? AND n = 0"

Entity = tuple[int, str, str, str]  # kind, event, userId, sessionId


def page_path(event: str, data: str | bytes) -> str | None:
    """The path a page view counts for: `data.path` when it is a string."""
    if event != PAGE_VIEW:
        return None
    path = msgspec.json.decode(data).get("path")
    return path if isinstance(path, str) else None


def record(conn: apsw.Connection, rows: list[MovementRow]) -> None:
    """Count newly stored movements."""
    paths = [page_path(row.event, row.data) for row in rows]
    _add_counts(conn, rows, paths)
    times: dict[Entity, list[int]] = defaultdict(list)
    for row, path in zip(rows, paths):
        for entity in _entities(row.userId, row.sessionId, row.event, path):
            times[entity].append(row.timestamp)
    new: Counter = Counter()
    for entity, stamps in times.items():
        if _extend(conn, entity, sorted(set(stamps))):
            new[entity[:2]] += 1
    conn.executemany(COUNT_ENTITIES, [(*key, n) for key, n in new.items()])


def _add_counts(conn: apsw.Connection, rows: list[MovementRow], paths: list[str | None]) -> None:
    events, pages = _slot_counts((row.timestamp, row.event, path) for row, path in zip(rows, paths))
    conn.executemany(ADD_EVENTS, [(*key, n) for key, n in events.items()])
    conn.executemany(ADD_PAGES, [(*key, n) for key, n in pages.items()])


def _slot_counts(stamps: Iterable[tuple[int, str, str | None]]) -> tuple[Counter, Counter]:
    """Movements and page views per (grain, slot start, event or path), from (timestamp, event, path)."""
    events: Counter = Counter()
    pages: Counter = Counter()
    for timestamp, event, path in stamps:
        for grain in GRAINS:
            start = timestamp - timestamp % grain
            events[(grain, start, event)] += 1
            if path is not None:
                pages[(grain, start, path)] += 1
    return events, pages


def forget_counts(conn: apsw.Connection, stamps: list[tuple[int, str, str | None]]) -> None:
    """Take erased movements, as (timestamp, event, page path), out of the additive counts."""
    events, pages = _slot_counts(stamps)
    for subtract, drop_empty, counts in ((SUBTRACT_EVENTS, DROP_EMPTY_EVENTS, events),
                                         (SUBTRACT_PAGES, DROP_EMPTY_PAGES, pages)):
        conn.executemany(subtract, [(n, *key) for key, n in counts.items()])
        conn.executemany(drop_empty, list(counts))


def forget_entities(conn: apsw.Connection, user_id: str) -> None:
    """Drop a user's spans and gaps (user and session entities) and uncount them.

    Both tables are keyed by userId first, so each statement is one prefix search.
    """
    counts = conn.execute(USER_ENTITY_COUNTS, (user_id,)).fetchall()
    conn.execute(DROP_USER_GAPS, (user_id,))
    conn.execute(DROP_USER_SPANS, (user_id,))
    for kind, event, dropped in counts:
        conn.execute(UNCOUNT_ENTITIES, (dropped, kind, event))
        conn.execute(DROP_EMPTY_ENTITY_COUNT, (kind, event))


def _entities(user_id: str, session_id: str, event: str, path: str | None) -> tuple[Entity, ...]:
    found = (
        (USERS, ALL_EVENTS, user_id, ""),
        (USERS, event, user_id, ""),
        (SESSIONS, ALL_EVENTS, user_id, session_id),
        (SESSIONS, event, user_id, session_id),
    )
    if path is None:
        return found
    return (*found, (PAGE_USERS, path, user_id, ""), (PAGE_SESSIONS, path, user_id, session_id))


def _extend(conn: apsw.Connection, entity: Entity, stamps: list[int]) -> bool:
    """Add movement times (ascending, distinct) to an entity's span and long gaps; returns
    whether the entity is new (the caller counts it)."""
    span = conn.execute(SELECT_SPAN, entity).fetchone()
    if span is None:
        first = last = stamps[0]
    else:
        first, last = span
    for stamp in stamps:
        if stamp > last:
            _add_gap(conn, entity, last, stamp)
            last = stamp
        elif stamp < first:
            _add_gap(conn, entity, stamp, first)
            first = stamp
        elif first < stamp < last:
            _split_gap(conn, entity, stamp)
    if span is None:
        conn.execute(INSERT_SPAN, (*entity, first, last))
        return True
    if first != span[0]:
        conn.execute(MOVE_FIRST, (first, *entity))
    if last != span[1]:
        conn.execute(MOVE_LAST, (last, *entity))
    return False


def _add_gap(conn: apsw.Connection, entity: Entity, prev: int, next_: int) -> None:
    if next_ - prev > GAP_MS:
        conn.execute(ADD_GAP, (*entity, prev, next_))


def _split_gap(conn: apsw.Connection, entity: Entity, stamp: int) -> None:
    """A movement inside the span: if it falls in a stored gap, that gap becomes two."""
    gap = conn.execute(GAP_BEFORE, (*entity, stamp)).fetchone()
    if gap is None or gap[1] <= stamp:
        return
    prev, next_ = gap
    conn.execute(DROP_GAP, (*entity, prev))
    _add_gap(conn, entity, prev, stamp)
    _add_gap(conn, entity, stamp, next_)
