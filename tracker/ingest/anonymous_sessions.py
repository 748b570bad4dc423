"""Sessions of anonymous visitors, decided when their movements are folded.

An anonymous movement reaches the log with its visitor id and an empty
session id (real ids are never empty). Folding, in log order, puts it in the
visitor's latest session when that session's last movement is less than the
session TTL before it, else in a new one. The shard's session rows are the
state: a session the alarm loop expired is gone, so the next movement starts
a new one, as it would for a browser that kept its own session id.
"""

from __future__ import annotations

import apsw

from tracker.enrich.visitor_ids import new_session_id
from tracker.storage.rows import MovementRow

UNASSIGNED = ""

LATEST_SESSION = """
SELECT sessionId, lastActivity FROM sessions WHERE userId = ? ORDER BY lastActivity DESC LIMIT 1
"""


def in_sessions(conn: apsw.Connection, rows: list[MovementRow], ttl_ms: int) -> list[MovementRow]:
    """The rows, anonymous ones given their session id."""
    if all(row.sessionId != UNASSIGNED for row in rows):
        return rows
    current: dict[str, list] = {}  # visitor -> [sessionId, lastActivity]
    placed = []
    for row in rows:
        if row.sessionId != UNASSIGNED:
            placed.append(row)
            continue
        session = current.get(row.userId)
        if session is None:
            found = conn.execute(LATEST_SESSION, (row.userId,)).fetchone()
            session = current[row.userId] = list(found) if found else [None, None]
        if session[0] is None or row.timestamp - session[1] >= ttl_ms:
            session[0], session[1] = new_session_id(), row.timestamp
        else:
            session[1] = max(session[1], row.timestamp)
        placed.append(row._replace(sessionId=session[0]))
    return placed
