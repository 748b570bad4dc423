"""What the management commands share: their one error, `--data-dir` after an action,
finding the site a command names, and the registry opened for one command (any data
directory, the service running or not)."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from tracker.config import Config
from tracker.enrich.sources import rederive_functions
from tracker.lifecycle import sites
from tracker.storage.registry import RegistryFile, Site
from tracker.storage.store import prepare


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


def on_site(config: Config, site_id: str, action: Callable[[RegistryFile, Site], int]) -> int:
    """`action` on the named live site, with the registry open for it."""
    registry_file = prepare(config, rederive_functions()).registry_file()
    try:
        return action(registry_file, live_site(registry_file, site_id))
    finally:
        registry_file.close()


def now_ms() -> int:
    return int(time.time() * 1000)
