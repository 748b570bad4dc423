"""A node of the cluster: its leases, the folders of the shards it owns, and their snapshots.

`ClusterNode.run` is one loop, every TICK_SECONDS: put this node's heartbeat,
renew its leases (a lost one stops its folder at once), read who owns
every shard, and claim free shards up to this node's part (`share_of`: the
live nodes' parts differ by one at most and add up to the shard count), or
give up what is over it once that has lasted HAND_OVER_AFTER_SECONDS, so
that shards spread over the nodes and move off a node that is gone without
moving back and forth while nodes come and go. A
shard taken over starts from the latest snapshot when that holds more than
this node's own copy, then folds the stream from there (`folding.py`);
every TRACKER_SNAPSHOT_MINUTES its owner stores a new snapshot
(`snapshots.py`). What the node's /metrics and /readyz tell comes from
here too: the lag of each shard it folds (asked of its consumer every
LAG_SECONDS), the age of their snapshots, and the leases it took, lost and
released.
"""

from __future__ import annotations

import asyncio
import logging
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import apsw
import nats.errors
import nats.js.errors

from tracker.cluster import nodes, positions, snapshots, status
from tracker.cluster.folding import ShardFolder
from tracker.cluster.jetstream import API_TIMEOUT_SECONDS, JetStream
from tracker.cluster.leases import Held, Leases
from tracker.cluster.outcomes import Outcomes
from tracker.config import Config
from tracker.storage import fold
from tracker.storage.connections import Role
from tracker.storage.shard_file import ShardFile
from tracker.throttle import Throttled

log = logging.getLogger("tracker.cluster")
failures = Throttled(log)

TICK_SECONDS = 1.0
# A node starts claiming shards once it has seen the others' heartbeats for this long.
SETTLE_SECONDS = 2.0
# A node gives up shards over its part only once it has been over for this long: the live set
# each node sees settles in a round or two after a node comes or goes.
HAND_OVER_AFTER_SECONDS = 5.0
# A folder that failed (a file it could not write) is started again after this long.
RESTART_SECONDS = 2.0
# The lag of the shards this node folds is asked of their consumers this often.
LAG_SECONDS = 5.0


def share_of(node_id: str, live: list[str], shard_count: int) -> int:
    """How many shards a node should own: the count split over the live nodes (this one
    among them), the remainder going one each to the first by id, so that the parts add up
    to the count and every node gets one when there are enough."""
    ids = sorted(set(live) | {node_id})
    base, remainder = divmod(shard_count, len(ids))
    return base + (1 if ids.index(node_id) < remainder else 0)


class NotOwner(Exception):
    """This node does not hold the shard's lease (any more)."""

    def __init__(self, shard: int):
        super().__init__(f"shard {shard} is not owned by this node")
        self.shard = shard


@dataclass
class Owned:
    """A shard this node owns: its folder, the task running it, and its snapshots."""

    folder: ShardFolder
    task: asyncio.Task
    snapshot_due: float
    snapshot_taken: int | None = None  # ms since the epoch, of the latest stored snapshot


class Shards(Protocol):
    """What a node needs of the store for the shards it owns (the ClusterStore)."""

    shard_count: int

    def live_files_of(self, shard: int) -> list[ShardFile]: ...

    async def file_of_site(self, site: int, shard: int) -> ShardFile | None: ...

    def submit_local(self, file: ShardFile, work: Callable[[apsw.Connection], Any]) -> asyncio.Future: ...

    async def run_in_thread(self, function: Callable[..., Any], *args: Any) -> Any: ...


