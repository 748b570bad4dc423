"""Managing sites: making one with its files, changing it, deleting it in the background, and
its keys and share links. The management API and the command line both use this.

A new site's shard files are made before its registry row, so no worker
ever sees a site without files. Deleting marks the site at once (ingest and
reads refuse it from then on, in every worker), then a background job
(`delete_marked`, run at start-up and every alarm interval) deletes its log
rows, files and archives, and last its registry rows, keys and shares: a
restart mid-way only repeats steps that find nothing left to do.

Keys and share tokens are random (32 bytes), shown once, and kept as their
SHA-256; a share's password as scrypt with a salt of its own.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path

from tracker.storage import archives, manifest, migrations, registry
from tracker.storage.registry import RegistryFile, Site
from tracker.storage.store import Layout, Store, create_site_files

KEY_PREFIX = "tk_"
SCRYPT = {"n": 2**14, "r": 8, "p": 1}
LABEL = r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
HOST = re.compile(rf"^(?=.{{1,253}}$){LABEL}(\.{LABEL})*$")


class BadDomain(ValueError):
    """A domain that is no host name; the message names it."""

    def __init__(self, domain: str, index: int):
        super().__init__(f"`{domain}` is not a host name")
        self.index = index


class NoSuchSite(Exception):
    """No live site has that id."""


class LastSite(Exception):
    """The service would hold no site."""


@dataclass(frozen=True)
class SiteSpec:
    """What a site is made or changed with (checked by the caller)."""

    name: str
    domains: list[str]
    timezone: str


def host_names(domains: list[str]) -> list[str]:
    """A site's domains as host names: lowercased, without a trailing dot, each once; a port,
    a scheme or a path is a BadDomain."""
    found: list[str] = []
    for index, domain in enumerate(domains):
        host = domain.strip().lower().rstrip(".")
        if not HOST.match(host):
            raise BadDomain(domain, index)
        if host not in found:
            found.append(host)
    return found


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def live_site(sites: RegistryFile, site_id: str) -> Site:
    found = sites.sites().by_id(site_id)
    if found is None:
        raise NoSuchSite(site_id)
    return found


def create(layout: Layout, sites: RegistryFile, site_id: str, spec: SiteSpec, now: int,
           functions: migrations.Functions | None = None) -> Site:
    """A new live site, its shard files made first."""
    with sites.transaction() as conn:
        number = registry.add_site(conn, site_id, spec.name, spec.domains, spec.timezone, now)
        # The files exist before the commit makes the site visible.
        create_site_files(layout, number, functions)
    return live_site(sites, site_id)


def update(sites: RegistryFile, site: Site, spec: SiteSpec) -> Site:
    with sites.transaction() as conn:
        registry.update_site(conn, site.number, spec.name, spec.timezone, spec.domains)
    return live_site(sites, site.id)


def mark_deleted(sites: RegistryFile, site: Site, now: int) -> None:
    """Refuse the site from now on; `delete_marked` removes its data."""
    if len(sites.sites().live()) <= 1:
        raise LastSite(site.id)
    with sites.transaction() as conn:
        registry.mark_deleting(conn, site.number, now)


def marked(sites: RegistryFile) -> list[Site]:
    return [site for site in sites.sites().all if site.deleting is not None]


def remove_files(layout: Layout, site: int) -> None:
    """Delete a site's shard files and archives (site 0's are in the data directory itself,
    beside everything else)."""
    place = manifest.site_dir(layout.data_dir, site)
    if site != 0:
        shutil.rmtree(place, ignore_errors=True)
        return
    for path in manifest.shard_paths(layout.data_dir, layout.shard_count, 0):
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    shutil.rmtree(place / archives.ARCHIVE_DIR, ignore_errors=True)


async def delete_marked(store: Store) -> int:
    """Delete the data of every site marked for deletion; returns how many were deleted.
    Several workers may run it at once: each step finds done what another did."""
    deleted = 0
    for site in marked(store.registry):
        await store.forget_site(site.number)
        await store.pool.run(remove_files, store.layout, site.number)
        await store.write_registry(forget, store.registry, site.number)
        deleted += 1
    return deleted


def forget(sites: RegistryFile, site: int) -> None:
    """The last step of a deletion: the site's registry rows, keys and shares."""
    with sites.transaction() as conn:
        registry.forget_site(conn, site)


def add_key(sites: RegistryFile, site: Site, now: int) -> tuple[str, str]:
    """A new key of the site: (its id, the key itself, shown once)."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    key_id = secrets.token_hex(8)
    with sites.transaction() as conn:
        registry.add_key(conn, site.number, key_id, token_hash(key), now)
    return key_id, key


def add_share(sites: RegistryFile, site: Site, password: str | None, expires: int | None,
              now: int) -> tuple[str, str]:
    """A new share link of the site: (its id, its token, shown once in the link)."""
    token = secrets.token_urlsafe(32)
    share_id = secrets.token_hex(8)
    with sites.transaction() as conn:
        registry.add_share(conn, share_id, site.number, token_hash(token),
                           None if password is None else password_hash(password), expires, now)
    return share_id, token


def password_hash(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **SCRYPT)
    return f"scrypt${salt.hex()}${digest.hex()}"


def password_matches(password: str, stored: str) -> bool:
    _scheme, salt, digest = stored.split("$")
    given = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), dklen=32, **SCRYPT)
    return hmac.compare_digest(given.hex(), digest)
