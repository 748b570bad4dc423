"""A user's export, written whole to a spool file from one snapshot of the shard.

The export is read in one read transaction, so a pass of the archiver or an
erasure during it neither repeats nor drops a movement. That transaction
pins the shard's write-ahead log: no checkpoint can copy past it, so the WAL
grows for as long as it is open. It is therefore held only while the export
is read, page by page, into a file; the client then takes the file at its own
pace with no transaction open.

The file is anonymous, in `<data dir>/tmp/` (the data's own disk, rather than
a system temporary directory that may live in memory): it has no name to
clean up, and its space goes back when it is closed or the process ends.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import BinaryIO

import apsw
import msgspec

from tracker import schemas
from tracker.lifecycle.user_data import user_sessions
from tracker.storage import archives, connections, queries
from tracker.storage.connections import UNREADABLE, ShardUnreadable
from tracker.storage.shard_file import ShardFile
from tracker.storage.store import Store
from tracker.throttle import Throttled

SPOOL_DIR = "tmp"

# Movements read and written per step: memory stays at one page whatever the user holds.
EXPORT_PAGE = 500

# Every movement's timestamp lies below this (the API's largest accepted time).
END_OF_TIME = 2**53

log = logging.getLogger("tracker.export")
unwritable_spools = Throttled(log)

# A page of a user's movements and the key the next one starts after (None: the last page).
Page = tuple[list[schemas.Movement], tuple[int, int] | None]


class SpoolUnwritable(Exception):
    """The export could not be written to its spool file (disk full, directory unwritable)."""


def spool_dir(data_dir: Path) -> Path:
    return data_dir / SPOOL_DIR


def spool_export(store: Store, file: ShardFile, user_id: str) -> BinaryIO | None:
    """The user's export in an anonymous file, positioned at its start; None when nothing is
    kept for the user. Runs on a thread: it reads and writes files."""
    snapshot = store.snapshot(file)
    try:
        sessions = user_sessions(snapshot, user_id)
        archived = archives.user_archives(snapshot, user_id)
        query = queries.MovementFilter(user_id, 0, END_OF_TIME, None, EXPORT_PAGE)
        first_page = queries.movements_page(snapshot, query)
        if not sessions and not first_page[0] and not archived:
            return None
        directory = spool_dir(store.layout.data_dir)
        try:
            return _spooled(directory, snapshot, query, first_page, sessions, archived)
        except OSError as error:
            unwritable_spools.warning("cannot write an export to %s: %s", directory, error)
            raise SpoolUnwritable(str(error)) from error
    except UNREADABLE as error:  # the shard failed mid-read: a 503 naming it, as for any read
        raise ShardUnreadable(file.index, error) from error
    finally:
        snapshot.close()


def _spooled(directory: Path, snapshot: apsw.Connection, query: queries.MovementFilter,
             first_page: Page, sessions: list[schemas.Session], archived: list[int]) -> BinaryIO:
    """The export written in its order: sessions, stored movements, archived movements."""
    directory.mkdir(exist_ok=True)
    spool = tempfile.TemporaryFile(dir=directory)
    try:
        spool.write(_sessions(sessions))
        _write_movements(spool, snapshot, query, first_page)
        for archive_id in archived:
            spool.write(_archived(snapshot, archive_id, query.user_id))
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    return spool


def _sessions(sessions: list[schemas.Session]) -> bytes:
    return b"".join(_line(schemas.ExportedSession, session) for session in sessions)


def _write_movements(spool: BinaryIO, snapshot: apsw.Connection, query: queries.MovementFilter,
                     page: Page) -> None:
    """The user's stored movements, newest first, a page at a time."""
    movements, after = page
    while True:
        spool.write(b"".join(_line(schemas.ExportedMovement, movement) for movement in movements))
        if after is None:
            return
        query = replace(query, after=after)
        movements, after = queries.movements_page(snapshot, query)


def _archived(snapshot: apsw.Connection, archive_id: int, user_id: str) -> bytes:
    """The user's lines in one archive file, newest first."""
    try:
        lines = archives.user_lines(snapshot, archive_id, user_id)
    except archives.ArchiveUnavailable:  # an erasure replaced the file since the snapshot began
        lines = connections.read_once(Path(snapshot.filename), archives.read_consistently,
                                      archives.user_lines, archive_id, user_id)
    return b"".join(line + b"\n" for line in lines)


def _line(shape: type, record: msgspec.Struct) -> bytes:
    return schemas.encode(shape(*msgspec.structs.astuple(record))) + b"\n"
