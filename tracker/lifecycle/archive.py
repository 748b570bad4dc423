"""Retention: movements older than TRACKER_RETENTION_DAYS move into compressed NDJSON archives.

A file, `<data dir>/archive/YYYY/MM/shard-NNNN-YYYYMMDD-<token>.ndjson.gz`,
holds up to ARCHIVE_CHUNK movements of one shard and one UTC day, oldest
first, one line per movement in the shape of a user's export. It is a series
of gzip members of at most MEMBER_LINES lines (`zcat` reads it whole); the
shard's `archives` table records each member's first timestamp and offset,
so a reader wanting one minute decompresses only the members around it, and
`archive_users` records which members of which files hold each user, so a
reader wanting one user's movements decompresses only those.

Archive files only appear or go while their shard's write transaction is
held. A file is written and fsynced first, then recorded in the transaction
that deletes its movements: a crash before that commit leaves the movements
in place and the file unrecorded, and the next pass deletes unrecorded files
before archiving the movements again, so nothing is lost or duplicated.
Files are never changed in place: erasing a user from one writes a
replacement under a new name, and the old file goes after the commit.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import time
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, TypeVar

import apsw
import msgspec

from tracker.analytics import rollups
from tracker.storage.files import fsync_path, sha256_of
from tracker.schemas import ExportedMovement, encode

ARCHIVE_DIR = "archive"
ARCHIVE_CHUNK = 10_000
MEMBER_LINES = 500

LINE = msgspec.json.Decoder(ExportedMovement)

# An erasure may replace an archive file between a read's lookup and its
# open; the read then starts over and finds the replacement.
READ_ATTEMPTS = 3

T = TypeVar("T")


class ArchiveUnavailable(Exception):
    """A recorded archive file is missing or cannot be read."""

    def __init__(self, path: Path, cause: BaseException):
        super().__init__(f"{path}: {cause}")
        self.path = path


OLDEST_MOVEMENT = "SELECT min(timestamp) FROM movements"

ARCHIVABLE = """
SELECT id, userId, sessionId, timestamp, event, data, eventId FROM movements
WHERE timestamp >= ? AND timestamp < ? ORDER BY timestamp, id LIMIT ?
"""

DELETE_MOVEMENT = "DELETE FROM movements WHERE id = ?"

RECORD_ARCHIVE = """
INSERT INTO archives(path, first, last, movements, bytes, sha256, members)
VALUES (?, ?, ?, ?, ?, ?, ?)
"""

RECORD_USER = "INSERT INTO archive_users(userId, archive, members) VALUES (?, ?, ?)"

FORGET_USERS = "DELETE FROM archive_users WHERE archive = ?"

# (path, the file's members, its bytes, the members holding the user or NULL for all)
ARCHIVES_IN = """
SELECT path, members, bytes, NULL FROM archives WHERE last >= ? AND first < ? ORDER BY first
"""

USER_ARCHIVES_IN = """
SELECT path, archives.members, bytes, archive_users.members
FROM archive_users JOIN archives ON archives.id = archive
WHERE userId = ? AND last >= ? AND first < ? ORDER BY first
"""

USER_ARCHIVE = """
SELECT path, archives.members, bytes, archive_users.members
FROM archive_users JOIN archives ON archives.id = archive WHERE userId = ? AND archive = ?
"""

USER_ARCHIVES = """
SELECT archive, path FROM archive_users JOIN archives ON archives.id = archive
WHERE userId = ? ORDER BY first DESC
"""

FIRST_USER_ARCHIVE = """
SELECT archive, path, archives.members, bytes FROM archive_users JOIN archives ON archives.id = archive
WHERE userId = ? LIMIT 1
"""

REPLACE_ARCHIVE = """
UPDATE archives SET path = ?, first = ?, last = ?, movements = ?, bytes = ?, sha256 = ?, members = ?
WHERE id = ?
"""

DROP_ARCHIVE = "DELETE FROM archives WHERE id = ?"

RECORDED_PATHS = "SELECT path FROM archives"

LIST_ARCHIVES = "SELECT path, first, last, movements, bytes, sha256 FROM archives ORDER BY first, path"


@dataclass(frozen=True)
class Written:
    """An archive file on disk, as its `archives` row records it."""

    path: str  # relative to the data directory
    first: int
    last: int
    movements: int
    bytes: int
    sha256: str
    members: str  # JSON: [[first timestamp, offset], ...] of each gzip member


def data_dir_of(conn: apsw.Connection) -> Path:
    """Archive paths are relative to the directory of the shard file that records them."""
    return Path(conn.filename).parent


def cutoff(now_ms: int, retention_days: int) -> int:
    """Movements before this instant are archived: whole UTC days older than the retention."""
    oldest_kept = now_ms - retention_days * rollups.DAY
    return oldest_kept - oldest_kept % rollups.DAY


def archive_some(conn: apsw.Connection, shard: int, before: int, limit: int = ARCHIVE_CHUNK) -> int:
    """Move up to `limit` movements older than `before`, all of one UTC day, into a new file.

    A write job: returns how many movements it archived (0 once none are left).
    """
    oldest = conn.execute(OLDEST_MOVEMENT).fetchone()[0]
    if oldest is None or oldest >= before:
        return 0
    day = oldest - oldest % rollups.DAY
    rows = conn.execute(ARCHIVABLE, (day, min(before, day + rollups.DAY), limit)).fetchall()
    lines = [encode(ExportedMovement(user, session, stamp, event, msgspec.Raw(data or "{}"), event_id))
             for _id, user, session, stamp, event, data, event_id in rows]
    written = _write(data_dir_of(conn), shard, day, [row[3] for row in rows], lines)
    archive_id = _record(conn, written)
    _record_users(conn, archive_id, [row[1] for row in rows])
    conn.executemany(DELETE_MOVEMENT, [(row[0],) for row in rows])
    return len(rows)


def sweep(conn: apsw.Connection, shard: int) -> int:
    """Delete this shard's archive files that no committed transaction recorded.

    A write job: while it holds the write lock no other process can be
    between writing a file and recording it, so an unrecorded file is the
    leftover of a transaction that never committed.
    """
    data_dir = data_dir_of(conn)
    recorded = {path for (path,) in conn.execute(RECORDED_PATHS)}
    swept = 0
    for path in _files_of(data_dir, shard):
        if str(path.relative_to(data_dir)) not in recorded:
            path.unlink(missing_ok=True)
            swept += 1
    return swept


def _files_of(data_dir: Path, shard: int) -> list[Path]:
    root = data_dir / ARCHIVE_DIR
    if not root.is_dir():
        return []
    prefix = _file_prefix(shard)
    return [*root.glob(f"*/*/{prefix}*"), *root.glob(f"*/*/.{prefix}*")]


def _file_prefix(shard: int) -> str:
    return f"shard-{shard:04d}-"


def _relative_path(shard: int, day: int) -> str:
    date = time.strftime("%Y/%m/%Y%m%d", time.gmtime(day // 1000))
    folder, _, stamp = date.rpartition("/")
    return f"{ARCHIVE_DIR}/{folder}/{_file_prefix(shard)}{stamp}-{secrets.token_hex(4)}.ndjson.gz"


def _write(data_dir: Path, shard: int, day: int, stamps: list[int], lines: list[bytes]) -> Written:
    """Write the lines (in timestamp order) as a new synced file, in members of MEMBER_LINES."""
    relative = _relative_path(shard, day)
    target = data_dir / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f".{target.name}.tmp")
    digest = hashlib.sha256()
    members, offset = [], 0
    with open(temp, "wb") as file:
        for at in range(0, len(lines), MEMBER_LINES):
            blob = _gzip(b"".join(line + b"\n" for line in lines[at:at + MEMBER_LINES]))
            file.write(blob)
            digest.update(blob)
            members.append([stamps[at], offset])
            offset += len(blob)
        file.flush()
        os.fsync(file.fileno())
    os.replace(temp, target)
    fsync_path(target.parent)
    return Written(relative, stamps[0], stamps[-1], len(lines), offset, digest.hexdigest(),
                   json.dumps(members))


def _gzip(data: bytes) -> bytes:
    packer = zlib.compressobj(6, zlib.DEFLATED, 31)  # wbits 31: a gzip member
    return packer.compress(data) + packer.flush()


def _record(conn: apsw.Connection, written: Written) -> int:
    conn.execute(RECORD_ARCHIVE, (written.path, written.first, written.last, written.movements,
                                  written.bytes, written.sha256, written.members))
    return conn.last_insert_rowid()


def _record_users(conn: apsw.Connection, archive_id: int, users: list[str]) -> None:
    """Record which members of the file hold each user, from the users of its lines in order."""
    members: dict[str, list[int]] = {}
    for position, user in enumerate(users):
        held = members.setdefault(user, [])
        if not held or held[-1] != position // MEMBER_LINES:
            held.append(position // MEMBER_LINES)
    conn.executemany(RECORD_USER, [(user, archive_id, json.dumps(held)) for user, held in members.items()])


def read_consistently(conn: apsw.Connection, query: Callable[..., T], *args: Any) -> T:
    """Run `query(conn, *args)` in one read transaction, again if an archive file it looked up went."""
    for _ in range(READ_ATTEMPTS - 1):
        try:
            with conn:
                return query(conn, *args)
        except ArchiveUnavailable:
            continue
    with conn:
        return query(conn, *args)


def movements_in(conn: apsw.Connection, start: int, end: int,
                 user_id: str | None = None) -> Iterator[ExportedMovement]:
    """Archived movements with start <= timestamp < end (of one user, when given)."""
    if user_id is None:
        found = conn.execute(ARCHIVES_IN, (start, end)).fetchall()
    else:
        found = conn.execute(USER_ARCHIVES_IN, (user_id, start, end)).fetchall()
    data_dir = data_dir_of(conn)
    for path, members, size, user_members in found:
        table = json.loads(members)
        chosen = _overlapping(table, start, end)
        if user_members is not None:
            chosen = sorted(set(chosen) & set(json.loads(user_members)))
        for line in _read_members(data_dir / path, table, size, chosen):
            if user_id is not None and not line.startswith(_line_prefix(user_id)):
                continue
            movement = LINE.decode(line)
            if start <= movement.timestamp < end:
                yield movement


def _overlapping(table: list[list[int]], start: int, end: int) -> list[int]:
    """Members that may hold timestamps in [start, end).

    Member i holds timestamps from its first up to the next member's first
    (equal timestamps can straddle two members).
    """
    return [i for i, (first, _offset) in enumerate(table)
            if first < end and (i + 1 == len(table) or table[i + 1][0] >= start)]


def _read_members(path: Path, table: list[list[int]], size: int, chosen: Iterable[int]) -> list[bytes]:
    """The lines of the chosen members of an archive file."""
    bounds = [offset for _first, offset in table] + [size]
    lines: list[bytes] = []
    try:
        with open(path, "rb") as file:
            for i in chosen:
                file.seek(bounds[i])
                lines += zlib.decompress(file.read(bounds[i + 1] - bounds[i]), 31).splitlines()
    except (OSError, zlib.error) as error:
        raise ArchiveUnavailable(path, error) from None
    return lines


def _line_prefix(user_id: str) -> bytes:
    """How every line of the user starts: ExportedMovement's encoding puts the tag, then userId."""
    return b'{"type":"movement","userId":' + encode(user_id) + b","


