"""The JetStream side of a cluster: the connection, and the stream, buckets and object store.

- The stream `TRACKER` holds every acknowledged event, on TRACKER_NATS_REPLICAS
  servers, one subject per shard number (`tracker.shard.N`), so that the
  owner of a shard consumes only its own. Its duplicate window drops a
  message published again with the same `Nats-Msg-Id` (a client's retry).
  Nothing expires by age: the owners purge what their snapshots hold.
- Key-value buckets: `tracker_leases` (who owns each shard; an entry lives
  LEASE_SECONDS after its last renewal), `tracker_nodes` (each node's
  heartbeat, as long), `tracker_registry` (sites, keys and shares) and
  `tracker_salts` (the day's salts of anonymous visitor ids).
- The object store `tracker_snapshots` holds the latest snapshot of each shard.

Every node declares them at start-up; declaring what exists with the same
settings changes nothing.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

import nats
import nats.errors
import nats.js.errors
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import KeyValueConfig, ObjectStoreConfig, StorageType, StreamConfig
from nats.js.kv import KeyValue
from nats.js.object_store import ObjectStore

from tracker.config import Config

log = logging.getLogger("tracker.cluster")

STREAM = "TRACKER"
SUBJECTS = "tracker.shard.*"
LEASES = "tracker_leases"
NODES = "tracker_nodes"
REGISTRY = "tracker_registry"
SALTS = "tracker_salts"
SNAPSHOTS = "tracker_snapshots"

# A lease (and a node's heartbeat) lives this long after its last renewal.
LEASE_SECONDS = 10.0
# A client's retry within this window is dropped by the stream itself.
DUPLICATE_WINDOW_SECONDS = 120.0
SALT_SECONDS = 2 * 24 * 3600.0
# How long JetStream API calls wait (a leader election takes a few seconds).
API_TIMEOUT_SECONDS = 5.0
# How long start-up waits for the JetStream cluster to answer.
READY_SECONDS = 60.0


def subject(shard: int) -> str:
    return f"tracker.shard.{shard}"


def shard_of_subject(name: str) -> int:
    return int(name.rsplit(".", 1)[1])


@dataclass
class JetStream:
    """The connection and what the cluster keeps in JetStream."""

    client: Client
    js: JetStreamContext
    leases: KeyValue
    nodes: KeyValue
    registry: KeyValue
    salts: KeyValue
    snapshots: ObjectStore

    async def close(self) -> None:
        """Drain the connection; when it cannot (no server answers), close it as it is."""
        try:
            await self.client.drain()
        except (TimeoutError, nats.errors.Error):
            await self.client.close()


async def connect(config: Config, name: str | None = None) -> JetStream:
    """Connect to the servers and declare the stream, buckets and object store (retrying while
    the JetStream cluster elects its leaders)."""
    deadline = time.monotonic() + READY_SECONDS
    while True:
        client = await nats.connect(
            servers=list(config.nats_url), name=name or config.node_id, connect_timeout=2,
            reconnect_time_wait=0.5, max_reconnect_attempts=-1, allow_reconnect=True,
            error_cb=_quiet, disconnected_cb=_disconnected, reconnected_cb=_reconnected)
        try:
            return await _declare(client, client.jetstream(timeout=API_TIMEOUT_SECONDS),
                                  config.nats_replicas)
        except (TimeoutError, nats.errors.Error) as error:
            # A fresh connection for the next try: one whose request timed out while the
            # servers elected their leaders was seen to leave the node's buckets unanswered.
            await client.close()
            if time.monotonic() > deadline:
                raise
            log.info("waiting for JetStream: %r", error)
            await asyncio.sleep(0.5)


async def _declare(client: Client, js: JetStreamContext, replicas: int) -> JetStream:
    await js.add_stream(StreamConfig(
        name=STREAM, subjects=[SUBJECTS], num_replicas=replicas, storage=StorageType.FILE,
        duplicate_window=DUPLICATE_WINDOW_SECONDS))

    async def bucket(name: str, ttl: float | None, history: int = 1) -> KeyValue:
        return await js.create_key_value(KeyValueConfig(
            bucket=name, ttl=ttl, history=history, replicas=replicas, storage=StorageType.FILE))

    jet = JetStream(
        client=client, js=js,
        leases=await bucket(LEASES, LEASE_SECONDS),
        nodes=await bucket(NODES, LEASE_SECONDS),
        registry=await bucket(REGISTRY, None),
        salts=await bucket(SALTS, SALT_SECONDS),
        snapshots=await js.create_object_store(SNAPSHOTS, ObjectStoreConfig(
            replicas=replicas, storage=StorageType.FILE)),
    )
    await _answering(jet)
    return jet


async def _answering(jet: JetStream) -> None:
    """A stream just made answers once its replicas have elected a leader: ask each once."""
    await jet.js.stream_info(STREAM)
    for bucket in (jet.leases, jet.nodes, jet.registry, jet.salts):
        try:
            await bucket.get("probe")
        except nats.js.errors.KeyNotFoundError:
            pass
    try:
        await jet.snapshots.get_info("probe")
    except nats.js.errors.NotFoundError:
        pass


async def _quiet(error: Exception) -> None:
    log.debug("nats: %r", error)


async def _disconnected() -> None:
    log.warning("disconnected from NATS; reconnecting")


async def _reconnected() -> None:
    log.info("reconnected to NATS")
