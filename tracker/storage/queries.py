"""Read queries against one shard, run on reader connections in a thread pool."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass

import apsw
import msgspec

from tracker.schemas import Movement, Revenue, Session

SESSION_COLUMNS = "userId, sessionId, startTime, lastActivity, deviceInfo"

FIND_SESSION = f"""
SELECT {SESSION_COLUMNS} FROM sessions WHERE sessionId = ? AND lastActivity >= ?
"""

FIND_USER_SESSION = f"""
SELECT {SESSION_COLUMNS} FROM sessions WHERE sessionId = ? AND lastActivity >= ? AND userId = ?
"""

# Newest first by (timestamp, id): the key only grows for rows inserted
# later, so a cursor taken from it never repeats or skips a row.
LIST_MOVEMENTS = """
SELECT id, userId, sessionId, timestamp, event, data, eventId, revenue, currency FROM movements
WHERE userId = ? AND timestamp >= ? AND timestamp < ? AND (timestamp, id) < (?, ?)
  AND (? IS NULL OR event = ?)
ORDER BY timestamp DESC, id DESC
LIMIT ?
"""

NEWEST = (2**63 - 1, 2**63 - 1)


class BadCursor(ValueError):
    """A cursor that this service did not hand out."""


@dataclass(frozen=True)
class MovementFilter:
    """Which of a user's movements a page holds, and where the page starts."""

    user_id: str
    start: int
    end: int
    event: str | None
    limit: int
    after: tuple[int, int] = NEWEST


def revenue_of(amount: str | None, currency: str | None) -> Revenue | None:
    """A movement's revenue from its columns (None without)."""
    return None if amount is None or currency is None else Revenue(amount, currency)


def session_from_row(row: tuple) -> Session:
    user_id, session_id, start, last, device = row
    return Session(user_id, session_id, start, last, msgspec.Raw(device or "{}"))


def find_session(
    conn: apsw.Connection, session_id: str, live_since: int, user_id: str | None
) -> Session | None:
    if user_id is None:
        row = conn.execute(FIND_SESSION, (session_id, live_since)).fetchone()
    else:
        row = conn.execute(FIND_USER_SESSION, (session_id, live_since, user_id)).fetchone()
    return None if row is None else session_from_row(row)


def list_movements(conn: apsw.Connection, query: MovementFilter) -> tuple[list[Movement], str | None]:
    """One page of a user's movements and the cursor of the next page (None at the end)."""
    movements, after = movements_page(conn, query)
    return movements, None if after is None else encode_cursor(*after)


def movements_page(
    conn: apsw.Connection, query: MovementFilter
) -> tuple[list[Movement], tuple[int, int] | None]:
    """One page of a user's movements and the key the next page starts after (None at the end)."""
    params = (
        query.user_id, query.start, query.end, *query.after, query.event, query.event,
        query.limit + 1,
    )
    rows = conn.execute(LIST_MOVEMENTS, params).fetchall()
    page = rows[: query.limit]
    movements = [
        Movement(user, session, ts, event, msgspec.Raw(data or "{}"), event_id,
                 revenue_of(amount, currency))
        for _id, user, session, ts, event, data, event_id, amount, currency in page
    ]
    more = len(rows) > query.limit
    return movements, (page[-1][3], page[-1][0]) if more else None


def encode_cursor(timestamp: int, row_id: int) -> str:
    return base64.urlsafe_b64encode(f"{timestamp}:{row_id}".encode()).decode().rstrip("=")


# What encode_cursor writes: two SQLite integers, which are at most 2**63 - 1.
CURSOR = re.compile(r"(\d{1,19}):(\d{1,19})", re.ASCII)


def decode_cursor(cursor: str) -> tuple[int, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        text = base64.urlsafe_b64decode(padded.encode()).decode()
    except (ValueError, UnicodeError):
        raise BadCursor(cursor) from None
    match = CURSOR.fullmatch(text)
    if match is None or max(int(match[1]), int(match[2])) > NEWEST[0]:
        raise BadCursor(cursor)
    return int(match[1]), int(match[2])


# Along the movements' time index; shards hold disjoint users, so counts add up.
RECENT_VISITORS = """
SELECT count(DISTINCT userId), (SELECT count(*) FROM (
  SELECT DISTINCT userId, sessionId FROM movements WHERE timestamp >= ?1 AND timestamp <= ?2))
FROM movements WHERE timestamp >= ?1 AND timestamp <= ?2
"""


def recent_visitors(conn: apsw.Connection, start: int, end: int) -> tuple[int, int]:
    """(distinct users, distinct (userId, sessionId)) with a movement in [start, end]."""
    users, visits = conn.execute(RECENT_VISITORS, (start, end)).fetchone()
    return users, visits
