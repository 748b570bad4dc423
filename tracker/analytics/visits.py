"""Visits: one row per (userId, sessionId), kept up to date as movements are folded.

A visit keeps what the web analytics endpoints ask of it (the rules are in
docs/web-analytics.md): its first and last movement times, how many
movements and page views it has, its entry and exit page, where it came from
(referrer, UTM fields, source and channel of its earliest page view) and the
context of the request that stored its first movement (browser, OS, device,
country, region, city). Movements may arrive late and out of order, so each
field moves only when a movement beats the one it came from: an earlier
first movement, page view or entry; a later or equal exit. Ties go to the
movement stored first, except the exit page, which goes to the one stored last.

`prev` is the first movement time of the same user's previous visit, in
(first, id) order. A window's visitors are then the visits starting in it
whose `prev` is before it (or null): one pass over an index, with no set of
user ids to build. `visit_pages` keeps, per visit and path, the page views'
count and time span, for page filters and page breakdowns; `visit_events`, per
visit and event, the movements' count, for event breakdowns with filters
(except for the visits in `visit_events_partial`, see its migration).

Visits are never archived or expired: they outlive their session rows and
their movements' move to archives, and their counts keep the archived
movements. Erasing a user erases its visits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import apsw
import msgspec

from tracker.analytics import visit_chains
from tracker.analytics.rollups import PAGE_VIEW
from tracker.enrich.sources import Source, visit_source
from tracker.storage.rows import UNKNOWN, Context, MovementRow, decode_context

SOURCE_COLUMNS = ("referrer", "utmSource", "utmMedium", "utmCampaign", "utmTerm", "utmContent",
                  "source", "channel")
CONTEXT_COLUMNS = Context._fields

SELECT_VISIT = """
SELECT id, first, last, entryTime, exitTime FROM visits WHERE userId = ? AND sessionId = ?
"""

NEXT_ID = "SELECT coalesce(max(id), 0) + 1 FROM visits"

# A new visit is written whole, its prev, entry and exit included: each later
# UPDATE by id would look the row up again and write it again (and prev's
# index entry).
INSERT_VISIT = f"""
INSERT INTO visits(id, userId, sessionId, first, last, movements, pageviews, prev,
  entryTime, entryPage, exitTime, exitPage,
  {", ".join(CONTEXT_COLUMNS)}, {", ".join(SOURCE_COLUMNS)})
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,
  {", ".join("?" * (len(CONTEXT_COLUMNS) + len(SOURCE_COLUMNS)))})
"""

GROW_VISIT = "UPDATE visits SET last = max(last, ?), movements = movements + ?, " \
             "pageviews = pageviews + ? WHERE id = ?"

MOVE_FIRST = f"""
UPDATE visits SET first = ?, {", ".join(f"{c} = ?" for c in CONTEXT_COLUMNS)} WHERE id = ?
"""

SET_ENTRY = f"""
UPDATE visits SET entryTime = ?, entryPage = ?, {", ".join(f"{c} = ?" for c in SOURCE_COLUMNS)}
WHERE id = ?
"""

SET_EXIT = "UPDATE visits SET exitTime = ?, exitPage = ? WHERE id = ?"

# Neighbours in the user's (first, id) order; idx_visits_user_first holds the id too.
PREVIOUS = """
SELECT first FROM visits WHERE userId = ?1 AND (first < ?2 OR (first = ?2 AND id < ?3))
ORDER BY first DESC, id DESC LIMIT 1
"""
NEXT = """
SELECT id FROM visits WHERE userId = ?1 AND (first > ?2 OR (first = ?2 AND id > ?3))
ORDER BY first, id LIMIT 1
"""
SET_PREV = "UPDATE visits SET prev = ? WHERE id = ?"
PREV_OF = "SELECT prev FROM visits WHERE id = ?"

ADD_PAGE = """
INSERT INTO visit_pages(visit, path, first, last, n) VALUES (?, ?, ?, ?, ?)
ON CONFLICT DO UPDATE SET first = min(first, excluded.first), last = max(last, excluded.last),
  n = n + excluded.n
