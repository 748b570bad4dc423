"""`tracker cluster status`: the cluster's nodes and shards, asked of JetStream with the
node's environment (TRACKER_NATS_URL and the rest)."""

from __future__ import annotations

import argparse
import asyncio
import json

from tracker.cluster import status
from tracker.commands.sites import CommandError
from tracker.config import Config


def add_parsers(commands: argparse._SubParsersAction) -> None:
    cluster = commands.add_parser("cluster", help="a cluster's nodes and shards (cluster mode)")
    cluster.add_argument("action", choices=["status"],
                         help="status: the nodes, then per shard its owner, lag and snapshot age")
    cluster.add_argument("--json", action="store_true", help="print JSON instead of text")


def run(config: Config, args: argparse.Namespace) -> int:
    if not config.clustered:
        raise CommandError("not in cluster mode: set TRACKER_NATS_URL (and the node's other "
                           "settings) to ask a cluster")
    try:
        found = asyncio.run(asyncio.wait_for(status.status(config), 60))
    except (OSError, TimeoutError) as error:
        raise CommandError(f"cannot reach NATS at {', '.join(config.nats_url)}: {error!r}") from None
    print(json.dumps(found) if args.json else status.text(found))
    return 0
