"""Which nodes are alive: each puts a heartbeat in the `tracker_nodes` bucket.

An entry lives LEASE_SECONDS after its last put; a node puts one every
BEAT_SECONDS, so a node is alive exactly while its entry is there.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import nats.js.errors
from nats.js.kv import KeyValue


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


async def alive(bucket: KeyValue) -> list[Node]:
    """Every node whose heartbeat is current, by id."""
    try:
        keys = await bucket.keys()
    except nats.js.errors.NoKeysError:
        return []
    found = []
    for key in keys:
        try:
            entry = await bucket.get(key)
        except nats.js.errors.KeyNotFoundError:
            continue
        if entry.value:
            value = json.loads(entry.value)
            found.append(Node(value["id"], value["url"], value.get("started", 0)))
    return sorted(found, key=lambda node: node.id)


def now_ms() -> int:
    return int(time.time() * 1000)
