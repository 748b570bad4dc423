"""`tracker reports add|list|remove|send-now|preview`: email reports from the command line.

They work on the data directory whether the service runs on it or not.
`send-now` sends what is due for the last complete period and not sent yet,
claiming each send in the registry as the service's job does, so running it
twice, or beside the service, still sends each report once. `preview` prints
the text of the report without sending anything.
"""

from __future__ import annotations

import argparse
import asyncio

import msgspec

from tracker.commands.common import (
    Change,
    CommandError,
    add_list_remove,
    data_dir_after_action,
    live_site,
    now_ms,
)
from tracker.config import Config
from tracker.enrich.sources import rederive_functions
from tracker.ingest.apply import applier
from tracker.lifecycle import report_periods, reports
from tracker.ops.metrics import NoMetrics
from tracker.schemas import ReportIn
from tracker.storage.lock import hold_shared, release
from tracker.storage.registry import Conflict, RegistryFile, Site
from tracker.storage.store import Layout, Store, prepare


def add_parsers(commands: argparse._SubParsersAction) -> None:
    report_command = commands.add_parser("reports", help="a site's email reports")
    actions = report_command.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="subscribe an address to a site's report")
    add.add_argument("site")
    add.add_argument("email")
    add.add_argument("--every", choices=[report_periods.WEEK, report_periods.MONTH],
                     default=report_periods.WEEK, help="week (the default) or month")
    listing = actions.add_parser("list", help="the site's subscriptions and their latest sends")
    listing.add_argument("site")
    remove = actions.add_parser("remove", help="cancel a subscription")
    remove.add_argument("site")
    remove.add_argument("id", type=int)
    send_now = actions.add_parser(
        "send-now", help="send the site's reports for the last complete period, unless sent")
    send_now.add_argument("site")
    preview = actions.add_parser("preview", help="print the text of the site's report for the "
                                                 "last complete period; sends nothing")
    preview.add_argument("site")
    preview.add_argument("--every", choices=[report_periods.WEEK, report_periods.MONTH],
                         default=report_periods.WEEK)
    data_dir_after_action(actions)


def run_reports(config: Config, args: argparse.Namespace) -> int:
    if args.action in ("send-now", "preview"):
        if config.clustered:  # a node's files hold only the shards it owns
            raise CommandError(f"`reports {args.action}` works on one data directory; in cluster "
                               "mode the nodes send the reports themselves")
        return asyncio.run(_with_store(config, prepare(config, rederive_functions()), args))

    return add_list_remove(config, args, _add, _list, _remove)


def _add(registry_file: RegistryFile, site: Site, change: Change, args: argparse.Namespace) -> int:
    try:  # the API's own rules for the address
        msgspec.convert({"email": args.email, "every": args.every}, ReportIn)
    except msgspec.ValidationError:
        raise CommandError(f"`{args.email}` is not an email address") from None
    try:
        made = change(reports.subscribe, registry_file, site, args.email, args.every, now_ms())
    except Conflict as error:
        raise CommandError(str(error)) from None
    print(f"subscribed {made.email} to the {made.every}ly report of site {site.id} (id {made.id})")
    return 0


def _list(registry_file: RegistryFile, site: Site) -> int:
    for subscription, send in reports.of_site(registry_file, site):
        last = "never sent" if send is None else f"{send.status} ({send.attempts} tries)"
        print(f"{subscription.id}\t{subscription.email}\t{subscription.every}\t{last}")
    return 0


def _remove(registry_file: RegistryFile, site: Site, change: Change, subscription: int) -> int:
    if not change(reports.unsubscribe, registry_file, site, subscription):
        raise CommandError(f"site `{site.id}` has no report subscription {subscription}")
    print(f"cancelled subscription {subscription} of site {site.id}")
    return 0


async def _with_store(config: Config, layout: Layout, args: argparse.Namespace) -> int:
    box = reports.outbox(config)
    if args.action == "send-now" and box is None:
        raise CommandError("TRACKER_SMTP_URL is not set: there is no mail server to send "
                                 "through")
    service_lock = hold_shared(config.data_dir)  # no restore replaces the files meanwhile
    store = Store(layout, config, applier(config.session_ttl_seconds), fold_in_background=False)
    try:
        site = live_site(store.registry, args.site)
        if args.action == "preview":
            print(await reports.preview(store, site, args.every, now_ms(), config.base_url), end="")
            return 0
        assert box is not None
        done = await reports.send_due(store, box, NoMetrics(), now_ms(), site, scheduled=False)
    finally:
        await store.drain()
        await asyncio.to_thread(store.close)
        release(service_lock)
    print(f"site {site.id}: {done.sent} reports sent, {done.failed} failed, "
          f"{done.skipped} sent before, being sent or waiting to be retried")
    return 1 if done.failed else 0