"""

ADD_EVENT = """
INSERT INTO visit_events(visit, event, n) VALUES (?, ?, ?)
ON CONFLICT DO UPDATE SET n = n + excluded.n
"""

DROP_USER_PAGES = "DELETE FROM visit_pages WHERE visit IN (SELECT id FROM visits WHERE userId = ?)"
DROP_USER_EVENTS = "DELETE FROM visit_events WHERE visit IN (SELECT id FROM visits WHERE userId = ?)"
DROP_USER_PARTIAL = """
DELETE FROM visit_events_partial WHERE visit IN (SELECT id FROM visits WHERE userId = ?)
"""
DROP_USER_VISITS = "DELETE FROM visits WHERE userId = ?"


# Until it has a page view, a visit came from nowhere: source and channel Direct.
NO_PAGE_VIEW_SOURCE = tuple(getattr(visit_source({}), column) for column in SOURCE_COLUMNS)


@dataclass
class Batch:
    """What one fold batch brings to one visit."""

    first: int
    context: Context
    last: int
    movements: int = 0
    pageviews: int = 0
    entry: tuple[int, dict[str, Any]] | None = None  # earliest page view: (time, data)
    exit: tuple[int, dict[str, Any]] | None = None  # latest page view
    pages: dict[str, list[int]] = field(default_factory=dict)  # path -> [first, last, n]
    events: dict[str, int] = field(default_factory=dict)  # event -> movements

    def add(self, row: MovementRow, context: Context) -> None:
        if row.timestamp < self.first:
            self.first, self.context = row.timestamp, context
        self.last = max(self.last, row.timestamp)
        self.movements += 1
        self.events[row.event] = self.events.get(row.event, 0) + 1
        if row.event != PAGE_VIEW:
            return
        self.pageviews += 1
        data = _object(row.data)
        if self.entry is None or row.timestamp < self.entry[0]:
            self.entry = (row.timestamp, data)
        if self.exit is None or row.timestamp >= self.exit[0]:
            self.exit = (row.timestamp, data)
        path = data.get("path")
        if isinstance(path, str):
            span = self.pages.setdefault(path, [row.timestamp, row.timestamp, 0])
            span[0] = min(span[0], row.timestamp)
            span[1] = max(span[1], row.timestamp)
            span[2] += 1


def record(conn: apsw.Connection, rows: list[MovementRow], contexts: list[str | None]) -> None:
    """Fold newly stored movements (in storage order) into their visits, then the per-value
    chains of the users whose visits began, moved or changed source (visit_chains.py)."""
    moved: set[str] = set()
    for (user_id, session_id), batch in _batches(rows, contexts).items():
        found = conn.execute(SELECT_VISIT, (user_id, session_id)).fetchone()
        if found is None:
            visit = _insert(conn, user_id, session_id, batch)
            moved.add(user_id)
        else:
            visit, first, _last, entry_time, exit_time = found
            conn.execute(GROW_VISIT, (batch.last, batch.movements, batch.pageviews, visit))
            if batch.first < first:
                _unlink(conn, user_id, visit, first)
                conn.execute(MOVE_FIRST, (batch.first, *batch.context, visit))
                _link(conn, user_id, visit, batch.first)
                moved.add(user_id)
            if _move_ends(conn, visit, batch, entry_time, exit_time):
                moved.add(user_id)
        conn.executemany(ADD_PAGE, [(visit, path, *span) for path, span in batch.pages.items()])
        conn.executemany(ADD_EVENT, [(visit, event, n) for event, n in batch.events.items()])
    visit_chains.relink(conn, moved)


def _move_ends(conn: apsw.Connection, visit: int, batch: Batch, entry_time: int | None,
               exit_time: int | None) -> bool:
    """A stored visit's entry and exit, where the batch brings an earlier or a later page view;
    whether the entry (and so the visit's source) changed."""
    entry = batch.entry
    entered = entry is not None and (entry_time is None or entry[0] < entry_time)
    if entry is not None and entered:
        conn.execute(SET_ENTRY, (entry[0], page_of(entry[1]), *_source_values(visit_source(entry[1])),
                                 visit))
    if batch.exit is not None and (exit_time is None or batch.exit[0] >= exit_time):
        conn.execute(SET_EXIT, (batch.exit[0], page_of(batch.exit[1]), visit))
    return entered


def forget(conn: apsw.Connection, user_id: str) -> None:
    """Erase a user's visits with their pages and events."""
    conn.execute(DROP_USER_PAGES, (user_id,))
    conn.execute(DROP_USER_EVENTS, (user_id,))
    conn.execute(DROP_USER_PARTIAL, (user_id,))
    conn.execute(DROP_USER_VISITS, (user_id,))


def page_of(data: dict[str, Any]) -> str | None:
    path = data.get("path")
    return path if isinstance(path, str) else None


def _batches(rows: list[MovementRow], contexts: list[str | None]) -> dict[tuple[str, str], Batch]:
    batches: dict[tuple[str, str], Batch] = {}
    decoded: dict[str | None, Context] = {None: UNKNOWN}
    for row, text in zip(rows, contexts):
        context = decoded.get(text)
        if context is None:
            context = decoded[text] = decode_context(text)
        batch = batches.get((row.userId, row.sessionId))
        if batch is None:
            batch = batches[(row.userId, row.sessionId)] = Batch(row.timestamp, context, row.timestamp)
        batch.add(row, context)
    return batches


def _insert(conn: apsw.Connection, user_id: str, session_id: str, batch: Batch) -> int:
    """A new visit, whole, in its user's order."""
    visit = conn.execute(NEXT_ID).fetchone()[0]
    before = conn.execute(PREVIOUS, (user_id, batch.first, visit)).fetchone()
    entry: tuple = (None, None)
    source = NO_PAGE_VIEW_SOURCE
    if batch.entry is not None:
        entry = (batch.entry[0], page_of(batch.entry[1]))
        source = _source_values(visit_source(batch.entry[1]))
    exit_ = (None, None) if batch.exit is None else (batch.exit[0], page_of(batch.exit[1]))
    conn.execute(INSERT_VISIT, (visit, user_id, session_id, batch.first, batch.last,
                                batch.movements, batch.pageviews,
                                None if before is None else before[0], *entry, *exit_,
                                *batch.context, *source))
    after = conn.execute(NEXT, (user_id, batch.first, visit)).fetchone()
    if after is not None:
        conn.execute(SET_PREV, (batch.first, after[0]))
    return visit


def _link(conn: apsw.Connection, user_id: str, visit: int, first: int) -> None:
    """Put a visit in its user's order: its prev, and the prev of the visit after it."""
    before = conn.execute(PREVIOUS, (user_id, first, visit)).fetchone()
    conn.execute(SET_PREV, (None if before is None else before[0], visit))
    after = conn.execute(NEXT, (user_id, first, visit)).fetchone()
    if after is not None:
        conn.execute(SET_PREV, (first, after[0]))


def _unlink(conn: apsw.Connection, user_id: str, visit: int, first: int) -> None:
    """Take a visit out of its user's order: the visit after it inherits its prev."""
    after = conn.execute(NEXT, (user_id, first, visit)).fetchone()
    if after is not None:
        conn.execute(SET_PREV, (conn.execute(PREV_OF, (visit,)).fetchone()[0], after[0]))


def _source_values(source: Source) -> tuple:
    return tuple(getattr(source, column) for column in SOURCE_COLUMNS)


def _object(data: str) -> dict[str, Any]:
    value = msgspec.json.decode(data)
    return value if isinstance(value, dict) else {}
