"""Write jobs: what the group-commit writer runs inside a shard's transaction.

Each function takes the writer's connection and plain values prepared by the
request handler, and runs on the writer thread, never on the event loop.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import NamedTuple

import apsw

from tracker.analytics import rollups, visits
from tracker.ingest import anonymous_sessions
from tracker.storage.rows import MovementRow
from tracker.storage.store import Store

INSERT_MOVEMENT = """
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

SELECT_SESSION = """
SELECT userId, sessionId, startTime, lastActivity, deviceInfo FROM sessions WHERE sessionId = ?
"""

INSERT_SESSION = """
INSERT INTO sessions(userId, sessionId, startTime, lastActivity, deviceInfo) VALUES (?, ?, ?, ?, ?)
"""

REFRESH_SESSION = """
UPDATE sessions SET lastActivity = max(lastActivity, ?), deviceInfo = coalesce(?, deviceInfo)
WHERE sessionId = ?
"""

NEWEST_SESSION_ID = "SELECT coalesce(max(id), 0) FROM sessions"

# AUTOINCREMENT ids only grow, so rows above the newest id before an upsert are the ones it created.
COUNT_SESSIONS_AFTER = "SELECT count(*) FROM sessions WHERE id > ?"



DEFAULT_SESSION_TTL_MS = 1_800_000


class Stored(NamedTuple):
    movements: int
    sessions_created: int


class SessionTaken(Exception):
    """The session id already belongs to another user."""


def movement_applier(session_ttl_seconds: int) -> Callable[..., Stored]:
    """The fold's Apply: `store_movements` with the session TTL anonymous visits end after."""
    return partial(store_movements, session_ttl_ms=session_ttl_seconds * 1000)


def store_movements(conn: apsw.Connection, rows: list[MovementRow],
                    contexts: list[str | None] | None = None,
                    session_ttl_ms: int = DEFAULT_SESSION_TTL_MS) -> Stored:
    """Store movements (anonymous ones in their visitor's session) with their requests'
    contexts, and count them in the rollups and visits; returns what was stored and created."""
    if contexts is None:
        contexts = [None] * len(rows)
    rows = anonymous_sessions.in_sessions(conn, rows, session_ttl_ms)
    stored = _insert_all(conn, rows)
    stored_rows = [rows[i] for i in stored]
    sessions_created = _touch_sessions(conn, stored_rows)
    rollups.record(conn, stored_rows)
    visits.record(conn, stored_rows, [contexts[i] for i in stored])
    return Stored(len(stored), sessions_created)


def insert_movements(conn: apsw.Connection, rows: list[MovementRow]) -> tuple[list[MovementRow], int]:
    """Movements and sessions alone, without rollups or visits: what upgrade tests and the
    benchmark compare against. Returns the movements stored and the sessions created."""
    stored = [rows[i] for i in _insert_all(conn, rows)]
    return stored, _touch_sessions(conn, stored)


def _insert_all(conn: apsw.Connection, rows: list[MovementRow]) -> list[int]:
    """Insert in one statement when none is a duplicate (the log decided that already),
    else row by row to learn which ones were; returns the indexes of those stored."""
    conn.execute("SAVEPOINT bulk")
    before = conn.total_changes()
    conn.executemany(INSERT_MOVEMENT, rows)
    if conn.total_changes() - before == len(rows):
        conn.execute("RELEASE bulk")
        return list(range(len(rows)))
    conn.execute("ROLLBACK TO bulk")
    conn.execute("RELEASE bulk")
    stored = []
    for index, row in enumerate(rows):
        conn.execute(INSERT_MOVEMENT, row)
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


def open_session(
    conn: apsw.Connection, user_id: str, session_id: str, device_info: str | None, now: int
) -> tuple[tuple, bool]:
    """Create the session or refresh it; returns (session row, created)."""
    existing = conn.execute(SELECT_SESSION, (session_id,)).fetchone()
    if existing is None:
        conn.execute(INSERT_SESSION, (user_id, session_id, now, now, device_info or "{}"))
    elif existing[0] != user_id:
        raise SessionTaken(session_id)
    else:
        conn.execute(REFRESH_SESSION, (now, device_info, session_id))
    return conn.execute(SELECT_SESSION, (session_id,)).fetchone(), existing is None


async def open_session_in(store: Store, user_id: str, session_id: str, device_info: str | None,
                          now: int) -> tuple[tuple, bool]:
    """Create or refresh a session in its user's shard; returns (session row, created)."""
    work = partial(open_session, user_id=user_id, session_id=session_id, device_info=device_info, now=now)
    return await store.submit(store.shard_of(user_id), work)