def user_archives(conn: apsw.Connection, user_id: str) -> list[int]:
    """Ids of the archive files holding the user's movements, newest first.

    Raises ArchiveUnavailable when one of the files is missing, so that an
    export says so before it starts rather than stopping halfway.
    """
    found = conn.execute(USER_ARCHIVES, (user_id,)).fetchall()
    data_dir = data_dir_of(conn)
    for _id, path in found:
        if not (data_dir / path).is_file():
            raise ArchiveUnavailable(data_dir / path, FileNotFoundError("missing"))
    return [archive_id for archive_id, _path in found]


def user_lines(conn: apsw.Connection, archive_id: int, user_id: str) -> list[bytes]:
    """The user's lines in one archive file, newest first (none once it no longer holds the user)."""
    found = conn.execute(USER_ARCHIVE, (user_id, archive_id)).fetchone()
    if found is None:
        return []
    path, members, size, user_members = found
    lines = _read_members(data_dir_of(conn) / path, json.loads(members), size, json.loads(user_members))
    prefix = _line_prefix(user_id)
    return [line for line in lines if line.startswith(prefix)][::-1]


@dataclass(frozen=True)
class UserErasure:
    movements: int  # the user's lines taken out of the file
    stale: str  # the replaced file, to delete once the transaction commits


