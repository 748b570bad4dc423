"""A user's own data: the sessions read for an export, and the write job that erases it.

Erasure runs as a series of jobs on the user's shard writer (driven by
erasures.py), each taking the user out of one archive file or up to `limit`
of the user's stored movements out of the table, and those movements out of
the additive rollups, so that a user with millions of movements never holds
the shard's write lock for long.
The job that finds no archive holding the user and no more than `limit`
stored also deletes the user's sessions and spans and gaps: in that
transaction the user has no movements, so the distinct-count rollups lose
exactly that user.
Movements ingested between jobs are stored and counted as usual, and erased
by a later job.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import NamedTuple

import apsw

from tracker.analytics import rollups, visits
from tracker.analytics.rollups import DAY
from tracker.schemas import ExportedMovement, Session, encode
from tracker.storage import archives
from tracker.storage.queries import SESSION_COLUMNS, session_from_row

USER_SESSIONS = f"SELECT {SESSION_COLUMNS} FROM sessions WHERE userId = ? ORDER BY startTime, id"

# Oldest first along the (userId, timestamp) index, with the page path that
# rollups.page_path finds (a JSON string at data.path of a page view).
ERASABLE_MOVEMENTS = f"""
SELECT id, timestamp, event,
  CASE WHEN event = '{rollups.PAGE_VIEW}' AND json_type(data, '$.path') = 'text'
       THEN data ->> '$.path' END
FROM movements WHERE userId = ? ORDER BY timestamp LIMIT ?
"""

DELETE_MOVEMENT = "DELETE FROM movements WHERE id = ?"

DELETE_USER_SESSIONS = "DELETE FROM sessions WHERE userId = ?"

REPLACE_ARCHIVE = """
UPDATE archives SET path = ?, first = ?, last = ?, movements = ?, bytes = ?, sha256 = ?, members = ?
WHERE id = ?
"""

DROP_ARCHIVE = "DELETE FROM archives WHERE id = ?"

FORGET_USERS = "DELETE FROM archive_users WHERE archive = ?"


class Erased(NamedTuple):
    movements: int
    sessions: int
    done: bool  # the user has nothing left
    stale_files: tuple[str, ...] = ()  # archive files replaced, to delete after the commit


def user_sessions(conn: apsw.Connection, user_id: str) -> list[Session]:
    return [session_from_row(row) for row in conn.execute(USER_SESSIONS, (user_id,))]


def erase_some(conn: apsw.Connection, shard: int, user_id: str, limit: int) -> Erased:
    """Erase the user from one archive file, or else up to `limit` of the user's stored
    movements; with none archived and fewer stored left, finish the erasure."""
    from_archive = erase_from_one(conn, shard, user_id)
    if from_archive is not None:
        return Erased(from_archive.movements, 0, False, (from_archive.stale,))
    rows = conn.execute(ERASABLE_MOVEMENTS, (user_id, limit)).fetchall()
    conn.executemany(DELETE_MOVEMENT, [(row_id,) for row_id, *_ in rows])
    rollups.forget_counts(conn, [tuple(stamp) for _, *stamp in rows])
    if len(rows) == limit:
        return Erased(len(rows), 0, False)
    conn.execute(DELETE_USER_SESSIONS, (user_id,))
    sessions = conn.changes()
    rollups.forget_entities(conn, user_id)
    visits.forget(conn, user_id)
    return Erased(len(rows), sessions, True)


@dataclass(frozen=True)
class UserErasure:
    movements: int  # the user's lines taken out of the file
    stale: str  # the replaced file, to delete once the transaction commits


def erase_from_one(conn: apsw.Connection, shard: int, user_id: str) -> UserErasure | None:
    """Take the user's lines out of one archive file holding them, and out of the rollups.

    A write job step: the file is replaced by one without those lines (or
    dropped when nothing else is left); None when no archive holds the user.
    """
    found = conn.execute(archives.FIRST_USER_ARCHIVE, (user_id,)).fetchone()
    if found is None:
        return None
    archive_id, path, members, size = found
    table = json.loads(members)
    prefix = archives.line_prefix(user_id)
    kept: list[ExportedMovement] = []
    erased: list[ExportedMovement] = []
    for line in archives.read_members(archives.data_dir_of(conn) / path, table, size, range(len(table))):
        (erased if line.startswith(prefix) else kept).append(archives.LINE.decode(line))
    rollups.forget_counts(conn, [_counted(movement) for movement in erased])
    conn.execute(FORGET_USERS, (archive_id,))
    if kept:
        _replace(conn, archive_id, shard, kept)
    else:
        conn.execute(DROP_ARCHIVE, (archive_id,))
    return UserErasure(len(erased), path)


def _replace(conn: apsw.Connection, archive_id: int, shard: int, kept: list[ExportedMovement]) -> None:
    """Write the kept movements as a new file in the place of archive `archive_id`."""
    day = kept[0].timestamp - kept[0].timestamp % DAY
    written = archives.write(archives.data_dir_of(conn), shard, day, [m.timestamp for m in kept],
                             list(map(encode, kept)))
    conn.execute(REPLACE_ARCHIVE, (written.path, written.first, written.last, written.movements,
                                   written.bytes, written.sha256, written.members, archive_id))
    archives.record_users(conn, archive_id, [m.userId for m in kept])


def _counted(movement: ExportedMovement) -> tuple[int, str, str | None]:
    """What the additive rollups counted for a movement: (timestamp, event, page path)."""
    return movement.timestamp, movement.event, rollups.page_path(movement.event, bytes(movement.data))
