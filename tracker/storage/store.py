"""The store: the ingest log in front of every site's shards, as the rest of the service sees it.

Ingest appends to the log (`ingest_log.py`) and is acknowledged once that
commit is durable; the folding process applies the log to each shard file in
large batches, and every write job and read first folds its files up to the
log's head as it was when it began (`following.py`), so nothing acknowledged
is ever missing from what they see; a read that can count the log's rows
itself reads the files as folded plus their unfolded tail instead, and
waits for no fold (`tail.py`). The files' writers and reads are
`shards.py`'s; which sites exist is the registry's (`registry.py`). The store
runs jobs on one file or every file and knows nothing of what they do:
ingest, the lifecycle jobs and the analytics bring their own, and the caller
says how a batch of movements is applied.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import apsw

from tracker.config import Config
from tracker.storage import fold, log, manifest, migrations, registry
from tracker.storage.following import Follower
from tracker.storage.group_commit import CommitStats
from tracker.storage.ingest_log import IngestLog
from tracker.storage.log import LogFile
from tracker.storage.read_pool import ReadPool
from tracker.storage.registry import RegistryFile
from tracker.storage.rows import MovementRow
from tracker.storage.shard_file import ShardFile
from tracker.storage.shards import Shards, files_of
from tracker.storage.tail import Place, as_logged, read_with_tail

T = TypeVar("T")

logger = logging.getLogger("tracker.fold")


@dataclass(frozen=True)
class Layout:
    """The data directory as prepared at start-up."""

    data_dir: Path
    shard_count: int
    schema_version: int

    @property
    def log_path(self) -> Path:
        return log.path_in(self.data_dir)

    @property
    def registry_path(self) -> Path:
        return registry.path_in(self.data_dir)

    def log_file(self, sync: str = "full") -> LogFile:
        return LogFile(self.log_path, sync)

    def registry_file(self, sync: str = "full") -> RegistryFile:
        return RegistryFile(self.registry_path, sync)

    def shard_files(self, site: int, sync: str = "full") -> list[ShardFile]:
        return files_of(self.data_dir, self.shard_count, site, sync)


def prepare(config: Config, functions: migrations.Functions | None = None) -> Layout:
    """Check or create the data directory, the site registry, every site's shard files and the
    log, each at the latest schema (`functions`: the SQL functions migrations call, see
    `migrations.apply`)."""
    manifest.ensure_layout(config.data_dir, config.shards)
    layout = Layout(config.data_dir, config.shards, migrations.LATEST_VERSION)
    sites = layout.registry_file()
    sites.create(int(time.time() * 1000))
    floor = 0
    for site in sites.sites().all:
        floor = max(floor, create_site_files(layout, site.number, functions))
    sites.close()
    layout.log_file().create(floor)
    return layout


def create_site_files(layout: Layout, site: int, functions: migrations.Functions | None = None) -> int:
    """Create (or upgrade) a site's shard files; returns the highest log position they hold."""
    manifest.site_dir(layout.data_dir, site).mkdir(parents=True, exist_ok=True)
    shards = layout.shard_files(site)
    for shard in shards:
        shard.create_or_upgrade(functions)
    floor = max(shard.position() for shard in shards)
    for shard in shards:
        shard.close()
    return floor


class Unavailable(Exception):
    """What the work needs is out of reach for a moment (in cluster mode: a shard between
    owners, the stream not answering); the same work succeeds later."""