def erase_from_one(conn: apsw.Connection, shard: int, user_id: str) -> UserErasure | None:
    """Take the user's lines out of one archive file holding them, and out of the rollups.

    A write job step: the file is replaced by one without those lines (or
    dropped when nothing else is left); None when no archive holds the user.
    """
    found = conn.execute(FIRST_USER_ARCHIVE, (user_id,)).fetchone()
    if found is None:
        return None
    archive_id, path, members, size = found
    table = json.loads(members)
    prefix = _line_prefix(user_id)
    kept, erased = [], []
    for line in _read_members(data_dir_of(conn) / path, table, size, range(len(table))):
        (erased if line.startswith(prefix) else kept).append(LINE.decode(line))
    rollups.forget_counts(conn, [_counted(movement) for movement in erased])
    conn.execute(FORGET_USERS, (archive_id,))
    if kept:
        _replace(conn, archive_id, shard, kept)
    else:
        conn.execute(DROP_ARCHIVE, (archive_id,))
    return UserErasure(len(erased), path)


def _replace(conn: apsw.Connection, archive_id: int, shard: int, kept: list[ExportedMovement]) -> None:
    """Write the kept movements as a new file in the place of archive `archive_id`."""
    day = kept[0].timestamp - kept[0].timestamp % rollups.DAY
    written = _write(data_dir_of(conn), shard, day, [m.timestamp for m in kept], list(map(encode, kept)))
    conn.execute(REPLACE_ARCHIVE, (written.path, written.first, written.last, written.movements,
                                   written.bytes, written.sha256, written.members, archive_id))
    _record_users(conn, archive_id, [m.userId for m in kept])


def _counted(movement: ExportedMovement) -> tuple[int, str, str | None]:
    """What the additive rollups counted for a movement: (timestamp, event, page path)."""
    return movement.timestamp, movement.event, rollups.page_path(movement.event, bytes(movement.data))


def problems(conn: apsw.Connection) -> list[str]:
    """Archive files of a shard that are missing or differ from what the shard recorded."""
    found = []
    data_dir = data_dir_of(conn)
    for relative, _first, _last, _count, length, sha256 in listing(conn):
        path = data_dir / relative
        if not path.is_file():
            found.append(f"{relative} is missing")
        elif path.stat().st_size != length or sha256_of(path) != sha256:
            found.append(f"{relative} does not match its recorded size and SHA-256")
    return found


def remove_files(data_dir: Path, paths: Iterable[str]) -> None:
    for path in paths:
        (data_dir / path).unlink(missing_ok=True)


def listing(conn: apsw.Connection) -> list[tuple]:
    """(path, first, last, movements, bytes, sha256) of every archive file of a shard."""
    return conn.execute(LIST_ARCHIVES).fetchall()
