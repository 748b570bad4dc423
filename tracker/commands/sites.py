"""`tracker sites`, `tracker keys` and `tracker shares`: managing sites from the command line.

They work on the data directory whether the service runs on it or not (the
registry is a SQLite file every worker rereads when it changes); a running
service sees a new site, key or share at once. In cluster mode (with a
node's environment) they change the registry every node shares, in
JetStream, as the HTTP API does (`cluster/registry_sync.py`).
"""

from __future__ import annotations

import argparse
import asyncio
import re

from tracker.analytics import zones
from tracker.cluster import registry_sync
from tracker.commands.common import CommandError, change_registry, data_dir_after_action, live_site, now_ms
from tracker.config import Config
from tracker.enrich.sources import rederive_functions
from tracker.lifecycle import sites
from tracker.lifecycle.sites import SiteSpec
from tracker.schemas import SITE_ID_PATTERN
from tracker.storage.registry import Conflict, RegistryFile, Site
from tracker.storage.store import Layout, prepare


def add_parsers(commands: argparse._SubParsersAction) -> None:
    site_command = commands.add_parser("sites", help="add, list or remove sites")
    actions = site_command.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="add a site")
    add.add_argument("id", help="the site's id: lowercase letters, digits, dots and dashes")
    add.add_argument("--domain", action="append", default=[],
                     help="a host whose page views are the site's (repeat for several)")
    add.add_argument("--timezone", default="UTC", help="IANA zone reads use by default")
    add.add_argument("--name", help="a display name (default: the id)")
    actions.add_parser("list", help="every site, its domains, zone and status")
    remove = actions.add_parser("remove", help="delete a site and all of its data")
    remove.add_argument("id")
    data_dir_after_action(actions)
    keys = commands.add_parser("keys", help="make a key that reads one site")
    keys.add_argument("action", choices=["add"])
    keys.add_argument("site")
    shares = commands.add_parser("shares", help="make a share link to one site's dashboard")
    shares.add_argument("action", choices=["add"])
    shares.add_argument("site")
    shares.add_argument("--password", help="a password the link's page asks for")
    shares.add_argument("--url", help="the service's public address (default: http://HOST:PORT)")


def run_sites(config: Config, args: argparse.Namespace) -> int:
    layout = prepare(config, rederive_functions())
    registry_file = layout.registry_file()
    try:
        if args.action == "add":
            return _add(config, layout, registry_file, args)
        if args.action == "list":
            if config.clustered:
                asyncio.run(registry_sync.change_once(config, layout, registry_file, None))
            return _list(registry_file)
        return _remove(config, layout, registry_file, args.id)
    finally:
        registry_file.close()


def _add(config: Config, layout: Layout, registry_file: RegistryFile, args: argparse.Namespace) -> int:
    if not re.fullmatch(SITE_ID_PATTERN, args.id):
        raise CommandError(f"`{args.id}` is not a site id: lowercase letters, digits, dots and "
                           "dashes, starting with a letter or digit")
    if args.timezone != "UTC" and zones.zone_named(args.timezone) is None:
        raise CommandError(f"`{args.timezone}` is not an IANA time zone name")
    try:
        domains = sites.host_names(args.domain)
    except sites.BadDomain as error:
        raise CommandError(f"--domain {error}") from None
    spec = SiteSpec(args.name or args.id, domains, args.timezone)
    try:
        site = change_registry(config, layout, registry_file, sites.create, layout, registry_file,
                               args.id, spec, now_ms(), rederive_functions())
    except Conflict as error:
        raise CommandError(str(error)) from None
    print(f"added site {site.id} ({', '.join(site.domains) or 'no domains'}, {site.timezone}); "
          f"Umami website id {site.umamiId}")
    return 0


def _list(registry_file: RegistryFile) -> int:
    for site in registry_file.sites().all:
        status = "live" if site.deleting is None else "deleting"
        print(f"{site.id}\t{','.join(site.domains) or '-'}\t{site.timezone}\t{status}")
    return 0


def _remove(config: Config, layout: Layout, registry_file: RegistryFile, site_id: str) -> int:
    try:
        change_registry(config, layout, registry_file, _mark_deleted, registry_file, site_id, now_ms())
    except sites.NoSuchSite:
        raise CommandError(f"no site `{site_id}`") from None
    except sites.LastSite:
        raise CommandError("the service always holds a site: add another first") from None
    print(f"site {site_id} is refused from now on; its data is deleted in the background by the "
          "running service, or at its next start")
    return 0


def _mark_deleted(registry_file: RegistryFile, site_id: str, now: int) -> None:
    sites.mark_deleted(registry_file, sites.live_site(registry_file, site_id), now)


def run_keys(config: Config, args: argparse.Namespace) -> int:
    layout = prepare(config, rederive_functions())
    registry_file = layout.registry_file()
    try:
        site, key_id, key = change_registry(config, layout, registry_file, _add_key, registry_file,
                                            args.site, now_ms())
    finally:
        registry_file.close()
    print(f"key {key_id} for site {site.id} (shown once, keep it): {key}")
    return 0


def _add_key(registry_file: RegistryFile, site_id: str, now: int) -> tuple[Site, str, str]:
    site = live_site(registry_file, site_id)
    return (site, *sites.add_key(registry_file, site, now))


def run_shares(config: Config, args: argparse.Namespace) -> int:
    layout = prepare(config, rederive_functions())
    registry_file = layout.registry_file()
    try:
        site, token = change_registry(config, layout, registry_file, _add_share, registry_file,
                                      args.site, args.password, now_ms())
    finally:
        registry_file.close()
    base = (args.url or f"http://{config.host}:{config.port}").rstrip("/")
    print(f"share link for site {site.id} (shown once): {base}/share/{token}")
    return 0


def _add_share(registry_file: RegistryFile, site_id: str, password: str | None,
               now: int) -> tuple[Site, str]:
    site = live_site(registry_file, site_id)
    _share_id, token = sites.add_share(registry_file, site, password, None, now)
    return site, token

