"""The site registry, `sites.sqlite`: the sites one service holds and what reads them.

Every worker reads it (a view of the sites, reloaded when another connection
has committed, which SQLite's `data_version` tells at the cost of one
statement), and the management endpoints and commands write it. On an event
loop one such check serves every call until the loop's next turn (see
`RegistryFile.sites`). Keys and
share links are looked up by their hash on every use, so a revoked one stops
working at once in every worker. A data directory made before sites existed
gets the registry with one site, `default`, number 0, whose shard files are
the ones already there.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import apsw

from tracker.storage import migrations
from tracker.storage.connections import Role, connect, transaction
from tracker.storage.database import Database

REGISTRY_FILE = "sites.sqlite"
DEFAULT_SITE = "default"

SITE_COLUMNS = "number, id, name, timezone, umamiId, created, deleting"
SITES = f"SELECT {SITE_COLUMNS} FROM sites ORDER BY number"
DOMAINS = "SELECT domain, site FROM site_domains ORDER BY domain"
DATA_VERSION = "PRAGMA data_version"

SEED_DEFAULT = """
INSERT INTO sites(number, id, name, timezone, umamiId, created)
SELECT 0, :id, :id, 'UTC', :umami, :now WHERE NOT EXISTS (SELECT 1 FROM sites)
"""
ADD_SITE = """
INSERT INTO sites(id, name, timezone, umamiId, created) VALUES (:id, :name, :timezone, :umami, :now)
"""
UPDATE_SITE = "UPDATE sites SET name = :name, timezone = :timezone WHERE number = :number"
ADD_DOMAIN = "INSERT INTO site_domains(domain, site) VALUES (?, ?)"
DROP_DOMAINS = "DELETE FROM site_domains WHERE site = ?"
MARK_DELETING = "UPDATE sites SET deleting = ? WHERE number = ? AND deleting IS NULL"
FORGET_SITE = [
    "DELETE FROM goals WHERE site = :number",
    "DELETE FROM report_sends WHERE subscription IN "
    "(SELECT id FROM report_subscriptions WHERE site = :number)",
    "DELETE FROM report_subscriptions WHERE site = :number",
    "DELETE FROM site_domains WHERE site = :number",
    "DELETE FROM site_keys WHERE site = :number",
    "DELETE FROM share_failures WHERE share IN (SELECT id FROM shares WHERE site = :number)",
    "DELETE FROM shares WHERE site = :number",
    "DELETE FROM sites WHERE number = :number",
]

ADD_KEY = "INSERT INTO site_keys(id, site, hash, created) VALUES (?, ?, ?, ?)"
KEYS_OF = "SELECT id, created FROM site_keys WHERE site = ? ORDER BY created, id"
DROP_KEY = "DELETE FROM site_keys WHERE site = ? AND id = ?"
KEY_SITE = "SELECT site, hash FROM site_keys WHERE hash = ?"

ADD_SHARE = """
INSERT INTO shares(id, site, hash, password, expires, created)
VALUES (:id, :site, :hash, :password, :expires, :created)
"""
SHARES_OF = """
SELECT id, password IS NOT NULL, expires, created FROM shares WHERE site = ? ORDER BY created, id
"""
DROP_SHARE = "DELETE FROM shares WHERE site = ? AND id = ?"
SHARE_BY_HASH = "SELECT id, site, hash, password, expires FROM shares WHERE hash = ?"
ADD_FAILURE = "INSERT INTO share_failures(share, at) VALUES (?, ?)"
FAILURES_SINCE = "SELECT count(*) FROM share_failures WHERE share = ? AND at >= ?"
PRUNE_FAILURES = "DELETE FROM share_failures WHERE at < ?"


class Conflict(Exception):
    """A site id, domain or key that must be unique already exists; the message says which."""


@dataclass(frozen=True)
class Site:
    number: int
    id: str
    name: str
    timezone: str
    umamiId: str
    created: int
    deleting: int | None
    domains: tuple[str, ...] = ()


@dataclass(frozen=True)
class Share:
    id: str
    site: int
    hash: str
    password: str | None
    expires: int | None


@dataclass(frozen=True)
class Sites:
    """Every site as of one moment: live ones by id, number, domain and Umami id."""

    all: tuple[Site, ...]

    def live(self) -> list[Site]:
        return [site for site in self.all if site.deleting is None]

    def by_id(self, site_id: str) -> Site | None:
        return next((s for s in self.live() if s.id == site_id), None)

    def by_number(self, number: int) -> Site | None:
        return next((s for s in self.all if s.number == number), None)

    def by_domain(self, host: str) -> Site | None:
        return next((s for s in self.live() if host in s.domains), None)

    def by_umami(self, umami_id: str) -> Site | None:
        return next((s for s in self.live() if s.umamiId == umami_id), None)

    def only(self) -> Site | None:
        """The one live site, when there is exactly one."""
        live = self.live()
        return live[0] if len(live) == 1 else None


class RegistryFile(Database):
    """`sites.sqlite`, with a cached view of its sites for this process."""

    def __init__(self, path: Path, sync: str = "full"):
        super().__init__(path, sync)
        # Per thread: data_version belongs to one connection, and each thread has its own.
        self._seen = threading.local()
        self._writes = 0  # transactions this process ran on the file
        self._turn_view: tuple[asyncio.AbstractEventLoop, int, Sites] | None = None

    def create(self, now: int) -> None:
        """Create the file if missing, bring it to the latest schema, and give a new registry
        its `default` site (number 0: the shard files already in the data directory)."""
        conn = connect(self.path, Role.CREATOR)
        try:
            migrations.apply(conn, migrations=migrations.REGISTRY_MIGRATIONS)
            with transaction(conn):
                conn.execute(SEED_DEFAULT, {"id": DEFAULT_SITE, "umami": str(uuid.uuid4()),
                                            "now": now})
        finally:
            conn.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[apsw.Connection]:
        try:
            with super().transaction() as conn:
                yield conn
        finally:
            self._writes += 1  # this process's own change is seen by its next look, same turn

    def sites(self) -> Sites:
        """Every site, as fresh as a check made after the caller's request arrived.

        Off an event loop every call checks. On one, a check serves every call until the
        loop's next turn: whatever runs before that turn was queued before the check, so
        the request it serves was received before it, and a change committed before that
        request was sent is seen. (This holds while a task's steps run from the loop's queue,
        as they do without an eager task factory, which tracker never sets.) A change this
        process made is seen at once either way.
        """
        loop = asyncio._get_running_loop()
        if loop is None:
            return self._checked()
        view = self._turn_view
        if view is not None and view[0] is loop and view[1] == self._writes:
            return view[2]
        writes = self._writes
        checked = self._checked()
        self._turn_view = (loop, writes, checked)
        loop.call_soon(self._end_turn)
        return checked

    def _end_turn(self) -> None:
        self._turn_view = None

    def _checked(self) -> Sites:
        """Every site, reloaded only when another connection committed since this thread's
        last look (any thread)."""
        conn = self.connection(Role.LOOKUP)
        version = conn.execute(DATA_VERSION).fetchall()[0][0]
        held = getattr(self._seen, "sites", None)
        if held is not None and held[0] == version and held[1] is conn:
            return held[2]
        loaded = read_sites(conn)
        self._seen.sites = (version, conn, loaded)
        return loaded


def path_in(data_dir: Path) -> Path:
    return data_dir / REGISTRY_FILE


def read_sites(conn: apsw.Connection) -> Sites:
    """Sites and their domains, read in one transaction so that they agree."""
    conn.execute("BEGIN")
    try:
        rows = conn.execute(SITES).fetchall()
        domains: dict[int, list[str]] = {}
        for domain, number in conn.execute(DOMAINS).fetchall():
            domains.setdefault(number, []).append(domain)
    finally:
        conn.execute("COMMIT")
    return Sites(tuple(Site(number, site_id, name, timezone, umami, created, deleting,
                            tuple(domains.get(number, ())))
                       for number, site_id, name, timezone, umami, created, deleting in rows))


def add_site(conn: apsw.Connection, site_id: str, name: str, domains: list[str], timezone: str,
             now: int) -> int:
    """A new live site (in the caller's transaction); its number."""
    try:
        conn.execute(ADD_SITE, {"id": site_id, "name": name, "timezone": timezone,
                                "umami": str(uuid.uuid4()), "now": now})
    except apsw.ConstraintError:
        raise Conflict(f"a site with id `{site_id}` exists") from None
    number = conn.last_insert_rowid()
    set_domains(conn, number, domains)
    return number


def update_site(conn: apsw.Connection, number: int, name: str, timezone: str,
                domains: list[str]) -> None:
    conn.execute(UPDATE_SITE, {"number": number, "name": name, "timezone": timezone})
    set_domains(conn, number, domains)


def set_domains(conn: apsw.Connection, number: int, domains: list[str]) -> None:
    conn.execute(DROP_DOMAINS, (number,))
    for domain in domains:
        try:
            conn.execute(ADD_DOMAIN, (domain, number))
        except apsw.ConstraintError:
            raise Conflict(f"the domain `{domain}` belongs to another site") from None


def mark_deleting(conn: apsw.Connection, number: int, now: int) -> None:
    conn.execute(MARK_DELETING, (now, number))


def forget_site(conn: apsw.Connection, number: int) -> None:
    """Remove a deleted site's rows, its keys and shares with it."""
    for statement in FORGET_SITE:
        conn.execute(statement, {"number": number})


def add_key(conn: apsw.Connection, site: int, key_id: str, key_hash: str, now: int) -> None:
    conn.execute(ADD_KEY, (key_id, site, key_hash, now))


def keys_of(conn: apsw.Connection, site: int) -> list[tuple[str, int]]:
    return conn.execute(KEYS_OF, (site,)).fetchall()


def drop_key(conn: apsw.Connection, site: int, key_id: str) -> bool:
    conn.execute(DROP_KEY, (site, key_id))
    return conn.changes() > 0


def key_site(conn: apsw.Connection, key_hash: str) -> tuple[int, str] | None:
    """(site number, stored hash) of the key with this hash."""
    found = conn.execute(KEY_SITE, (key_hash,)).fetchall()
    return (found[0][0], found[0][1]) if found else None


def add_share(conn: apsw.Connection, share_id: str, site: int, share_hash: str,
              password: str | None, expires: int | None, now: int) -> None:
    conn.execute(ADD_SHARE, {"id": share_id, "site": site, "hash": share_hash,
                             "password": password, "expires": expires, "created": now})


def shares_of(conn: apsw.Connection, site: int) -> list[tuple[str, bool, int | None, int]]:
    return [(i, bool(p), e, c) for i, p, e, c in conn.execute(SHARES_OF, (site,)).fetchall()]


def drop_share(conn: apsw.Connection, site: int, share_id: str) -> bool:
    conn.execute(DROP_SHARE, (site, share_id))
    return conn.changes() > 0


def share_by_hash(conn: apsw.Connection, share_hash: str) -> Share | None:
    found = conn.execute(SHARE_BY_HASH, (share_hash,)).fetchall()
    return Share(*found[0]) if found else None


def add_failure(conn: apsw.Connection, share_id: str, now: int) -> None:
    conn.execute(ADD_FAILURE, (share_id, now))


def failures_since(conn: apsw.Connection, share_id: str, since: int) -> int:
    return conn.execute(FAILURES_SINCE, (share_id, since)).fetchall()[0][0]


def prune_failures(conn: apsw.Connection, before: int) -> None:
    conn.execute(PRUNE_FAILURES, (before,))


def domains_json(site: Site) -> str:
    return json.dumps(list(site.domains))
