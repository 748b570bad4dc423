"""Reads across nodes: ask each shard's owner, exactly as one node would ask its own files.

A read first takes the stream's last position; every owner it asks waits
until it has folded its shard up to there before it answers, so the read
counts every event acknowledged before it began, whichever node took it.
The shards a read needs are grouped by owner (one request per node, this
node's own answered locally) and the answers come back in shard order, for
the single node's merge to add up. A shard without a live owner, or whose
owner does not answer, makes the whole read fail with ShardUnavailable:
never a partial answer. An owner that no longer holds a shard (it just
moved) answers 409, and the read asks the bucket again and retries.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from tracker.cluster import codec
from tracker.cluster.leases import Leases, Owner
from tracker.cluster.peers import PeerError, Peers
from tracker.storage.store import Unavailable

READ_PATH = "/cluster/read"
# An owner waits up to folding.CATCH_UP_SECONDS for its shard, then answers.
REMOTE_SECONDS = 30.0
ATTEMPTS = 6

LocalRead = Callable[[int, list[int], Callable[..., Any], tuple, int], Awaitable[list]]


class ShardUnavailable(Unavailable):
    """A shard a read needs has no live owner, or its owner did not answer."""

    def __init__(self, shard: int, reason: str):
        super().__init__(f"shard {shard}: {reason}")
        self.shard = shard
        self.reason = reason


class Moved(Exception):
    """The node asked no longer owns these shards."""

    def __init__(self, shards: list[int]):
        super().__init__(f"shards {shards} moved")
        self.shards = shards


class FanOut:
    def __init__(self, node_id: str, leases: Leases, peers: Peers, local: LocalRead,
                 head: Callable[[], Awaitable[int]], on_latency: Callable[[float], None]):
        self._node_id = node_id
        self._leases = leases
        self._peers = peers
        self._local = local
        self._head = head
        self._on_latency = on_latency

    async def read(self, site: int, shards: list[int], query: Callable[..., Any], args: tuple) -> list:
        """`query(connection, *args)` on shard file `shards[i]` of `site`, answers in that order."""
        started = time.perf_counter()
        target = await self._head()
        found: dict[int, Any] = {}
        pending = list(shards)
        for attempt in range(ATTEMPTS):
            plan = await self._plan(pending)
            outcomes = await asyncio.gather(
                *(self._ask(owner, site, group, query, args, target) for owner, group in plan),
                return_exceptions=True)
            pending = []
            for (_owner, group), outcome in zip(plan, outcomes):
                if isinstance(outcome, Moved):
                    pending += group
                elif isinstance(outcome, BaseException):
                    raise outcome
                else:
                    found.update(zip(group, outcome))
            if not pending:
                self._on_latency(time.perf_counter() - started)
                return [found[shard] for shard in shards]
            for shard in pending:
                await self._leases.owner(shard)
            await asyncio.sleep(0.2 * (attempt + 1))
        raise ShardUnavailable(pending[0], "its owner changed while it was read; retry")

    async def _plan(self, shards: list[int]) -> list[tuple[Owner, list[int]]]:
        groups: dict[str, tuple[Owner, list[int]]] = {}
        for shard in shards:
            owner = self._leases.owners.get(shard) or await self._leases.owner(shard)
            if owner is None:
                raise ShardUnavailable(shard, "no live node owns it")
            groups.setdefault(owner.node, (owner, []))[1].append(shard)
        return list(groups.values())

    async def _ask(self, owner: Owner, site: int, shards: list[int], query: Callable[..., Any],
                   args: tuple, target: int) -> list:
        if owner.node == self._node_id:
            return await self._local(site, shards, query, args, target)
        body = codec.dumps((site, shards, query, args, target))
        try:
            status, answer = await self._peers.post(owner.url, READ_PATH, body, REMOTE_SECONDS)
        except PeerError as error:
            raise ShardUnavailable(shards[0], f"its owner {owner.node} does not answer ({error})") from None
        if status == 409:
            raise Moved(shards)
        if status != 200:
            raise ShardUnavailable(shards[0], f"its owner {owner.node} answered {status}")
        return codec.loads(answer)
