"""What the management commands share: their one error, `--data-dir` after an action,
finding the site a command names, and the registry opened for one command (any data
directory, the service running or not), changed in place or, in cluster mode, in the
registry every node shares."""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from tracker.cluster import registry_sync
from tracker.config import Config
from tracker.enrich.sources import rederive_functions
from tracker.lifecycle import sites
from tracker.storage.registry import RegistryFile, Site
from tracker.storage.store import Layout, prepare

T = TypeVar("T")
# `change(function, *args)`: function(*args) on the registry a command changes.
Change = Callable[..., Any]


class CommandError(Exception):
    """The command cannot do what was asked; the message says why (`tracker` prints it and
    exits 2)."""


def data_dir_after_action(actions: argparse._SubParsersAction) -> None:
    """`--data-dir` after the action too (`tracker sites list --data-dir D`); SUPPRESS keeps
    the nested parser from overwriting a value given before the action."""
    for action in actions.choices.values():
        action.add_argument("--data-dir", default=argparse.SUPPRESS,
                            help="data directory (TRACKER_DATA_DIR, default ./shards)")


def live_site(registry_file: RegistryFile, site_id: str) -> Site:
    try:
        return sites.live_site(registry_file, site_id)
    except sites.NoSuchSite:
        raise CommandError(f"no site `{site_id}`") from None


def on_site(config: Config, site_id: str, action: Callable[[RegistryFile, Site, Change], int]) -> int:
    """`action` on the named live site, with the registry open for it and the way to change it."""
    layout = prepare(config, rederive_functions())
    registry_file = layout.registry_file()
    try:
        change = partial(change_registry, config, layout, registry_file)
        return action(registry_file, live_site(registry_file, site_id), change)
    finally:
        registry_file.close()


def add_list_remove(config: Config, args: argparse.Namespace,
                    add: Callable[[RegistryFile, Site, Change, argparse.Namespace], int],
                    listing: Callable[[RegistryFile, Site], int],
                    remove: Callable[[RegistryFile, Site, Change, int], int]) -> int:
    """`tracker goals|reports add|list|remove SITE ...`: the action asked for, on the named site."""
    def act(registry_file: RegistryFile, site: Site, change: Change) -> int:
        if args.action == "add":
            return add(registry_file, site, change, args)
        if args.action == "list":
            return listing(registry_file, site)
        return remove(registry_file, site, change, args.id)

    return on_site(config, args.site, act)


def change_registry(config: Config, layout: Layout, registry_file: RegistryFile,
                    change: Callable[..., T], *args: Any) -> T:
    """`change(*args)` on the data directory's registry, or in cluster mode on the shared one."""
    if not config.clustered:
        return change(*args)
    done = asyncio.run(registry_sync.change_once(config, layout, registry_file, change, *args))
    return done  # type: ignore[return-value]  # not None: a change was given


def now_ms() -> int:
    return int(time.time() * 1000)
