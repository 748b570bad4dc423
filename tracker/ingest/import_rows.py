"""What every importer shares: a movement read from a file, why a row is rejected, stable ids.

`tracker import` reads other tools' files (import_ndjson.py,
import_goatcounter.py, import_umami.py); each yields, per row, its line
number and either an `Imported` movement (with the context, browser to city,
the row tells) or a `Rejected` reason, and never stops at a bad row. The rows
are the log's (storage/rows.py), so imports go through the same log, eventId
de-duplication and folding as live ingest.

A row's eventId is stable: the source's own id where it has one, else a hash
of the row's fields, so that importing a file twice stores it once. Rows
that say exactly the same thing (a reload within a second, in a file of
second resolution) are told apart by their order, which a file keeps. Visitors' ids are hashes of the
source's session or visitor ids, keyed with the site like the service's own
anonymous ids, and start with `anon:` like them.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from tracker import schemas
from tracker.enrich.visitor_ids import ANONYMOUS_PREFIX
from tracker.schemas import LATEST_MS, MAX_OBJECT_BYTES
from tracker.storage.rows import MovementRow

MAX_NAME = 64
GZIP_MAGIC = b"\x1f\x8b"


class Rejected(ValueError):
    """A row that cannot be imported; the message says why."""


class Unreadable(Exception):
    """A file that cannot be imported at all (missing, not the format); the message says why."""


@dataclass(frozen=True)
class Imported:
    """One movement read from a file, with its context (rows.encode_context) if the row has one."""

    row: MovementRow
    context: str | None = None


# Per row of a file: its line number, and the movement it holds or why it is rejected.
Read = Iterator[tuple[int, Imported | Rejected]]


def open_text(path: Path) -> TextIO:
    """A file as UTF-8 text for the csv module (newline=""), gunzipped when it is gzip
    (GoatCounter's exports are); Unreadable when it cannot be opened. Bytes that are not
    UTF-8 become U+FFFD rather than stop the import."""
    try:
        raw = path.open("rb")
    except OSError as error:
        raise Unreadable(f"{path}: {error.strerror}") from None
    if raw.peek(2)[:2] != GZIP_MAGIC:
        return io.TextIOWrapper(raw, encoding="utf-8", errors="replace", newline="")
    raw.close()
    return gzip.open(path, "rt", encoding="utf-8", errors="replace", newline="")


def csv_header(rows: Iterator[list[str]]) -> list[str] | None:
    """A CSV file's first record (None for an empty file); Unreadable when it is none."""
    try:
        return next(rows, None)
    except csv.Error as error:
        raise Unreadable(f"its header is not a CSV record: {error}") from None


def csv_rows(rows: Iterator[list[str]]) -> Iterator[tuple[int, list[str] | Rejected]]:
    """Each non-blank record of a csv.reader with the line it starts on, or why it is not one
    (a field over the csv module's limit, say): a broken record costs its own lines, not the
    rest of the file, since the reader goes on at the next line."""
    line = getattr(rows, "line_num", 0)
    while True:
        try:
            row = next(rows)
        except StopIteration:
            return
        except csv.Error as error:
            start, line = line + 1, getattr(rows, "line_num", line + 1)
            yield start, Rejected(f"not a CSV record: {error}")
            continue
        start, line = line + 1, getattr(rows, "line_num", line + 1)
        if row:
            yield start, row


def millis(text: str, field: str) -> int:
    """An ISO 8601 / RFC 3339 time (without a zone: UTC) in ms since the epoch."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise Rejected(f"`{field}` is not an ISO 8601 time: {text!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return checked_time(int(moment.timestamp() * 1000), field)


def checked_time(ms: int, field: str) -> int:
    """Any age is taken; not after the latest instant the API names."""
    if not 0 <= ms <= LATEST_MS:
        raise Rejected(f"`{field}` is out of range: {ms}")
    return ms


def event_name(name: str, field: str) -> str:
    """An event name as /track takes it: 1 to 64 characters, no control characters."""
    if not name or len(name) > MAX_NAME or any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in name):
        raise Rejected(f"`{field}` is not an event name (1 to {MAX_NAME} characters, no control "
                      f"characters): {name[:80]!r}")
    return name


def encoded_data(data: dict[str, Any]) -> str:
    encoded = schemas.encode(data)
    if len(encoded) > MAX_OBJECT_BYTES:
        raise Rejected(f"its data is larger than {MAX_OBJECT_BYTES} bytes once encoded")
    return encoded.decode()


def hashed_id(digest_size: int, *parts: str) -> str:
    """`anon:` and the hex of a hash of `parts` (a site, a source's kind of id, its value)."""
    message = "\x00".join(parts).encode("utf-8", "surrogatepass")
    return ANONYMOUS_PREFIX + hashlib.blake2b(message, digest_size=digest_size).hexdigest()


def visitor_id(site: str, kind: str, value: str) -> str:
    return hashed_id(8, site, kind, value)


def session_id(site: str, kind: str, value: str) -> str:
    return hashed_id(16, site, kind, value)


class RowIds:
    """Stable eventIds for rows without an id of their own: `kind:` and a hash of the row's
    fields, and of its place among identical rows near it (within REMEMBERED rows, counted
    from fixed points of the file, so that the same file always gives the same ids)."""

    REMEMBERED = 50_000

    def __init__(self, kind: str):
        self._kind = kind
        self._seen: dict[bytes, int] = {}

    def of(self, *fields: str) -> str:
        if len(self._seen) >= self.REMEMBERED:
            self._seen = {}
        digest = hashlib.blake2b("\x00".join(fields).encode("utf-8", "surrogatepass"),
                                 digest_size=16).digest()
        repeat = self._seen.get(digest, 0)
        self._seen[digest] = repeat + 1
        return f"{self._kind}:{digest.hex()}" + (f".{repeat}" if repeat else "")
