"""Archive files: compressed NDJSON holding movements that retention moved out of a shard.

A file, `<data dir>/archive/YYYY/MM/shard-NNNN-YYYYMMDD-<token>.ndjson.gz`,
holds movements of one shard and one UTC day, oldest first, one line per
movement in the shape of a user's export. It is a series of gzip members of
at most MEMBER_LINES lines (`zcat` reads it whole); the shard's `archives`
table records each member's first timestamp and offset, so a reader wanting
one minute decompresses only the members around it, and `archive_users`
records which members of which files hold each user, so a reader wanting one
user's movements decompresses only those.

Archive files only appear or go while their shard's write transaction is
held (see tracker/lifecycle/archiving.py and user_data.py). Files are never
changed in place: erasing a user from one writes a replacement under a new
name, and the old file goes after the commit.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import apsw
import msgspec

from tracker.schemas import ExportedMovement, encode
from tracker.storage.files import fsync_path, sha256_of

ARCHIVE_DIR = "archive"
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


RECORD_ARCHIVE = """
INSERT INTO archives(path, first, last, movements, bytes, sha256, members)
VALUES (?, ?, ?, ?, ?, ?, ?)
"""

RECORD_USER = "INSERT INTO archive_users(userId, archive, members) VALUES (?, ?, ?)"

ARCHIVES_IN = """
SELECT path, members, bytes, NULL FROM archives WHERE last >= ? AND first < ? ORDER BY first
"""

ANY_IN = "SELECT EXISTS (SELECT 1 FROM archives WHERE last >= ? AND first < ?)"

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


def files_of(data_dir: Path, shard: int) -> list[Path]:
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


def write(data_dir: Path, shard: int, day: int, stamps: list[int], lines: list[bytes]) -> Written:
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


def record(conn: apsw.Connection, written: Written) -> int:
    conn.execute(RECORD_ARCHIVE, (written.path, written.first, written.last, written.movements,
                                  written.bytes, written.sha256, written.members))
    return conn.last_insert_rowid()


def record_users(conn: apsw.Connection, archive_id: int, users: list[str]) -> None:
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


def any_in(conn: apsw.Connection, start: int, end: int) -> bool:
    """Whether an archive file may hold movements with start <= timestamp < end."""
    return bool(conn.execute(ANY_IN, (start, end)).fetchone()[0])


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
        for line in read_members(data_dir / path, table, size, chosen):
            if user_id is not None and not line.startswith(line_prefix(user_id)):
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


def read_members(path: Path, table: list[list[int]], size: int, chosen: Iterable[int]) -> list[bytes]:
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


def line_prefix(user_id: str) -> bytes:
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
    lines = read_members(data_dir_of(conn) / path, json.loads(members), size, json.loads(user_members))
    prefix = line_prefix(user_id)
    return [line for line in lines if line.startswith(prefix)][::-1]


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
