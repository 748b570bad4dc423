"""Versioned shard schema: an ordered list of migrations recorded in `schema_migrations`.

A shard file made by any earlier version opens and is upgraded in place, one
migration per transaction, at start-up and by `tracker migrate`. Each
migration is a fixed SQL file in `schema/`. A migration that re-derives
stored values by rules of a higher layer (0011: visits' source and channel)
calls SQL functions that the caller registers through `functions`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import apsw

# One file per migration, `NNNN_name.sql`, applied in version order. A file
# never changes once released: a new schema is a new file.
SCHEMA_DIR = Path(__file__).with_name("schema")


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


def apply(conn: apsw.Connection, upto: int = LATEST_VERSION,
          functions: Mapping[str, Callable[..., object]] | None = None) -> list[Migration]:
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
