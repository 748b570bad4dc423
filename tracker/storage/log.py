"""The ingest log: one append-only SQLite file in front of every shard.

An acknowledged movement is a row here; folding (tracker/storage/fold.py)
later applies it to its shard's tables. The seam is four operations, so a
distributed log could replace this file: append rows (`append_rows`, run by
the log's writer, tracker/storage/log_writer.py, the only one that writes
this file), read a shard's rows from a position (`read_rows`), the newest
position (`head`) and acknowledge a position a shard has folded past
(`acknowledge`, which deletes that shard's rows up to it).

Folded rows are kept RETAIN_MS after they were appended, so that a live feed
(`tail`) can replay them to a client that reconnects; the writer passes
`acknowledge` a position no newer than `retained_from`. A user's erasure
deletes that user's kept rows (`forget_rows`).

Positions are `seq` values. AUTOINCREMENT keeps them growing after rows are
deleted, and `create` moves the sequence past every shard's fold position, so
a position is never reused even if the log file is lost or restored older.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

import apsw

from tracker.storage import migrations
from tracker.storage.connections import Role, connect, transaction
from tracker.storage.database import Database
from tracker.storage.rows import MovementRow

LOG_FILE = "log.sqlite"

# How long folded rows stay for the live feed's reconnecting clients.
RETAIN_MS = 10 * 60 * 1000

INSERT = """
INSERT INTO log(shard, loggedAt, userId, sessionId, timestamp, event, data, eventId, revenue, currency,
                context)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""

HEAD = "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'log'), 0)"

RAISE_SEQUENCE = "UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = 'log'"

SEED_SEQUENCE = """
INSERT INTO sqlite_sequence(name, seq) SELECT 'log', ?
WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'log')
"""

SHARD_ROWS = """
SELECT seq, userId, sessionId, timestamp, event, data, eventId, revenue, currency, context FROM log
WHERE shard = ? AND seq > ? AND seq <= ? ORDER BY seq LIMIT ?
"""

EVENT_IDS_AFTER = "SELECT seq, shard, userId, eventId FROM log WHERE seq > ? AND eventId IS NOT NULL"

# Rowid order, oldest first: the scan stops at the first row still retained, so it
# passes over only the expired rows the next acknowledge deletes.
RETAINED_FROM = "SELECT seq FROM log WHERE loggedAt >= ? ORDER BY seq LIMIT 1"

TAIL = """
SELECT seq, shard, userId, sessionId, timestamp, event, data, eventId FROM log
WHERE seq > :after AND seq <= :upto AND shard >= :low AND shard < :high
  AND (:user IS NULL OR userId = :user) AND (:event IS NULL OR event = :event)
ORDER BY seq LIMIT :limit
"""

BACKLOG = "SELECT count(*), min(loggedAt) FROM log WHERE shard = ? AND seq > ?"

USER_ROWS = "SELECT seq FROM log WHERE shard = ? AND userId = ? AND seq <= ?"

DELETE_ROW = "DELETE FROM log WHERE seq = ?"

DELETE_FOLDED = "DELETE FROM log WHERE shard = ? AND seq <= ?"

DELETE_SHARDS = "DELETE FROM log WHERE shard >= ? AND shard < ?"

# Up to :limit of a shard's rows after a position: how many, and when the oldest came.
UNFOLDED = """
SELECT count(*), min(loggedAt) FROM (
  SELECT loggedAt FROM log WHERE shard = :shard AND seq > :after AND seq <= :upto ORDER BY seq LIMIT :limit)
"""

HAS_CONTEXT = "SELECT 1 FROM pragma_table_info('log') WHERE name = 'context'"


class Logged(NamedTuple):
    """One log row: its position, the movement and its request's context (rows.encode_context)."""

    seq: int
    movement: MovementRow
    context: str | None


class LogFile(Database):
    """`log.sqlite`: its schema, and the floor its positions start above."""

    def create(self, floor: int) -> None:
        """Create the file if missing (WAL), bring it to the latest schema, and make the next
        position greater than `floor`."""
        conn = connect(self.path, Role.CREATOR)
        try:
            with transaction(conn):
                _adopt_unversioned(conn)
            migrations.apply(conn, migrations=migrations.LOG_MIGRATIONS)
            with transaction(conn):
                conn.execute(SEED_SEQUENCE, (floor,))
                conn.execute(RAISE_SEQUENCE, (floor,))
        finally:
            conn.close()


