"""The store of a cluster node: the single node's Store, with the stream in place of its log.

Everything above the store (ingest, reads, the lifecycle jobs, the API) is
the same code in both modes; this class changes where each operation goes:

- `append` publishes to the stream (`publish.py`) and returns once
  JetStream acknowledged it;
- `submit` (a write job: POST /session, an erasure's step) is published as a
  signed job, run by the shard's owner in stream order, and its outcome
  fetched from the owner;
- `read` and `read_each` ask the owners of the shards (`fanout.py`), each
  caught up with the stream as of the read's start;
- `run_everywhere` (session expiry and the other sweeps) runs on the files
  of the shards this node owns, and `live_files` are those files;
- `tail` and `head` (the live feed) read the stream itself, which any node
  can;
- a user's export is spooled by the owner of the user's shard, from its own
  snapshot of the file, and handed to the node asked (`export_elsewhere`);
- site, key and share changes go through the shared registry
  (`registry_sync.py`), and anonymous visitors' daily salts are the
  cluster's (`salts.py`).
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
from collections.abc import Callable
from typing import Any, BinaryIO, TypeVar

import apsw
import nats.errors
import nats.js.errors

from tracker.cluster import codec, jetstream, messages, salts
from tracker.cluster.fanout import FanOut, ShardUnavailable
from tracker.cluster.jetstream import STREAM, JetStream
from tracker.cluster.node import ClusterNode, NotOwner
from tracker.cluster.nodes import now_ms
from tracker.cluster.outcomes import Replayed
from tracker.cluster.peers import PeerError, Peers
from tracker.cluster.publish import Publisher, StreamUnavailable
from tracker.cluster.registry_sync import RegistrySync
from tracker.cluster.salts import SharedSalts
from tracker.config import Config
from tracker.lifecycle import export
from tracker.lifecycle import sites as site_files
from tracker.storage import fold, migrations
from tracker.storage.group_commit import CommitStats
from tracker.storage.rows import MovementRow
from tracker.storage.shard_file import ShardFile
from tracker.storage.store import Layout, Store, gather_all
from tracker.storage.tail import without_tail
from tracker.throttle import Throttled

T = TypeVar("T")

log = logging.getLogger("tracker.cluster")
failures = Throttled(log)

OUTCOME_PATH = "/cluster/outcome"
EXPORT_PATH = "/cluster/export"
OUTCOME_SECONDS = 30.0
HEAD_SECONDS = 0.5
TAIL_MESSAGES = 64


class ClusterStore(Store):
    def __init__(self, layout: Layout, config: Config, apply: fold.Apply,
                 functions: migrations.Functions | None = None,
                 on_commit: Callable[[CommitStats], None] | None = None,
                 on_fold: Callable[[fold.Folded], None] | None = None,
                 on_read_wait: Callable[[float], None] | None = None,
                 on_fan_out: Callable[[float], None] | None = None):
        super().__init__(layout, config, apply, on_commit, on_fold, on_read_wait,
                         fold_in_background=False, follow_log=False)
        self.config = config
        self._apply = apply
        self._functions = functions
        self._on_fold = on_fold or (lambda folded: None)
        self._on_fan_out = on_fan_out or (lambda seconds: None)
        self._head = 0
        self._tasks: list[asyncio.Task] = []

    async def start(self) -> None:
        """Connect to NATS, take the shared registry, and join the cluster."""
        self.jet: JetStream = await jetstream.connect(self.config)
        self.sync = RegistrySync(self.jet.registry, self.registry, self.layout, self.pool,
                                 self._functions, self._remove_site)
        await self.sync.start()
        self.salts = SharedSalts(self.jet.salts, self.layout.data_dir)
        await self.salts.ensure(now_ms())
        self.publisher = Publisher(self.jet, self.shard_count, self.config.cluster_secret)
        self.peers = Peers(self.config.cluster_secret)
        self.node = ClusterNode(self.config, self.jet, self, self._apply,
                                self.layout.data_dir / "cluster", self._on_fold)
        self.fan_out = FanOut(self.config.node_id, self.node.leases, self.peers, self.read_owned,
                              self.stream_head, self._on_fan_out)
        self._head = await self.stream_head()
        await self.node.start()
        self._tasks.append(asyncio.create_task(self._follow_head()))

    # What the node needs of the store (node.Shards).

    def live_files_of(self, shard: int) -> list[ShardFile]:
        return [self.shards.files(site)[shard] for site in self.live_sites()]

    async def file_of_site(self, site: int, shard: int) -> ShardFile | None:
        found = self.registry.sites().by_number(site)
        if found is None:
            await self.sync.refresh()
            found = self.registry.sites().by_number(site)
        if found is None or found.deleting is not None:
            return None
        return self.shards.files(site)[shard]

    def submit_local(self, file: ShardFile, work: Callable[[apsw.Connection], Any]) -> asyncio.Future:
        return self.shards.submit(file, work)

    async def run_in_thread(self, function: Callable[..., Any], *args: Any) -> Any:
        return await self.pool.run(function, *args)

    def _remove_site(self, site: int) -> None:
        self.shards.forget_site(site)
        site_files.remove_files(self.layout, site)

    # The stream in place of the log.

    async def stream_head(self) -> int:
        """The stream's last position now."""
        try:
            info = await self.jet.js.stream_info(STREAM)
        except (TimeoutError, nats.errors.Error, nats.js.errors.Error) as error:
            raise StreamUnavailable(f"the stream does not answer ({error!r})") from None
        self._head = max(self._head, info.state.last_seq)
        return self._head

    async def _follow_head(self) -> None:
        """Keep the stream's head, and the day's salts, fresh."""
        while True:
            await asyncio.sleep(HEAD_SECONDS)
            try:
                await self.stream_head()
            except StreamUnavailable:
                pass
            try:
                await self.salts.ensure(now_ms())
            except salts.ERRORS as error:
                failures.warning("cluster: the salts bucket does not answer: %r", error)

    def head(self) -> int:
        return self._head

    async def append(self, rows: list[tuple[int, MovementRow]], context: str | None = None) -> int:
        return await self.publisher.events(
            [(site, self.shard_of(row.userId), row) for site, row in rows], context)

    def submit(self, file: ShardFile, work: Callable[[apsw.Connection], T],
               weight: int = 1) -> asyncio.Future:
        return asyncio.ensure_future(self._job(file, work))

    async def _job(self, file: ShardFile, work: Callable[[apsw.Connection], Any]) -> Any:
        ticket, seq = await self.publisher.job(file.index, file.site, work)
        found, outcome = await self._outcome(file.index, ticket, seq)
        if not found or isinstance(outcome, Replayed):
            raise StreamUnavailable(f"shard {file.index}: the job's outcome is not known; retry")
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    async def _outcome(self, shard: int, ticket: str, seq: int) -> tuple[bool, Any]:
        for attempt in range(3):
            owner = self.node.leases.owners.get(shard) or await self.node.leases.owner(shard)
            if owner is None:
                raise ShardUnavailable(shard, "no live node owns it")
            try:
                if owner.node == self.config.node_id:
                    return await self.outcome_owned(shard, ticket, seq)
                status, body = await self.peers.post(owner.url, OUTCOME_PATH,
                                                     codec.dumps((shard, ticket, seq)), OUTCOME_SECONDS)
            except NotOwner:
                status, body = 409, b""
            except PeerError as error:
                raise ShardUnavailable(shard, f"its owner {owner.node} does not answer ({error})") from None
            if status == 200:
                return codec.loads(body)
            if status != 409:
                raise ShardUnavailable(shard, f"its owner {owner.node} answered {status}")
            await self.node.leases.owner(shard)
            await asyncio.sleep(0.2 * (attempt + 1))
        raise ShardUnavailable(shard, "its owner changed while a job ran; retry")

    def owns(self, shard: int) -> bool:
        """Whether this node owns the shard and trusts its lease now."""
        try:
            self.node.folder(shard)
        except NotOwner:
            return False
        return True

    async def export_elsewhere(self, file: ShardFile, user_id: str) -> BinaryIO | None:
        """A user's export spooled by the owner of its shard, caught up with the stream as of
        now, in a file of this node's; None when nothing is kept for the user."""
        target = await self.stream_head()
        for attempt in range(3):
            owner = self.node.leases.owners.get(file.index) or await self.node.leases.owner(file.index)
            if owner is None:
                raise ShardUnavailable(file.index, "no live node owns it")
            if owner.node == self.config.node_id:
                raise ShardUnavailable(file.index, "this node takes it over; retry")
            try:
                status, body = await self.peers.post(
                    owner.url, EXPORT_PATH, codec.dumps((file.site, file.index, user_id, target)),
                    OUTCOME_SECONDS)
            except PeerError as error:
                raise ShardUnavailable(file.index,
                                       f"its owner {owner.node} does not answer ({error})") from None
            if status == 200:
                exported = codec.loads(body)
                return None if exported is None else await self.pool.run(_in_file, self.layout, exported)
            if status != 409:
                raise ShardUnavailable(file.index, f"its owner {owner.node} answered {status}")
            await self.node.leases.owner(file.index)
            await asyncio.sleep(0.2 * (attempt + 1))
        raise ShardUnavailable(file.index, "its owner changed while it was asked; retry")

    async def export_owned(self, site: int, shard: int, user_id: str, target: int) -> bytes | None:
        """On the owner: the user's export (its bytes), caught up to `target`."""
        await self.node.caught_up(shard, target)
        file = self.shards.files(site)[shard]
        spooled = await self.pool.run(export.spool_export, self, file, user_id)
        if spooled is None:
            return None
        with spooled:
            return await self.pool.run(spooled.read)

    async def outcome_owned(self, shard: int, ticket: str, seq: int) -> tuple[bool, Any]:
        """On the owner: the outcome of the job at stream position `seq`, once folded."""
        await self.node.caught_up(shard, seq)
        return self.node.outcomes.take(ticket)

    async def run_everywhere(self, work_for: Callable[[ShardFile], Callable[[apsw.Connection], int]],
                             again: Callable[[int], bool] = lambda _count: False) -> int:
        total = 0
        pending = self.live_files()
        while pending:
            counts = await gather_all([self.shards.submit(file, work_for(file)) for file in pending])
            total += sum(counts)
            pending = [file for file, count in zip(pending, counts) if again(count)]
        return total

    def live_files(self) -> list[ShardFile]:
        """The files of the shards this node owns now."""
        return [file for shard in sorted(self.node.owned) for file in self.live_files_of(shard)]

    async def caught_up(self, files: list[ShardFile]) -> None:
        target = await self.stream_head()
        for file in files:
            await self._owned_caught_up(file.index, target)

    async def _owned_caught_up(self, shard: int, target: int) -> None:
        try:
            await self.node.caught_up(shard, target)
        except NotOwner:
            raise ShardUnavailable(shard, "owned by another node; ask it") from None

    async def read(self, file: ShardFile, query: Callable[..., T], *args: Any) -> T:
        return (await self.fan_out.read(file.site, [file.index], query, args))[0]

    async def read_each(self, site: int, query: Callable[..., T], *args: Any) -> list[T]:
        return await self.fan_out.read(site, list(range(self.shard_count)), query, args)

    async def read_with_tail(self, file: ShardFile, query: Callable[..., T], *args: Any) -> T:
        """The owner's files are read caught up to the stream's head: their tail is empty."""
        return await self.read(file, without_tail, query, *args)

    async def read_each_with_tail(self, site: int, query: Callable[..., T], *args: Any) -> list[T]:
        return await self.read_each(site, without_tail, query, *args)

    async def read_owned(self, site: int, shards: list[int], query: Callable[..., Any], args: tuple,
                         target: int) -> list:
        """On the owner: `query` on its files of `shards`, each caught up to `target`."""
        await asyncio.gather(*(self.node.caught_up(shard, target) for shard in shards))
        files = self.shards.files(site)
        return await self.shards.read_each([files[shard] for shard in shards], query, *args)

    def snapshot(self, file: ShardFile) -> apsw.Connection:
        self.node.folder(file.index)  # only the owner's files are current
        return super().snapshot(file)

    async def tail(self, site: int | None, after: int, limit: int, user_id: str | None = None,
                   event: str | None = None) -> tuple[list[tuple], int]:
        """The stream's events after position `after` (of a site, a user, an event), as the
        log's tail gives them: (seq, shard key, userId, sessionId, timestamp, event, data, eventId)."""
        rows: list[tuple] = []
        at = after
        for _ in range(TAIL_MESSAGES):
            try:
                found = await self.jet.js.get_msg(STREAM, seq=at + 1, subject=jetstream.SUBJECTS, next=True)
            except nats.js.errors.NotFoundError:
                break
            except (TimeoutError, nats.errors.Error, nats.js.errors.Error):
                break
            at = found.seq or at + 1
            message = messages.decode(found.data or b"")
            if isinstance(message, messages.Events):
                rows += [(at, row_site * self.shard_count + self.shard_of(row.userId), row.userId,
                          row.sessionId, row.timestamp, row.event, row.data, row.eventId)
                         for row_site, row in messages.movements(message)
                         if (site is None or row_site == site) and (user_id is None or row.userId == user_id)
                         and (event is None or row.event == event)]
            if len(rows) >= limit:
                break
        self._head = max(self._head, at)
        return rows, at

    async def forget_logged(self, file: ShardFile, user_id: str, upto: int) -> int:
        return 0

    async def forget_site(self, site: int) -> None:
        self.shards.forget_site(site)

    def backlog(self) -> dict[int, tuple[int, float]]:
        return {}

    async def write_registry(self, change: Callable[..., T], *args: Any) -> T:
        return await self.sync.write(change, *args)

    async def drain(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.node.stop()
        await self.sync.stop()
        self.peers.close()
        try:
            await self.jet.close()
        except (TimeoutError, nats.errors.Error):
            pass
        await super().drain()


def _in_file(layout: Layout, exported: bytes) -> BinaryIO:
    """An export received from its owner, in an anonymous file where exports are spooled."""
    directory = export.spool_dir(layout.data_dir)
    directory.mkdir(parents=True, exist_ok=True)
    spooled = tempfile.TemporaryFile(dir=directory)
    try:
        spooled.write(exported)
        spooled.seek(0)
    except OSError as error:
        spooled.close()
        raise export.SpoolUnwritable(str(error)) from error
    return spooled
