"""The state of a cluster as JetStream holds it: its nodes, and per shard its owner, its lag
behind the stream and the age of its latest snapshot (`tracker cluster status`, metrics).

The lag of a shard is what its owner's consumer has not had acknowledged:
messages delivered and not yet folded, and messages not yet delivered.
A shard nobody folds has no consumer to ask: its lag is unknown (None).
"""

from __future__ import annotations

import asyncio
import time

import nats.errors
import nats.js.errors

from tracker.cluster import jetstream, nodes, snapshots
from tracker.cluster.jetstream import STREAM, JetStream
from tracker.cluster.leases import Leases
from tracker.config import Config


async def lag_of(jet: JetStream, shard: int) -> int | None:
    try:
        info = await jet.js.consumer_info(STREAM, f"fold-{shard}")
    except (TimeoutError, nats.js.errors.NotFoundError, nats.errors.Error, nats.js.errors.Error):
        return None
    return (info.num_pending or 0) + (info.num_ack_pending or 0)


async def snapshot_age(jet: JetStream, shard: int) -> float | None:
    """Seconds since the shard's latest snapshot was taken; None before the first."""
    manifest = await snapshots.latest(jet, shard)
    return None if manifest is None else max(0.0, time.time() - manifest.taken / 1000)


async def gather(jet: JetStream, shard_count: int) -> dict:
    alive = await nodes.alive(jet)
    owners = await Leases(jet.leases, "", "", shard_count).read_owners()
    lags = await asyncio.gather(*(lag_of(jet, shard) for shard in range(shard_count)))
    ages = [None if age is None else round(age, 1) for age in await asyncio.gather(
        *(snapshot_age(jet, shard) for shard in range(shard_count)))]
    return {
        "nodes": [{"id": node.id, "url": node.url, "alive": True} for node in alive]
        + [{"id": owner.node, "url": owner.url, "alive": False}
           for owner in {o.node: o for o in owners.values()}.values()
           if owner.node not in {node.id for node in alive}],
        "shards": [{"shard": shard, "owner": owners[shard].node if shard in owners else None,
                    "lag": lags[shard], "snapshotAge": ages[shard]}
                   for shard in range(shard_count)],
    }


async def status(config: Config) -> dict:
    jet = await jetstream.connect(config, name=f"{config.node_id or 'tracker'}-status")
    try:
        return await gather(jet, config.shards)
    finally:
        await jet.close()


def text(found: dict) -> str:
    """The status for a terminal: the nodes, then one line per shard starting with its number."""
    lines = ["nodes:"]
    for node in found["nodes"]:
        lines.append(f"  {node['id']}  {node['url']}  {'alive' if node['alive'] else 'gone'}")
    lines.append("shard  owner  lag  snapshot age")
    for shard in found["shards"]:
        lag = "-" if shard["lag"] is None else str(shard["lag"])
        age = "none yet" if shard["snapshotAge"] is None else f"{shard['snapshotAge']:.0f} s"
        lines.append(f"{shard['shard']}  {shard['owner'] or 'NONE'}  {lag}  {age}")
    return "\n".join(lines)
