"""Versioned shard schema: an ordered list of migrations recorded in `schema_migrations`.

A shard file made by any earlier version opens and is upgraded in place, one
migration per transaction, at start-up and by `tracker migrate`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import apsw


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


# The contract's original schema, as the first release stored it.
BASE_SCHEMA = """
CREATE TABLE sessions (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  userId TEXT NOT NULL,
  sessionId TEXT UNIQUE NOT NULL,
  startTime INTEGER NOT NULL,
  lastActivity INTEGER NOT NULL,
  deviceInfo TEXT DEFAULT '{}'
);
CREATE TABLE movements (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  userId TEXT NOT NULL,
  sessionId TEXT NOT NULL,
  timestamp INTEGER NOT NULL,
  event TEXT NOT NULL,
  data TEXT DEFAULT '{}',
  eventId TEXT
);
CREATE INDEX idx_movements_userId ON movements(userId);
CREATE INDEX idx_movements_sessionId ON movements(sessionId);
CREATE INDEX idx_movements_timestamp ON movements(timestamp);
"""

# Every random-keyed index costs a page write per inserted row, so movements
# keep only the two the queries need: a user's movements in time order (which
# also serves the userId lookups of the old single-column index) and eventId
# de-duplication. Duplicates stored before uniqueness was enforced are removed,
# keeping the first copy.
INGEST_INDEXES = """
DROP INDEX idx_movements_userId;
DROP INDEX idx_movements_sessionId;
DROP INDEX idx_movements_timestamp;
CREATE INDEX idx_movements_user_time ON movements(userId, timestamp);
DELETE FROM movements WHERE eventId IS NOT NULL AND id NOT IN (
  SELECT min(id) FROM movements WHERE eventId IS NOT NULL GROUP BY userId, eventId
);
CREATE UNIQUE INDEX idx_movements_event_id ON movements(userId, eventId)
  WHERE eventId IS NOT NULL;
CREATE INDEX idx_sessions_last_activity ON sessions(lastActivity);
"""

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "base_schema", BASE_SCHEMA),
    Migration(2, "ingest_indexes", INGEST_INDEXES),
)

LATEST_VERSION = MIGRATIONS[-1].version

CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
  version INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  appliedAt INTEGER NOT NULL
)
"""


def applied(conn: apsw.Connection) -> list[int]:
    """Versions applied to this file, in order (empty for a new file)."""
    exists = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
    ).fetchall()
    if not exists:
        return []
    return [row[0] for row in conn.execute("SELECT version FROM schema_migrations ORDER BY version")]


def current_version(conn: apsw.Connection) -> int:
    versions = applied(conn)
    return versions[-1] if versions else 0


def pending(conn: apsw.Connection, upto: int = LATEST_VERSION) -> list[Migration]:
    done = set(applied(conn))
    return [m for m in MIGRATIONS if m.version not in done and m.version <= upto]


def apply(conn: apsw.Connection, upto: int = LATEST_VERSION) -> list[Migration]:
    """Apply every pending migration up to `upto`, each in its own transaction.

    Pending versions are re-read under the write lock, so processes starting
    at the same moment apply each migration once.
    """
    conn.execute(CREATE_TABLE)
    done = []
    for migration in pending(conn, upto):
        conn.execute("BEGIN IMMEDIATE")
        try:
            if migration.version not in applied(conn):
                conn.execute(migration.sql)
                conn.execute(
                    "INSERT INTO schema_migrations(version, name, appliedAt) VALUES (?, ?, ?)",
                    (migration.version, migration.name, int(time.time() * 1000)),
                )
                done.append(migration)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return done
