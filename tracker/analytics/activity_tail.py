"""The log's unfolded tail in a shard's /analytics share: its rows, and its users and sessions
the folded window does not already count.

The tail's movements are in no rollup yet, so their counts add to the
folded ones as they are. A distinct count cannot add: a user of the tail
may be counted by the folded window already. Each of the tail's entities is
probed for that in the shard's spans and gaps (`rollups.py`), all of them in
one statement: a folded entity has a movement in [start, end) unless its
last is before start, its first at or after end, or a gap runs from before
start to at or after end, which is exact for windows of at least GAP_MS
(shorter windows count raw rows, the tail's among them).
"""

from __future__ import annotations

import json

import apsw

from tracker.analytics.rollups import USERS
from tracker.storage.rows import MovementRow

# The probes take the tail's entities as one JSON array of [userId, sessionId]. CROSS JOIN
# keeps the tail the outer loop, an entity's span one primary key search: the planner would
# otherwise walk every span ending in the window, which under ingest is nearly all of them.
FOLDED_ACTIVE = """
WITH tail(userId, sessionId) AS (SELECT value ->> 0, value ->> 1 FROM json_each(?1))
SELECT count(*) FROM tail CROSS JOIN activity_spans AS span
  ON span.kind = ?2 AND span.event = ?3 AND span.userId = tail.userId
  AND span.sessionId = tail.sessionId
WHERE span.first < ?5 AND span.last >= ?4 AND NOT EXISTS (
  SELECT 1 FROM activity_gaps AS gap
  WHERE gap.kind = ?2 AND gap.event = ?3 AND gap.userId = tail.userId
    AND gap.sessionId = tail.sessionId AND gap.prev < ?4 AND gap.next >= ?5)
"""


def rows_in(rows: list[MovementRow], start: int, end: int, event: str | None,
            user_id: str | None) -> list[tuple]:
    """The tail's movements in [start, end), of that event and user when given, as rows of
    activity.MOVEMENT_COLUMNS."""
    return [(row.timestamp, row.event, row.userId, row.sessionId, row.data) for row in rows
            if start <= row.timestamp < end and event in (None, row.event)
            and user_id in (None, row.userId)]


def new_entities(conn: apsw.Connection, kind: int, event: str, tail: list[tuple], start: int,
                 end: int) -> int:
    """How many users (or sessions) with a movement in `tail` (rows in the window) the folded
    window [start, end) does not count, for end - start >= GAP_MS."""
    if kind == USERS:
        entities = {(user, "") for _t, _e, user, _s, _d in tail}
    else:
        entities = {(user, session) for _t, _e, user, session, _d in tail}
    if not entities:
        return 0
    folded = conn.execute(FOLDED_ACTIVE, (json.dumps(sorted(entities)), kind, event, start,
                                          end)).fetchone()[0]
    return len(entities) - folded
