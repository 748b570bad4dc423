"""Versioned schemas: ordered lists of migrations recorded in each file's `schema_migrations`.

Each file kind has its list of fixed SQL files: the shards' in `schema/`,
the ingest log's in `schema/log/`. A file made by any earlier version opens
and is upgraded in place, one migration per transaction, at start-up and by
`tracker migrate`. A file never changes once released: a new schema is a new
file. A migration that re-derives stored values by rules of a higher layer
(0011: visits' source and channel) calls SQL functions that the caller
registers through `functions`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import apsw

from tracker.storage.connections import transaction

SCHEMA_DIR = Path(__file__).with_name("schema")
LOG_SCHEMA_DIR = SCHEMA_DIR / "log"


@dataclass(frozen=True)
class Migration:
    """One schema change, as its fixed SQL file holds it."""

    version: int
    name: str
    sql: str


def _load(directory: Path) -> tuple[Migration, ...]:
    found = []
    for path in sorted(directory.glob("*.sql")):
        number, _, name = path.stem.partition("_")
        found.append(Migration(int(number), name, path.read_text()))
    return tuple(found)


MIGRATIONS = _load(SCHEMA_DIR)
LATEST_VERSION = MIGRATIONS[-1].version

LOG_MIGRATIONS = _load(LOG_SCHEMA_DIR)

CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
  version INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  appliedAt INTEGER NOT NULL
)
"""

HAS_TABLE = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"
APPLIED = "SELECT version FROM schema_migrations ORDER BY version"
RECORD = "INSERT INTO schema_migrations(version, name, appliedAt) VALUES (?, ?, ?)"


def applied(conn: apsw.Connection) -> list[int]:
    """Versions applied to this file, in order (empty for a new file)."""
    if not conn.execute(HAS_TABLE, ("schema_migrations",)).fetchall():
        return []
    return [row[0] for row in conn.execute(APPLIED)]


def current_version(conn: apsw.Connection) -> int:
    versions = applied(conn)
    return versions[-1] if versions else 0


def pending(conn: apsw.Connection, upto: int = LATEST_VERSION,
            migrations: tuple[Migration, ...] = MIGRATIONS) -> list[Migration]:
    done = set(applied(conn))
    return [m for m in migrations if m.version not in done and m.version <= upto]


Functions = Mapping[str, Callable[..., object]]


def apply(conn: apsw.Connection, upto: int = LATEST_VERSION,
          migrations: tuple[Migration, ...] = MIGRATIONS,
          functions: Functions | None = None) -> list[Migration]:
    """Apply every pending migration up to `upto`, each in its own transaction.

    `functions` are SQL functions (name to a deterministic Python callable)
    registered on the connection first, for the migrations that call them.
    Pending versions are re-read under the write lock, so processes starting
    at the same moment apply each migration once.
    """
    for name, function in (functions or {}).items():
        conn.create_scalar_function(name, function, deterministic=True)
    conn.execute(CREATE_TABLE)
    done = []
    for migration in pending(conn, upto, migrations):
        with transaction(conn):
            if migration.version not in applied(conn):
                conn.execute(migration.sql)
                record(conn, migration)
                done.append(migration)
    return done


def record(conn: apsw.Connection, migration: Migration) -> None:
    """Note `migration` as applied (inside the caller's transaction)."""
    conn.execute(RECORD, (migration.version, migration.name, int(time.time() * 1000)))
