"""Making a connection: the one place that sets a connection's PRAGMAs, and the one
`BEGIN IMMEDIATE` transaction helper."""

from __future__ import annotations

import contextlib
import enum
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import apsw

T = TypeVar("T")

# Writers of other worker processes hold a file's lock for one commit at a
# time; waiting this long for it only happens when something is badly wrong.
BUSY_TIMEOUT_MS = 10_000

# Each commit writes every page it dirtied to the WAL, one write per page;
# checkpointing less often lets a hot index page be copied into the file once
# for many commits instead of once per few (40 MiB of WAL per shard at most).
WAL_AUTOCHECKPOINT_PAGES = 10_000
# Once a checkpoint has copied the WAL back, the next write truncates the WAL
# file to this size, so a shard that was busy once does not keep 40 MiB.
JOURNAL_SIZE_LIMIT_BYTES = 4 * 1024 * 1024
CACHE_KIB = 2 * 1024
# Connections that only look up a few pages per use (eventId probes, log tails)
# keep a small cache: there is one per file and thread.
SMALL_CACHE_KIB = 1024

# SQLite's heap in one process, mostly page caches. Each thread keeps a connection per
# file and role, so a worker (16 shard writer threads, 4 read threads, 16 shards) holds
# about 90 of them: at 2 MiB each they grew a worker from 90 to over 200 MB under
# sustained ingest. Past this bound a connection reuses its own cache pages instead of
# taking more (sqlite3_soft_heap_limit64), so the caches share it.
WORKER_MEMORY_MIB = 40
# The folding process has 250 MB: one writer per shard file of every site, bounded all the
# same when there are many sites.
FOLDING_MEMORY_MIB = 160


# What SQLite raises when a file cannot be opened or read (gone, disk full,
# damaged, locked for too long), as opposed to a mistake in a query.
UNREADABLE = (apsw.CantOpenError, apsw.IOError, apsw.FullError, apsw.CorruptError,
              apsw.NotADBError, apsw.BusyError)


class ShardUnreadable(Exception):
    """A read could not open or read a shard's file."""

    def __init__(self, shard: int, cause: BaseException):
        super().__init__(f"shard {shard}: {cause}")
        self.shard = shard
        self.cause = cause


class Role(enum.Enum):
    """What a connection is for; `connect` sets it up accordingly."""

    WRITER = "writer"  # writes: autocheckpoints and truncates the WAL
    READER = "reader"  # reads only (query_only)
    LOOKUP = "lookup"  # a reader that touches a few pages per use: a small cache
    SNAPSHOT = "snapshot"  # a reader already inside a read transaction: one moment
    CREATOR = "creator"  # makes the file if missing and switches it to WAL


def limit_memory(mib: int) -> None:
    """Bound SQLite's heap in this process to `mib` MiB (0: no bound)."""
    apsw.soft_heap_limit(mib * 2**20)


def connect(path: Path, role: Role = Role.READER, sync: str = "full") -> apsw.Connection:
    """The one place a connection is made; every PRAGMA is set here."""
    flags = apsw.SQLITE_OPEN_READWRITE
    if role is Role.CREATOR:
        flags |= apsw.SQLITE_OPEN_CREATE
    conn = apsw.Connection(str(path), flags=flags)
    try:
        _prepare(conn, role, sync)
    except BaseException:
        conn.close()
        raise
    return conn


def copy_database(source: Path, target: Path) -> None:
    """One consistent copy of a SQLite file, made with the backup API in one step, as a
    single file (no WAL beside it) that replaces whatever `target` was."""
    target.unlink(missing_ok=True)
    src = connect(source)
    dst = connect(target, Role.CREATOR)
    try:
        with dst.backup("main", src, "main") as copy:
            copy.step(-1)
        dst.execute("PRAGMA journal_mode=DELETE")
    finally:
        dst.close()
        src.close()


def _prepare(conn: apsw.Connection, role: Role, sync: str) -> None:
    conn.set_busy_timeout(BUSY_TIMEOUT_MS)
    cache_kib = SMALL_CACHE_KIB if role is Role.LOOKUP else CACHE_KIB
    conn.execute(f"PRAGMA cache_size=-{cache_kib}")
    if role is Role.CREATOR:
        conn.execute("PRAGMA journal_mode=WAL")
    if role is Role.WRITER:
        conn.execute(f"PRAGMA synchronous={'FULL' if sync == 'full' else 'NORMAL'}")
        conn.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}")
        conn.execute(f"PRAGMA journal_size_limit={JOURNAL_SIZE_LIMIT_BYTES}")
    if role in (Role.READER, Role.LOOKUP, Role.SNAPSHOT):
        conn.execute("PRAGMA query_only=1")
    if role is Role.SNAPSHOT:
        conn.execute("BEGIN")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchall()  # the snapshot starts here


@contextlib.contextmanager
def transaction(conn: apsw.Connection) -> Iterator[apsw.Connection]:
    """`BEGIN IMMEDIATE` ... `COMMIT`, rolled back when the block raises.

    IMMEDIATE takes the write lock at once: processes that write at the same
    moment wait for each other (up to the busy timeout) instead of failing
    when a read transaction tries to become a write one.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def file_identity(path: Path) -> tuple[int, int] | None:
    """(device, inode) of the file at `path`, None when nothing is there."""
    try:
        status = os.stat(path)
    except OSError:
        return None
    return status.st_dev, status.st_ino


def read_once(path: Path, query: Callable[..., T], *args: Any) -> T:
    """Run `query(connection, *args)` on a reader connection opened for it alone: for the
    command line's tools, which look at each file once."""
    conn = connect(path, Role.READER)
    try:
        return query(conn, *args)
    finally:
        conn.close()


def integrity_problems(path: Path, quick: bool = False) -> list[str]:
    """SQLite's integrity check of one file: an empty list when it is intact.

    `quick` runs quick_check, which skips matching index entries to rows and
    so takes a fraction of the time on large files.
    """
    pragma = "PRAGMA quick_check" if quick else "PRAGMA integrity_check"
    try:
        rows = read_once(path, lambda conn: [row[0] for row in conn.execute(pragma)])
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
        conn = connect(path, Role.WRITER)
        try:
            if conn.readonly("main"):
                return "the file cannot be opened for writing"
            conn.set_busy_timeout(100)
            with transaction(conn):
                pass
        finally:
            conn.close()
    except apsw.BusyError:
        return None
    except apsw.Error as error:
        return str(error)
    return None
