"""POST /session's write: create a session or refresh it, in its user's shard."""

from __future__ import annotations

from functools import partial

import apsw

from tracker.storage.store import Store

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


class SessionTaken(Exception):
    """The session id already belongs to another user."""


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
    work = partial(open_session, user_id=user_id, session_id=session_id, device_info=device_info,
                   now=now)
    return await store.submit(store.shard_of(user_id), work)
