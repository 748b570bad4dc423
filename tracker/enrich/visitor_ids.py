"""Ids for anonymous visitors: a keyed hash of address and User-Agent under a daily salt.

`visitor_id(salt, address, user_agent)` is `anon:` and 16 lowercase hex
digits of BLAKE2b keyed with the salt of the current UTC day, over the
address and the header (the address is length-prefixed, so no pair of
values runs into another). `new_session_id()` is `anon:` and 32 random hex
digits.

`Salts(data_dir)` keeps one random 32-byte salt per UTC day in
`<data dir>/salts/YYYY-MM-DD.salt` (mode 0600). The first process to need a
day's salt writes it to a private temporary file, fsyncs it and publishes it
with `os.link`, which fails rather than replace a file another process
published first; the loser reads the winner's salt. So every worker, and the
service after a restart, uses the same salt all day. Each process also
keeps the salts it used in memory.

Privacy: the address and the header are never written; only the hash
leaves this module, and it cannot be tied to another day's or reversed to an
address once that day's salt is gone. `prune(now_ms)` deletes a salt file,
and forgets it in memory, two days after its day ends (a day's salt lives at
most three days); call it from a periodic job. Times are milliseconds since
the Unix epoch, passed in, so tests drive the days.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from datetime import date, timedelta
from pathlib import Path

from tracker.storage.files import create_once

DAY_MS = 86_400_000
SALT_BYTES = 32
DAYS_KEPT_AFTER_END = 2
EPOCH = date(1970, 1, 1)


class SaltFileError(Exception):
    """A salt file exists but does not hold a salt; the message names it."""


# What every id the service makes for anonymous visitors starts with; a client's own ids may not.
ANONYMOUS_PREFIX = "anon:"


def visitor_id(salt: bytes, address: str, user_agent: str | None, site: str = "") -> str:
    """`anon:` and 16 hex digits identifying an address and User-Agent on one site for one salt
    (one day). The site is keyed in too, so one person's visits to two sites cannot be
    joined; the first site (`site` empty) keeps the ids it had before sites existed."""
    address_bytes = address.encode("utf-8", "surrogatepass")
    message = (len(address_bytes).to_bytes(4, "big") + address_bytes
               + (user_agent or "").encode("utf-8", "surrogatepass"))
    if site:
        site_bytes = site.encode()
        message = b"site" + len(site_bytes).to_bytes(4, "big") + site_bytes + message
    return ANONYMOUS_PREFIX + hashlib.blake2b(message, digest_size=8, key=salt).hexdigest()


def new_session_id() -> str:
    """A fresh anonymous session id: `anon:` and 32 random hex digits."""
    return "anon:" + secrets.token_hex(16)


class Salts:
    """The daily salts under `<data_dir>/salts/`, shared by every process using that directory."""

    def __init__(self, data_dir: str | Path) -> None:
        self.directory = Path(data_dir) / "salts"
        self._by_day: dict[int, bytes] = {}
        self._lock = threading.Lock()

    def for_time(self, now_ms: int) -> bytes:
        """The salt of the UTC day holding `now_ms`, made by whichever process needs it first."""
        day = now_ms // DAY_MS
        salt = self._by_day.get(day)
        if salt is None:
            with self._lock:
                salt = self._by_day.get(day) or self._load_or_create(day)
                self._by_day[day] = salt
        return salt

    def prune(self, now_ms: int) -> int:
        """Delete (and forget) salts whose day ended two days or more before `now_ms`; answer how
        many files."""
        oldest_kept = now_ms // DAY_MS - DAYS_KEPT_AFTER_END
        with self._lock:
            for day in [day for day in self._by_day if day < oldest_kept]:
                del self._by_day[day]
        removed = 0
        for path in self._files():
            named_day = _day_of(path.name)
            if named_day is not None and named_day < oldest_kept:
                path.unlink(missing_ok=True)
                removed += 1
        return removed

    def _files(self) -> list[Path]:
        try:
            return list(self.directory.iterdir())
        except FileNotFoundError:
            return []

    def _load_or_create(self, day: int) -> bytes:
        path = self.directory / f"{_day_name(day)}.salt"
        salt = _read_salt(path)
        if salt is None:
            self._publish(day, path)
            salt = _read_salt(path)
        if salt is None:  # published, then pruned at once by a clock far ahead
            raise SaltFileError(f"salt file {path} vanished as it was made")
        return salt

    def _publish(self, day: int, path: Path) -> None:
        """Make the day's salt; another process that made it first keeps its own."""
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        create_once(path, secrets.token_bytes(SALT_BYTES), mode=0o600)


def _read_salt(path: Path) -> bytes | None:
    try:
        salt = path.read_bytes()
    except FileNotFoundError:
        return None
    if len(salt) != SALT_BYTES:
        raise SaltFileError(f"salt file {path} holds {len(salt)} bytes, not {SALT_BYTES}")
    return salt


def _day_name(day: int) -> str:
    return (EPOCH + timedelta(days=day)).isoformat()


def _day_of(file_name: str) -> int | None:
    """The day a salt file or a leftover draft belongs to, None for any other file."""
    stem = file_name.lstrip(".").split(".", 1)[0]
    try:
        return (date.fromisoformat(stem) - EPOCH).days
    except ValueError:
        return None