def _adopt_unversioned(conn: apsw.Connection) -> None:
    """Record the versions a log made before the log's schema was versioned already has:
    the table (1), and the request context column (2) when it is there."""
    if migrations.applied(conn) or not conn.execute(migrations.HAS_TABLE, ("log",)).fetchall():
        return
    conn.execute(migrations.CREATE_TABLE)
    has_context = bool(conn.execute(HAS_CONTEXT).fetchall())
    for migration in migrations.LOG_MIGRATIONS[:2 if has_context else 1]:
        migrations.record(conn, migration)


def path_in(data_dir: Path) -> Path:
    return data_dir / LOG_FILE


def head(conn: apsw.Connection) -> int:
    """The position of the newest row ever appended (0 for none); the statement runs to
    completion, so the connection keeps no read snapshot open."""
    return conn.execute(HEAD).fetchall()[0][0]


def append_rows(conn: apsw.Connection, rows: list[tuple]) -> int:
    """Append rows (shard, loggedAt in ms, MovementRow's columns, context) inside the writer's
    transaction; returns the position of the last. Under the write lock positions are
    consecutive."""
    conn.executemany(INSERT, rows)
    return conn.last_insert_rowid()


def read_rows(conn: apsw.Connection, shard: int, after: int, upto: int, limit: int) -> list[Logged]:
    """Up to `limit` of the shard's rows with after < seq <= upto, in log order."""
    return [Logged(seq, MovementRow(*movement), context)
            for seq, *movement, context in conn.execute(SHARD_ROWS, (shard, after, upto, limit))]


def event_ids_after(conn: apsw.Connection, after: int) -> Iterable[tuple[int, int, str, str]]:
    """(seq, shard, userId, eventId) of rows appended after `after` that carry an eventId."""
    return conn.execute(EVENT_IDS_AFTER, (after,))


def acknowledge(conn: apsw.Connection, shard: int, upto: int) -> int:
    """Forget the shard's rows at or before `upto` (it has folded them); returns how many."""
    conn.execute(DELETE_FOLDED, (shard, upto))
    return conn.changes()


def backlog(conn: apsw.Connection, shard: int, folded: int) -> tuple[int, int | None]:
    """(rows of the shard not yet folded, when the oldest of them was appended, in ms)."""
    count, oldest = conn.execute(BACKLOG, (shard, folded)).fetchall()[0]
    return count, oldest


def retained_from(conn: apsw.Connection, now_ms: int) -> int:
    """The oldest position still within RETAIN_MS of `now_ms`: rows before it may go once
    folded (head + 1 when every row is older)."""
    found = conn.execute(RETAINED_FROM, (now_ms - RETAIN_MS,)).fetchall()
    return found[0][0] if found else head(conn) + 1


def tail(conn: apsw.Connection, after: int, upto: int, limit: int, shards: range,
         user_id: str | None = None, event: str | None = None) -> list[tuple]:
    """Up to `limit` rows (seq, shard, MovementRow's columns but context) of the shards with keys in
    `shards` with after < seq <= upto, in log order, of that user and event when given."""
    return conn.execute(TAIL, {"after": after, "upto": upto, "low": shards.start,
                               "high": shards.stop, "user": user_id, "event": event,
                               "limit": limit}).fetchall()


def user_rows(conn: apsw.Connection, shard: int, user_id: str, upto: int) -> list[int]:
    """Positions of the user's rows of a shard at or before `upto`."""
    return [seq for (seq,) in conn.execute(USER_ROWS, (shard, user_id, upto))]


def forget_shards(conn: apsw.Connection, low: int, high: int) -> int:
    """Delete every row of the shards with keys in [low, high); returns how many."""
    conn.execute(DELETE_SHARDS, (low, high))
    return conn.changes()


def unfolded(conn: apsw.Connection, shard: int, after: int, upto: int,
             limit: int) -> tuple[int, int | None]:
    """(the shard's rows with after < seq <= upto, counted up to `limit`; when the oldest of
    them was appended, in ms)."""
    count, oldest = conn.execute(UNFOLDED, {"shard": shard, "after": after, "upto": upto,
                                            "limit": limit}).fetchall()[0]
    return count, oldest


def forget_rows(conn: apsw.Connection, positions: list[int]) -> int:
    """Delete the rows at `positions`; returns how many were still there."""
    before = conn.total_changes()
    conn.executemany(DELETE_ROW, [(seq,) for seq in positions])
    return conn.total_changes() - before
