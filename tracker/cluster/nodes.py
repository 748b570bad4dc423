"""Which nodes are alive: each puts a heartbeat in the `tracker_nodes` bucket.

An entry lives LEASE_SECONDS after its last put; a node puts one every
BEAT_SECONDS, so a node is alive exactly while its entry is there.

The live set is read every round by every node, so it is read without a
consumer: the bucket's keys come from the stream's subject counts and each
entry from a plain get. Listing keys the usual way (`KeyValue.keys()`) makes
an ordered consumer each time, which the servers keep for minutes; a few
nodes doing so every second swamped JetStream's metadata leader until leases
could not be renewed.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass

import nats.js.errors
from nats.js.kv import KeyValue

from tracker.cluster.jetstream import NODES, JetStream


@dataclass(frozen=True)
class Node:
    id: str
    url: str
    started: int


def key_of(node_id: str) -> str:
    """A bucket key for a node id (any text: hex keeps it a valid key)."""
    return node_id.encode().hex()


async def beat(bucket: KeyValue, node: Node) -> None:
    await bucket.put(key_of(node.id), json.dumps({"id": node.id, "url": node.url,
                                                  "started": node.started}).encode())


async def leave(bucket: KeyValue, node_id: str) -> None:
    await bucket.delete(key_of(node_id))


async def alive(jet: JetStream) -> list[Node]:
    """Every node whose heartbeat is current, by id."""
    prefix = f"$KV.{NODES}."
    info = await jet.js.stream_info(f"KV_{NODES}", subjects_filter=f"{prefix}>")
    keys = [name[len(prefix):] for name in (info.state.subjects or {})]
    entries = await asyncio.gather(*(_entry(jet.nodes, key) for key in keys))
    found = [Node(value["id"], value["url"], value.get("started", 0)) for value in entries if value]
    return sorted(found, key=lambda node: node.id)


async def _entry(bucket: KeyValue, key: str) -> dict | None:
    """A heartbeat's value; None once it was deleted (a node that left) or expired."""
    try:
        entry = await bucket.get(key)
    except nats.js.errors.KeyNotFoundError:  # KeyDeletedError is one too
        return None
    return json.loads(entry.value) if entry.value else None


def now_ms() -> int:
    return int(time.time() * 1000)