class ClusterNode:
    def __init__(self, config: Config, jet: JetStream, shards: Shards, apply: fold.Apply,
                 work_dir: Path, on_fold: Callable[[fold.Folded], None]):
        self.config = config
        self.jet = jet
        self.me = nodes.Node(config.node_id, config.node_url, nodes.now_ms())
        self.leases = Leases(jet.leases, config.node_id, config.node_url, shards.shard_count)
        self.outcomes = Outcomes()
        self.owned: dict[int, Owned] = {}
        self.live: list[nodes.Node] = []
        self._shards = shards
        self._apply = apply
        self._work_dir = work_dir
        self._on_fold = on_fold
        self._snapshot_seconds = config.snapshot_minutes * 60.0
        self._started = time.monotonic()
        self._stopping = False
        self._restart_after: dict[int, float] = {}
        self._task: asyncio.Task | None = None
        self.snapshot_ages: dict[int, float] = {}  # shard: when its latest snapshot was taken (s)
        self.lags: dict[int, int] = {}  # shard this node folds: messages not folded yet
        self.lease_changes = {"taken": 0, "lost": 0, "released": 0}
        self._lags_due = 0.0
        self._over_since: float | None = None  # since when this node holds more than its part

    async def start(self) -> None:
        work = self._work_dir
        work.mkdir(parents=True, exist_ok=True)
        await nodes.beat(self.jet.nodes, self.me)
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while not self._stopping:
            started = time.monotonic()
            try:
                await self._tick()
            except (TimeoutError, nats.errors.Error, nats.js.errors.Error) as error:
                failures.warning("cluster round failed, trying again: %r", error)
            except Exception:  # a bug must not stop the node's heartbeat and leases for good
                log.exception("cluster round failed, trying again")
            await asyncio.sleep(max(0.0, TICK_SECONDS - (time.monotonic() - started)))

    async def _tick(self) -> None:
        # Each bucket call has a deadline: one that never answers (a consumer lost while the
        # servers elected a leader) would otherwise stop the heartbeat for good.
        await asyncio.wait_for(nodes.beat(self.jet.nodes, self.me), API_TIMEOUT_SECONDS)
        for shard, held in list(self.leases.held.items()):
            if not await self.leases.renew(held):
                self.lease_changes["lost"] += 1
                await self._stop_folding(shard)
        self._reap_folders()
        self.live = await asyncio.wait_for(nodes.alive(self.jet), API_TIMEOUT_SECONDS)
        await asyncio.wait_for(self.leases.read_owners(), API_TIMEOUT_SECONDS)
        if time.monotonic() - self._started >= SETTLE_SECONDS:
            await self._balance()
        await self._snapshot_due()
        if time.monotonic() >= self._lags_due:
            self._lags_due = time.monotonic() + LAG_SECONDS
            await self._read_lags()

    async def _read_lags(self) -> None:
        shards = sorted(self.owned)
        found = await asyncio.gather(*(status.lag_of(self.jet, shard) for shard in shards))
        self.lags = {shard: lag for shard, lag in zip(shards, found) if lag is not None}

    def _reap_folders(self) -> None:
        """Forget folders that ended (a failed write, a lease no longer trusted); a shard still
        held gets a new folder after a pause."""
        for shard, owned in list(self.owned.items()):
            if not owned.task.done():
                continue
            del self.owned[shard]
            if not owned.task.cancelled() and owned.task.exception() is not None:
                error = owned.task.exception()
                if isinstance(error, (TimeoutError, nats.errors.Error, nats.js.errors.Error)):
                    failures.warning("shard %d: folding stopped, starting again: %r", shard, error)
                else:
                    failures.warning("shard %d: folding stopped: %s", shard,
                                     "".join(traceback.format_exception(error)).strip())
            self._restart_after[shard] = time.monotonic() + RESTART_SECONDS

    async def _balance(self) -> None:
        share = share_of(self.me.id, [node.id for node in self.live], self._shards.shard_count)
        for shard in list(self.leases.held):  # held but not folding: start (again)
            if shard not in self.owned and time.monotonic() >= self._restart_after.get(shard, 0):
                if self.leases.ok(shard):
                    await self._start_folding(self.leases.held[shard])
        excess = len(self.leases.held) - share
        if excess <= 0:
            self._over_since = None
        else:
            if self._over_since is None:
                self._over_since = time.monotonic()
            if time.monotonic() - self._over_since >= HAND_OVER_AFTER_SECONDS:
                for shard in sorted(self.leases.held, reverse=True)[:excess]:
                    await self.hand_over(shard)
                self._over_since = None
            return
        for shard in self._free_in_my_order():
            if len(self.leases.held) >= share:
                break
            held = await self.leases.claim(shard)
            if held is not None:
                self.lease_changes["taken"] += 1
                log.info("shard %d: lease taken (term %d)", shard, held.term)
                await self._start_folding(held)

    def _free_in_my_order(self) -> list[int]:
        """Shards nobody holds, starting at this node's place among the live nodes, so that
        nodes starting together try different shards first."""
        count = self._shards.shard_count
        ids = [node.id for node in self.live]
        place = ids.index(self.me.id) if self.me.id in ids else 0
        start = place * count // max(1, len(ids))
        order = [(start + step) % count for step in range(count)]
        return [shard for shard in order if shard not in self.leases.owners]

    async def _start_folding(self, held: Held) -> None:
        shard = held.shard
        folder = ShardFolder(
            shard, held.term, self.jet, lambda site: self._shards.file_of_site(site, shard),
            lambda: self._shards.live_files_of(shard), self._shards.submit_local, self._positions,
            self._apply, self.config.cluster_secret, lambda: self.leases.ok(shard, held.term),
            self.outcomes, self._on_fold)
        task = asyncio.create_task(self._restore_then_fold(folder))
        self.owned[shard] = Owned(folder, task, time.monotonic() + self._snapshot_seconds)

    async def _restore_then_fold(self, folder: ShardFolder) -> None:
        shard = folder.shard
        started = time.monotonic()
        manifest = await snapshots.latest(self.jet, shard)
        if manifest is not None:
            self.snapshot_ages[shard] = manifest.taken / 1000
            files = {file.site: file for file in self._shards.live_files_of(shard)}
            held = {site: at for site, at in (await self._positions_by_site(list(files.values()))).items()}
            replaced = await snapshots.restore(self.jet, manifest, files.get, held, self._work_dir,
                                               self._shards.run_in_thread)
            if replaced:
                log.info("shard %d: restored %d files from the snapshot at %d", shard, len(replaced),
                         manifest.position)
        await folder.start_position()
        log.info("shard %d: folding from %d (ready in %.1f s)", shard, folder.consumed,
                 time.monotonic() - started)
        await folder.run()

    async def _positions(self, files: list[ShardFile]) -> dict[int, int]:
        by_site = await self._positions_by_site(files)
        return {file.key: by_site[file.site] for file in files}

    async def _positions_by_site(self, files: list[ShardFile]) -> dict[int, int]:
        def read() -> dict[int, int]:
            return {file.site: positions.read(file.connection(Role.LOOKUP))[0] for file in files}

        return await self._shards.run_in_thread(read)

    async def _stop_folding(self, shard: int) -> None:
        owned = self.owned.pop(shard, None)
        if owned is not None:
            owned.task.cancel()
            await asyncio.gather(owned.task, return_exceptions=True)

    async def hand_over(self, shard: int) -> None:
        """Give a shard up in order: stop folding it, store a snapshot (so that the next owner
        has little to replay), then release the lease."""
        held = self.leases.held.get(shard)
        await self._stop_folding(shard)
        if held is not None and held.ok():
            await self._snapshot(shard, held.term)
        await self.leases.release(shard)
        self.lease_changes["released"] += 1
        log.info("shard %d: handed over", shard)

    async def _snapshot_due(self) -> None:
        for shard, owned in list(self.owned.items()):
            if time.monotonic() >= owned.snapshot_due and owned.folder.ready.is_set():
                owned.snapshot_due = time.monotonic() + self._snapshot_seconds
                held = self.leases.held.get(shard)
                if held is not None and held.ok():
                    await self._snapshot(shard, held.term)

    async def _snapshot(self, shard: int, term: int) -> None:
        try:
            manifest = await snapshots.take(self.jet, shard, self._shards.live_files_of(shard), term,
                                            self._work_dir, self._shards.run_in_thread)
        except (TimeoutError, nats.errors.Error, nats.js.errors.Error, OSError, apsw.Error) as error:
            failures.warning("shard %d: the snapshot failed: %r", shard, error)
            return
        self.snapshot_ages[shard] = manifest.taken / 1000

    def folder(self, shard: int) -> ShardFolder:
        """The folder of a shard this node owns and trusts its lease of, else NotOwner."""
        owned = self.owned.get(shard)
        if owned is None or not self.leases.ok(shard, owned.folder.term):
            raise NotOwner(shard)
        return owned.folder

    async def caught_up(self, shard: int, target: int) -> None:
        await self.folder(shard).caught_up(target)
        self.folder(shard)  # still the owner after the wait

    async def stop(self) -> None:
        """Hand every shard over and leave the cluster (a graceful stop)."""
        self._stopping = True
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        for shard in list(self.leases.held):
            try:
                await asyncio.wait_for(self.hand_over(shard), 30)
            except (TimeoutError, nats.errors.Error, nats.js.errors.Error) as error:
                failures.warning("shard %d: handing over failed; its lease expires: %r", shard, error)
        for shard in list(self.owned):
            await self._stop_folding(shard)
        try:
            await nodes.leave(self.jet.nodes, self.me.id)
        except (TimeoutError, nats.errors.Error, nats.js.errors.Error):
            pass
