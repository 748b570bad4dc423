"""Opening a shard file: the one place that sets a connection's PRAGMAs."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, TypeVar

import apsw

from tracker.storage import migrations

T = TypeVar("T")

# Writers of other worker processes hold a shard's lock for one commit at a
# time; waiting this long for it only happens when something is badly wrong.
BUSY_TIMEOUT_MS = 10_000

# Each commit writes every page it dirtied to the WAL, one write per page;
# checkpointing less often lets a hot index page be copied into the file once
# for many commits instead of once per few (40 MiB of WAL per shard at most).
WAL_AUTOCHECKPOINT_PAGES = 10_000
CACHE_KIB = 8 * 1024


def open_connection(path: Path, sync: str = "full", readonly: bool = False) -> apsw.Connection:
    """A connection to an existing shard file (never creates one)."""
    flags = apsw.SQLITE_OPEN_READONLY if readonly else apsw.SQLITE_OPEN_READWRITE
    conn = apsw.Connection(str(path), flags=flags)
    conn.set_busy_timeout(BUSY_TIMEOUT_MS)
    conn.execute(f"PRAGMA synchronous={'FULL' if sync == 'full' else 'NORMAL'}")
    conn.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
    if not readonly:
        conn.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}")
    return conn


def file_identity(path: Path) -> tuple[int, int] | None:
    """(device, inode) of the file at `path`, None when nothing is there."""
    try:
        status = os.stat(path)
    except OSError:
        return None
    return status.st_dev, status.st_ino


def create_or_upgrade(path: Path) -> list[migrations.Migration]:
    """Create the file if missing, switch it to WAL and apply pending migrations."""
    conn = apsw.Connection(str(path))
    try:
        conn.set_busy_timeout(BUSY_TIMEOUT_MS)
        conn.execute("PRAGMA journal_mode=WAL")
        return migrations.apply(conn)
    finally:
        conn.close()


def read_once(path: Path, query: Callable[..., T], *args: Any) -> T:
    """Run `query(connection, *args)` on a read-only connection opened for it alone."""
    conn = open_connection(path, readonly=True)
    try:
        return query(conn, *args)
    finally:
        conn.close()


def integrity_problems(path: Path, quick: bool = False) -> list[str]:
    """SQLite's integrity check of one file: an empty list when it is intact.

    `quick` runs quick_check, which skips matching index entries to rows and
    so takes a fraction of the time on large files.
    """
    pragma = "quick_check" if quick else "integrity_check"
    try:
        rows = read_once(path, lambda conn: [row[0] for row in conn.execute(f"PRAGMA {pragma}")])
    except apsw.Error as error:
        return [str(error)]
    return [] if rows == ["ok"] else rows


def write_problem(path: Path) -> str | None:
    """A cheap probe: can this process open the file for writing and take its write lock?

    None when it can. A lock held by another writer counts as writable:
    someone is writing. SQLite opens a file it may not write (an immutable
    file, a read-only mount) read-only instead of failing, so that is checked.
    """
    try:
        conn = apsw.Connection(str(path), flags=apsw.SQLITE_OPEN_READWRITE)
        try:
            if conn.readonly("main"):
                return "the file cannot be opened for writing"
            conn.set_busy_timeout(100)
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("ROLLBACK")
        finally:
            conn.close()
    except apsw.BusyError:
        return None
    except apsw.Error as error:
        return str(error)
    return None
