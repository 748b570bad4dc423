"""`tracker goals add|list|remove`: a site's goals from the command line.

Like `tracker sites`, they work on the data directory whether the service
runs on it or not (in cluster mode, on the registry the nodes share); a
running service counts a new goal at its next read.
"""

from __future__ import annotations

import argparse

from tracker.commands.common import Change, CommandError, add_list_remove, data_dir_after_action, now_ms
from tracker.config import Config
from tracker.lifecycle import goals
from tracker.storage.registry import Conflict, RegistryFile, Site


def add_parsers(commands: argparse._SubParsersAction) -> None:
    goal_command = commands.add_parser("goals", help="add, list or remove a site's goals")
    actions = goal_command.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="add a goal: an event, or a page pattern")
    add.add_argument("site")
    target = add.add_mutually_exclusive_group(required=True)
    target.add_argument("--event", help="the event name that completes the goal")
    target.add_argument("--page", help="the page path that completes it; * matches any run of "
                                       "characters, e.g. /blog/*")
    add.add_argument("--name", help="a display name (default: the event, or Visit PAGE)")
    listing = actions.add_parser("list", help="the site's goals")
    listing.add_argument("site")
    remove = actions.add_parser("remove", help="remove a goal (its past conversions are no "
                                               "longer counted)")
    remove.add_argument("site")
    remove.add_argument("id", type=int)
    data_dir_after_action(actions)


def run_goals(config: Config, args: argparse.Namespace) -> int:
    return add_list_remove(config, args, _add, _list, _remove)


def _add(registry_file: RegistryFile, site: Site, change: Change, args: argparse.Namespace) -> int:
    for flag, value, limit in (("--event", args.event, 64), ("--page", args.page, 1024),
                               ("--name", args.name, 100)):
        if value is not None and not 1 <= len(value) <= limit:
            raise CommandError(f"{flag} must be 1 to {limit} characters")
    try:
        goal = change(goals.create, registry_file, site, args.event, args.page, args.name, now_ms())
    except Conflict as error:
        raise CommandError(str(error)) from None
    print(f"added goal {goal.id} of site {site.id}: {goal.name}")
    return 0


def _list(registry_file: RegistryFile, site: Site) -> int:
    for goal in goals.of_site(registry_file, site):
        target = f"event {goal.event}" if goal.event is not None else f"page {goal.page}"
        print(f"{goal.id}\t{goal.name}\t{target}")
    return 0


def _remove(registry_file: RegistryFile, site: Site, change: Change, goal_id: int) -> int:
    if not change(goals.remove, registry_file, site, goal_id):
        raise CommandError(f"site `{site.id}` has no goal {goal_id}")
    print(f"removed goal {goal_id} of site {site.id}")
    return 0
