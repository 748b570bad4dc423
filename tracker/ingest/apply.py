"""Applying logged movements to a shard: what a fold stores, inside its transaction.

The store folds the log in batches and hands each batch here (as its
`Apply`): the movements are inserted (anonymous ones first given their
visitor's session), their sessions created or extended, and the rollups and
visits that the analytics read are kept in the same transaction. Runs on a
writer thread, never on the event loop.
"""

from __future__ import annotations

from functools import partial

import apsw

from tracker.analytics import rollups, visits
from tracker.ingest import anonymous_sessions
from tracker.storage.fold import Applied, Apply
from tracker.storage.rows import MovementRow
from tracker.storage.tail import Place

INSERT_MOVEMENT = """
INSERT INTO movements(userId, sessionId, timestamp, event, data, eventId, revenue, currency)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT DO NOTHING
"""
# The movements of a release before revenue (migration 12), for `derived=False`.
INSERT_PLAIN_MOVEMENT = """
INSERT INTO movements(userId, sessionId, timestamp, event, data, eventId)
VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT DO NOTHING
"""

# A session belongs to the user who first used its id: another user's
# movements are stored but leave it alone (the WHERE of DO UPDATE).
TOUCH_SESSION = """
INSERT INTO sessions(userId, sessionId, startTime, lastActivity)
VALUES (?, ?, ?, ?)
ON CONFLICT(sessionId) DO UPDATE SET
  startTime = min(startTime, excluded.startTime),
  lastActivity = max(lastActivity, excluded.lastActivity)
WHERE userId = excluded.userId
"""

NEWEST_SESSION_ID = "SELECT coalesce(max(id), 0) FROM sessions"

# AUTOINCREMENT ids only grow, so rows above the newest id before an upsert are the ones it created.
COUNT_SESSIONS_AFTER = "SELECT count(*) FROM sessions WHERE id > ?"

DEFAULT_SESSION_TTL_MS = 1_800_000


def applier(session_ttl_seconds: int) -> Apply:
    """The store's Apply: `apply_movements` with the session TTL anonymous visits end after."""
    return partial(apply_movements, session_ttl_ms=session_ttl_seconds * 1000)


def placer(session_ttl_seconds: int) -> Place:
    """The store's Place for reads of the unfolded tail: anonymous movements in the sessions
    `apply_movements` would put them in, folded now."""
    return partial(anonymous_sessions.in_sessions, ttl_ms=session_ttl_seconds * 1000)


def apply_movements(conn: apsw.Connection, rows: list[MovementRow],
                    contexts: list[str | None] | None = None,
                    session_ttl_ms: int = DEFAULT_SESSION_TTL_MS, derived: bool = True) -> Applied:
    """Store movements (anonymous ones in their visitor's session) with their requests'
    contexts, and count them in the rollups and visits; returns what was stored and created.

    Without `derived`, only movements (without revenue) and sessions are
    stored: the state an upgrade from before rollups, visits and revenue starts
    from, and the baseline the write-cost benchmarks compare against.
    """
    if contexts is None:
        contexts = [None] * len(rows)
    rows = anonymous_sessions.in_sessions(conn, rows, session_ttl_ms)
    stored = (_insert_all(conn, rows) if derived
              else _insert_all(conn, [row[:6] for row in rows], INSERT_PLAIN_MOVEMENT))
    stored_rows = [rows[i] for i in stored]
    sessions_created = _touch_sessions(conn, stored_rows)
    if derived:
        rollups.record(conn, stored_rows)
        visits.record(conn, stored_rows, [contexts[i] for i in stored])
    return Applied(len(stored), sessions_created)


def _insert_all(conn: apsw.Connection, rows: list[MovementRow] | list[tuple],
                statement: str = INSERT_MOVEMENT) -> list[int]:
    """Insert in one statement when none is a duplicate (the log decided that already),
    else row by row to learn which ones were; returns the indexes of those stored."""
    conn.execute("SAVEPOINT bulk")
    before = conn.total_changes()
    conn.executemany(statement, rows)
    if conn.total_changes() - before == len(rows):
        conn.execute("RELEASE bulk")
        return list(range(len(rows)))
    conn.execute("ROLLBACK TO bulk")
    conn.execute("RELEASE bulk")
    stored = []
    for index, row in enumerate(rows):
        conn.execute(statement, row)
        if conn.changes():
            stored.append(index)
    return stored


def _touch_sessions(conn: apsw.Connection, stored: list[MovementRow]) -> int:
    """Create or extend the sessions of stored movements; returns how many it created."""
    newest = conn.execute(NEWEST_SESSION_ID).fetchone()[0]
    spans: dict[tuple[str, str], list[int]] = {}
    for row in stored:
        span = spans.get((row.userId, row.sessionId))
        if span is None:
            spans[(row.userId, row.sessionId)] = [row.timestamp, row.timestamp]
        else:
            span[0] = min(span[0], row.timestamp)
            span[1] = max(span[1], row.timestamp)
    conn.executemany(TOUCH_SESSION, [(u, s, first, last) for (u, s), (first, last) in spans.items()])
    return conn.execute(COUNT_SESSIONS_AFTER, (newest,)).fetchone()[0]
