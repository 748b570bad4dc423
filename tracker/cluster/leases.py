"""Shard ownership: a lease per shard in the `tracker_leases` bucket.

A node claims a free shard with a create (which fails if the key exists),
and renews it every RENEW_SECONDS with an update conditioned on the
revision it last wrote (compare-and-set): an update fails once anyone else
wrote the key, and the key itself is gone LEASE_SECONDS after the last
renewal. The revision of the claim is the lease's term, the fencing token
every fold records.

The node trusts its lease until `deadline`, taken on its own monotonic
clock from the moment it *sent* the last successful renewal, less a margin:
the bucket cannot expire the key before the server received that renewal,
so the deadline always passes first. A node that stops renewing (paused,
cut off from NATS) therefore stops writing before another node can claim
the shard. A renewal that fails only because NATS did not answer is tried
again: if it goes through with the same revision, nobody took the shard,
and the node goes on where it was.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass

import nats.errors
import nats.js.errors
from nats.js.kv import KeyValue

from tracker.cluster.jetstream import LEASE_SECONDS

log = logging.getLogger("tracker.cluster")

RENEW_SECONDS = 2.0
# The node stops trusting a lease this long before the bucket could expire it.
MARGIN_SECONDS = 3.0


@dataclass
class Held:
    shard: int
    term: int
    revision: int
    deadline: float  # time.monotonic()

    def ok(self) -> bool:
        return time.monotonic() < self.deadline


@dataclass(frozen=True)
class Owner:
    node: str
    url: str
    term: int


def key_of(shard: int) -> str:
    return f"shard-{shard}"


class Leases:
    """This node's leases, and the owners of every shard as last read."""

    def __init__(self, bucket: KeyValue, node_id: str, node_url: str, shard_count: int):
        self._bucket = bucket
        self.node_id = node_id
        self.node_url = node_url
        self.shard_count = shard_count
        self.held: dict[int, Held] = {}
        self.owners: dict[int, Owner] = {}
        self.changes = 0  # leases gained and lost by this node

    def ok(self, shard: int, term: int | None = None) -> bool:
        held = self.held.get(shard)
        return held is not None and held.ok() and (term is None or held.term == term)

    def _value(self, term: int | None) -> bytes:
        value: dict = {"node": self.node_id, "url": self.node_url}
        if term is not None:
            value["term"] = term
        return json.dumps(value).encode()

    async def claim(self, shard: int) -> Held | None:
        """Take a free shard; None when someone holds it."""
        sent = time.monotonic()
        try:
            revision = await self._bucket.create(key_of(shard), self._value(None))
        except nats.js.errors.KeyWrongLastSequenceError:
            return None
        held = self.held[shard] = Held(shard, revision, revision, sent + LEASE_SECONDS - MARGIN_SECONDS)
        self.owners[shard] = Owner(self.node_id, self.node_url, revision)
        self.changes += 1
        # Write the term into the entry, so readers of the bucket see which lease it is.
        await self.renew(held)
        return held

    async def renew(self, held: Held) -> bool:
        """Renew one lease; False once it is lost (someone else wrote the key, or it expired)."""
        sent = time.monotonic()
        try:
            held.revision = await self._bucket.update(key_of(held.shard), self._value(held.term),
                                                      last=held.revision)
        except (nats.js.errors.KeyWrongLastSequenceError, nats.js.errors.KeyNotFoundError):
            self._lose(held.shard)
            return False
        except (TimeoutError, nats.errors.Error, nats.js.errors.Error) as error:
            log.warning("shard %d: renewing the lease failed, trying again: %r", held.shard, error)
            return held.ok()
        held.deadline = sent + LEASE_SECONDS - MARGIN_SECONDS
        return True

    async def release(self, shard: int) -> None:
        """Give a shard up (after its last fold and snapshot)."""
        held = self.held.pop(shard, None)
        if held is None:
            return
        self.changes += 1
        try:
            await self._bucket.delete(key_of(shard), last=held.revision)
        except (TimeoutError, nats.errors.Error, nats.js.errors.Error) as error:
            log.warning("shard %d: releasing the lease failed; it expires by itself: %r", shard, error)

    def _lose(self, shard: int) -> None:
        if self.held.pop(shard, None) is not None:
            self.changes += 1
            log.warning("shard %d: lease lost", shard)

    async def read_owners(self) -> dict[int, Owner]:
        """Every shard's owner as the bucket says now (shards without one are left out)."""
        entries = await asyncio.gather(*(self._get(shard) for shard in range(self.shard_count)))
        self.owners = {shard: owner for shard, owner in enumerate(entries) if owner is not None}
        return self.owners

    async def owner(self, shard: int) -> Owner | None:
        """A shard's owner, read from the bucket now."""
        found = await self._get(shard)
        if found is None:
            self.owners.pop(shard, None)
        else:
            self.owners[shard] = found
        return found

    async def _get(self, shard: int) -> Owner | None:
        try:
            entry = await self._bucket.get(key_of(shard))
        except nats.js.errors.KeyNotFoundError:
            return None
        if not entry.value:
            return None
        value = json.loads(entry.value)
        return Owner(value["node"], value["url"], value.get("term", entry.revision or 0))


def unowned(shard_count: int, owners: dict[int, Owner], alive: set[str]) -> list[int]:
    """The shards with no live owner: no lease, or a lease of a node whose heartbeat is gone."""
    return [shard for shard in range(shard_count) if shard not in owners or owners[shard].node not in alive]