class Store:
    """Every site's shards behind the ingest log."""

    def __init__(
        self,
        layout: Layout,
        config: Config,
        apply: fold.Apply,
        on_commit: Callable[[CommitStats], None] | None = None,
        on_fold: Callable[[fold.Folded], None] | None = None,
        on_read_wait: Callable[[float], None] | None = None,
        fold_in_background: bool = True,
        follow_log: bool = True,
        place: Place = as_logged,
    ):
        loop = asyncio.get_running_loop()
        self.layout = layout
        self.shard_count = layout.shard_count
        self.pool = ReadPool()
        self.registry = layout.registry_file(config.sync)
        self.shards = Shards(layout.data_dir, layout.shard_count, config.sync, self.pool,
                             config.queue_limit, loop, on_commit)
        self.log = IngestLog(layout.log_file(config.sync), self.shards.by_key, self.pool,
                             config.queue_limit, loop, on_commit)
        self._place = place
        self.follower = Follower(self.shards, self.log, self.live_files, apply, config.max_backlog,
                                 on_fold, on_read_wait, config.max_backlog_seconds)
        if follow_log:  # a cluster node (tracker/cluster/store.py) follows a stream instead
            self.follower.start(fold_in_background)

    async def write_registry(self, change: Callable[..., T], *args: Any) -> T:
        """Change the site registry: `change(*args)` on a read thread (in cluster mode, for
        every node)."""
        return await self.pool.run(change, *args)

    def live_sites(self) -> list[int]:
        """The numbers of the sites that are not being deleted (any thread)."""
        return [site.number for site in self.registry.sites().live()]

    def files(self, site: int) -> list[ShardFile]:
        return self.shards.files(site)

    def live_files(self) -> list[ShardFile]:
        """Every shard file of every live site (any thread)."""
        return self.shards.live(self.registry)

    def shard_of(self, user_id: str) -> int:
        return manifest.shard_of(user_id, self.shard_count)

    def file_of(self, site: int, user_id: str) -> ShardFile:
        """The shard file holding a user of a site."""
        return self.shards.files(site)[self.shard_of(user_id)]

    def head(self) -> int:
        """The newest position in the log, appended by any process."""
        return self.log.head()

    async def append(self, rows: list[tuple[int, MovementRow]], context: str | None = None) -> int:
        """Append one request's (site, movement) pairs and context to the log, whole or not at
        all; returns how many were new.

        Answers only after the commit is durable. At the backlog's bound it
        waits a moment for folds to make room, then refuses (QueueFull) rather
        than let reads wait ever longer for folds.
        """
        by_file = [(self.file_of(site, row.userId), row) for site, row in rows]
        await self.follower.admit({file for file, _row in by_file}, len(by_file))
        try:
            return await self.log.append([(file.key, row) for file, row in by_file], context)
        finally:
            self.follower.appended(len(by_file))

    def submit(self, file: ShardFile, work: Callable[[apsw.Connection], T],
               weight: int = 1) -> asyncio.Future:
        """Queue a write job on `file`, run once the file has folded everything acknowledged so
        far; the future resolves after its commit."""
        return self.follower.submit(file, work, weight)

    async def run_everywhere(self, work_for: Callable[[ShardFile], Callable[[apsw.Connection], int]],
                             again: Callable[[int], bool] = lambda _count: False) -> int:
        """Run a write job on every file of every live site at once, and again where
        `again(count)` says. Returns the sum of the counts the jobs returned."""
        total = 0
        pending = self.live_files()
        while pending:
            counts = await gather_all([self.submit(file, work_for(file)) for file in pending])
            total += sum(counts)
            pending = [file for file, count in zip(pending, counts) if again(count)]
        return total

    async def caught_up(self, files: list[ShardFile]) -> None:
        """Return once the files have folded every row appended before the call."""
        await self.follower.caught_up(files)

    async def read(self, file: ShardFile, query: Callable[..., T], *args: Any) -> T:
        """`query(connection, *args)` on `file`, once it has caught up."""
        await self.follower.caught_up([file])
        return await self.shards.read(file, query, *args)

    async def read_each(self, site: int, query: Callable[..., T], *args: Any) -> list[T]:
        """`query` on every file of a site at once, once they have caught up; results in shard
        order."""
        files = self.shards.files(site)
        await self.follower.caught_up(files)
        return await self.shards.read_each(files, query, *args)

    async def read_with_tail(self, file: ShardFile, query: Callable[..., T], *args: Any) -> T:
        """`query(connection, unfolded, *args)` on `file` at once, without waiting for a fold:
        `unfolded(connection)` returns the file's log rows that connection's transaction does
        not hold yet, up to the log's head (at least the head when the call began), as a fold
        would store them (`tail.py`)."""
        return await self.pool.run(read_with_tail, file, self.log.file, self._place, query,
                                   *args)

    async def read_each_with_tail(self, site: int, query: Callable[..., T], *args: Any) -> list[T]:
        """`read_with_tail` on every file of a site at once; results in shard order."""
        return await asyncio.gather(*(self.read_with_tail(file, query, *args)
                                      for file in self.shards.files(site)))

    def snapshot(self, file: ShardFile) -> apsw.Connection:
        return self.shards.snapshot(file)

    async def tail(self, site: int | None, after: int, limit: int, user_id: str | None = None,
                   event: str | None = None) -> tuple[list[tuple], int]:
        """A site's logged rows after position `after`, or every site's (ingest_log.tail)."""
        keys = range(0, 2**62) if site is None else self.keys_of(site)
        return await self.log.tail(after, limit, keys, user_id, event)

    def keys_of(self, site: int) -> range:
        """The log's shard keys of a site's files."""
        return range(site * self.shard_count, (site + 1) * self.shard_count)

    async def forget_logged(self, file: ShardFile, user_id: str, upto: int) -> int:
        return await self.log.forget_user(file.key, user_id, upto)

    async def forget_site(self, site: int) -> None:
        """Stop using a deleted site's files and delete its rows from the log."""
        self.shards.forget_site(site)
        keys = self.keys_of(site)
        await self.log.writer.forget_shards(keys.start, keys.stop)

    def backlog(self) -> dict[int, tuple[int, float]]:
        """Per shard file behind the log (by key), (events unfolded, seconds since the oldest
        was appended)."""
        return self.follower.backlog()

    async def drain(self) -> None:
        """Stop folding in the background, commit every queued append, then fold it all.

        The log is durable either way; folding before exit leaves the shard
        files complete for tools that read them directly.
        """
        await self.follower.stop()
        await self.pool.run(self.log.stop)
        try:
            await self.follower.caught_up(self.live_files())
        except Exception as error:  # the log keeps every row; the next start folds it
            logger.warning("could not fold before stopping: %s", error)

    def close(self) -> None:
        """Commit everything queued, stop the writers and close every connection."""
        self.follower.stop_folding()
        self.log.stop()
        self.shards.stop()
        self.pool.close()
        self.shards.close()
        self.log.close()
        self.registry.close()


async def gather_all(futures: list[asyncio.Future]) -> list:
    """Wait for every future; then raise the first failure, if any."""
    results = await asyncio.gather(*futures, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results
