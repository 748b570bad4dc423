"""The ingest log: one append-only SQLite file in front of every shard.

An acknowledged movement is a row here; folding (tracker/storage/fold.py)
later applies it to its shard's tables. The seam is four operations, so a
distributed log could replace this file: append rows (`append_rows`, run by
the log's group-commit writer), read a shard's rows from a position
(`read_rows`), the newest position (`head`) and acknowledge a position a
shard has folded past (`acknowledge`, which deletes that shard's rows up to it).

Positions are `seq` values. AUTOINCREMENT keeps them growing after rows are
deleted, and `create` moves the sequence past every shard's fold position, so
a position is never reused even if the log file is lost or restored older.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, NamedTuple

import apsw

from tracker.storage.connections import Role, connect
from tracker.storage.rows import MovementRow

LOG_FILE = "log.sqlite"

# The (shard, seq) index is appended to at one place per shard, so it costs
# a few page writes per commit, not one per row as a random key would.
SCHEMA = """
CREATE TABLE IF NOT EXISTS log (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  shard INTEGER NOT NULL,
  loggedAt INTEGER NOT NULL,
  userId TEXT NOT NULL,
  sessionId TEXT NOT NULL,
  timestamp INTEGER NOT NULL,
  event TEXT NOT NULL,
  data TEXT NOT NULL,
  eventId TEXT,
  context TEXT
);
CREATE INDEX IF NOT EXISTS idx_log_shard ON log(shard, seq);
"""

INSERT = """
INSERT INTO log(shard, loggedAt, userId, sessionId, timestamp, event, data, eventId, context)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
"""

HEAD = "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'log'), 0)"

RAISE_SEQUENCE = "UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = 'log'"

SEED_SEQUENCE = "INSERT INTO sqlite_sequence(name, seq) SELECT 'log', ? WHERE NOT EXISTS " \
                "(SELECT 1 FROM sqlite_sequence WHERE name = 'log')"

SHARD_ROWS = """
SELECT seq, userId, sessionId, timestamp, event, data, eventId, context FROM log
WHERE shard = ? AND seq > ? AND seq <= ? ORDER BY seq LIMIT ?
"""

EVENT_IDS_AFTER = "SELECT seq, shard, userId, eventId FROM log WHERE seq > ? AND eventId IS NOT NULL"

OLDEST = "SELECT min(seq) FROM log"

BACKLOG = "SELECT count(*), min(loggedAt) FROM log WHERE shard = ? AND seq > ?"

USER_ROWS = "SELECT seq, shard FROM log WHERE userId = ?"

DELETE_FOLDED = "DELETE FROM log WHERE shard = ? AND seq <= ?"


# Logs made before the request context was kept get its column (NULL: unknown).
CONTEXT_COLUMN = "SELECT 1 FROM pragma_table_info('log') WHERE name = 'context'"
ADD_CONTEXT_COLUMN = "ALTER TABLE log ADD COLUMN context TEXT"


class Logged(NamedTuple):
    """One log row: its position, the movement and its request's context (rows.encode_context)."""

    seq: int
    movement: MovementRow
    context: str | None


def path_in(data_dir: Path) -> Path:
    return data_dir / LOG_FILE


def create(path: Path, floor: int) -> None:
    """Create the log if missing (WAL), and make the next position greater than `floor`."""
    conn = connect(path, Role.CREATOR)
    try:
        # IMMEDIATE: workers starting together wait for each other's lock instead of
        # failing at once when a read transaction tries to become a write one.
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(SCHEMA)
            if not conn.execute(CONTEXT_COLUMN).fetchall():
                conn.execute(ADD_CONTEXT_COLUMN)
            conn.execute(SEED_SEQUENCE, (floor,))
            conn.execute(RAISE_SEQUENCE, (floor,))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    finally:
        conn.close()


def head(conn: apsw.Connection) -> int:
    """The position of the newest row ever appended (0 for none)."""
    return conn.execute(HEAD).fetchone()[0]


def head_of(conn: apsw.Connection) -> int:
    """`head`, run to completion so that the connection keeps no read snapshot open."""
    return conn.execute(HEAD).fetchall()[0][0]


def append_rows(conn: apsw.Connection, rows: list[tuple]) -> int:
    """Append rows (shard, loggedAt in ms, MovementRow's columns, context) inside the writer's transaction;
    returns the position of the last. Under the write lock positions are consecutive."""
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
    return tuple(conn.execute(BACKLOG, (shard, folded)).fetchone())
