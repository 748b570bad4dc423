"""Versioned shard schema: an ordered list of migrations recorded in `schema_migrations`.

A shard file made by any earlier version opens and is upgraded in place, one
migration per transaction, at start-up and by `tracker migrate`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import apsw

from tracker.analytics.rollups import GAP_MS, GRAINS, PAGE_VIEW


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


# Rollup tables (see tracker/analytics/rollups.py), filled from the movements already
# stored, and a time index for the raw minutes at the ends of a window.
ROLLUP_TABLES = """
CREATE INDEX idx_movements_time ON movements(timestamp);
CREATE TABLE rollup_events (
  grain INTEGER NOT NULL, start INTEGER NOT NULL, event TEXT NOT NULL, n INTEGER NOT NULL,
  PRIMARY KEY (grain, start, event)
) WITHOUT ROWID;
CREATE TABLE rollup_pages (
  grain INTEGER NOT NULL, start INTEGER NOT NULL, path TEXT NOT NULL, n INTEGER NOT NULL,
  PRIMARY KEY (grain, start, path)
) WITHOUT ROWID;
-- Entity rows are keyed user first: the four entities one movement touches
-- (the user and its session, overall and for the event) share a leaf page.
CREATE TABLE activity_spans (
  kind INTEGER NOT NULL, event TEXT NOT NULL, userId TEXT NOT NULL, sessionId TEXT NOT NULL,
  first INTEGER NOT NULL, last INTEGER NOT NULL,
  PRIMARY KEY (userId, sessionId, kind, event)
) WITHOUT ROWID;
CREATE INDEX idx_spans_first ON activity_spans(kind, event, first);
CREATE INDEX idx_spans_last ON activity_spans(kind, event, last);
CREATE TABLE activity_gaps (
  kind INTEGER NOT NULL, event TEXT NOT NULL, userId TEXT NOT NULL, sessionId TEXT NOT NULL,
  prev INTEGER NOT NULL, next INTEGER NOT NULL,
  PRIMARY KEY (userId, sessionId, kind, event, prev)
) WITHOUT ROWID;
CREATE INDEX idx_gaps_next ON activity_gaps(kind, event, next, prev);
CREATE INDEX idx_gaps_prev ON activity_gaps(kind, event, prev, next);
CREATE TABLE activity_counts (
  kind INTEGER NOT NULL, event TEXT NOT NULL, n INTEGER NOT NULL,
  PRIMARY KEY (kind, event)
) WITHOUT ROWID;
"""

GRAIN_VALUES = ", ".join(f"({grain})" for grain in GRAINS)

BACKFILL_COUNTS = f"""
WITH grains(grain) AS (VALUES {GRAIN_VALUES})
INSERT INTO rollup_events(grain, start, event, n)
SELECT grain, timestamp - timestamp % grain AS slot, event, count(*)
FROM movements, grains GROUP BY grain, slot, event;
WITH grains(grain) AS (VALUES {GRAIN_VALUES})
INSERT INTO rollup_pages(grain, start, path, n)
SELECT grain, timestamp - timestamp % grain AS slot, data ->> '$.path' AS path, count(*)
FROM movements, grains
WHERE event = '{PAGE_VIEW}' AND json_type(data, '$.path') = 'text'
GROUP BY grain, slot, path;
"""

# The four entity shapes of rollups._entities, as (kind, event, sessionId) SQL.
ENTITY_SHAPES = (("0", "''", "''"), ("0", "event", "''"), ("1", "''", "sessionId"),
                 ("1", "event", "sessionId"))


def _backfill_entities() -> str:
    statements = []
    for kind, event, session in ENTITY_SHAPES:
        key = f"{kind}, {event}, userId, {session}"
        statements.append(
            f"INSERT INTO activity_spans SELECT {key}, min(timestamp), max(timestamp) "
            f"FROM movements GROUP BY userId, {event}, {session};"
        )
        statements.append(
            f"INSERT INTO activity_gaps SELECT * FROM (SELECT {key}, lag(timestamp) OVER "
            f"(PARTITION BY userId, {event}, {session} ORDER BY timestamp) AS prev, timestamp "
            f"FROM movements) WHERE timestamp - prev > {GAP_MS};"
        )
    statements.append("INSERT INTO activity_counts SELECT kind, event, count(*) "
                      "FROM activity_spans GROUP BY kind, event;")
    return "\n".join(statements)


# A user's sessions, for that user's export and erasure.
SESSIONS_BY_USER = "CREATE INDEX idx_sessions_user ON sessions(userId);"

# Retention's archive files (tracker/lifecycle/archive.py): each file's time range and
# gzip members, and which files (and members of them) hold each user.
ARCHIVE_TABLES = """
CREATE TABLE archives (
  id INTEGER PRIMARY KEY,
  path TEXT UNIQUE NOT NULL,
  first INTEGER NOT NULL,
  last INTEGER NOT NULL,
  movements INTEGER NOT NULL,
  bytes INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  members TEXT NOT NULL
);
CREATE INDEX idx_archives_last ON archives(last);
CREATE TABLE archive_users (
  userId TEXT NOT NULL,
  archive INTEGER NOT NULL,
  members TEXT NOT NULL,
  PRIMARY KEY (userId, archive)
) WITHOUT ROWID;
CREATE INDEX idx_archive_users_archive ON archive_users(archive);
"""

# How far into the ingest log (tracker/ingest/log.py) this shard has folded:
# kept in the shard so that it advances in the same transaction as the fold.
FOLD_POSITION = """
CREATE TABLE fold_position (
  id INTEGER PRIMARY KEY CHECK (id = 0),
  seq INTEGER NOT NULL
);
INSERT INTO fold_position(id, seq) VALUES (0, 0);
"""

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "base_schema", BASE_SCHEMA),
    Migration(2, "ingest_indexes", INGEST_INDEXES),
    Migration(3, "rollups", ROLLUP_TABLES + BACKFILL_COUNTS + _backfill_entities()),
    Migration(4, "sessions_by_user", SESSIONS_BY_USER),
    Migration(5, "archives", ARCHIVE_TABLES),
    Migration(6, "fold_position", FOLD_POSITION),
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
