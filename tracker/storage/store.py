"""The store: the ingest log in front of every shard, as the rest of the service sees it.

Ingest appends to the log (`ingest_log.py`) and is acknowledged once that
commit is durable; the folding process applies the log to each shard in
large batches, and every write job and read first folds its shards up to
the log's head as it was when it began (`following.py`), so nothing
acknowledged is ever missing from what they see. The shards' writers and
reads are `shards.py`'s. The store runs jobs on one shard or every shard and
knows nothing of what they do: ingest, the lifecycle jobs and the analytics
bring their own, and the caller says how a batch of movements is applied.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import apsw

from tracker.config import Config
from tracker.storage import fold, log, manifest, migrations
from tracker.storage.following import Follower
from tracker.storage.group_commit import CommitStats
from tracker.storage.ingest_log import IngestLog
from tracker.storage.log import LogFile
from tracker.storage.read_pool import ReadPool
from tracker.storage.rows import MovementRow
from tracker.storage.shard_file import ShardFile
from tracker.storage.shards import Shards

T = TypeVar("T")

logger = logging.getLogger("tracker.fold")


@dataclass(frozen=True)
class Layout:
    """The data directory as prepared at start-up: shard count, schema version, shard paths."""

    data_dir: Path
    shard_count: int
    schema_version: int
    paths: list[Path]
    log_path: Path

    def shard_files(self, sync: str = "full") -> list[ShardFile]:
        return [ShardFile(index, path, sync) for index, path in enumerate(self.paths)]

    def log_file(self, sync: str = "full") -> LogFile:
        return LogFile(self.log_path, sync)


def prepare(config: Config, functions: migrations.Functions | None = None) -> Layout:
    """Check or create the data directory and bring every shard file and the log to the
    latest schema (`functions`: the SQL functions migrations call, see `migrations.apply`)."""
    manifest.ensure_layout(config.data_dir, config.shards)
    paths = manifest.shard_paths(config.data_dir, config.shards)
    layout = Layout(config.data_dir, config.shards, migrations.LATEST_VERSION, paths,
                    log.path_in(config.data_dir))
    shards = layout.shard_files()
    for shard in shards:
        shard.create_or_upgrade(functions)
    floor = max(shard.position() for shard in shards)
    for shard in shards:
        shard.close()
    layout.log_file().create(floor)
    return layout


class Store:
    """Every shard of the data directory behind the ingest log."""

    def __init__(
        self,
        layout: Layout,
        config: Config,
        apply: fold.Apply,
        on_commit: Callable[[CommitStats], None] | None = None,
        on_fold: Callable[[fold.Folded], None] | None = None,
        on_read_wait: Callable[[float], None] | None = None,
        fold_in_background: bool = True,
    ):
        loop = asyncio.get_running_loop()
        self.layout = layout
        self.shard_count = layout.shard_count
        self.pool = ReadPool()
        files = layout.shard_files(config.sync)
        self.shards = Shards(files, self.pool, config.queue_limit, loop, on_commit)
        self.log = IngestLog(layout.log_file(config.sync), files, self.pool, config.queue_limit,
                             loop, on_commit)
        self.follower = Follower(self.shards, self.log, apply, config.max_backlog, on_fold,
                                 on_read_wait)
        self.follower.start(fold_in_background)

    def shard_of(self, user_id: str) -> int:
        return manifest.shard_of(user_id, self.shard_count)

    def head(self) -> int:
        """The newest position in the log, appended by any process."""
        return self.log.head()

    async def append(self, rows: list[MovementRow], context: str | None = None) -> int:
        """Append one request's movements and context to the log, whole or not at all; returns
        how many were new.

        Answers only after the commit is durable. Past the backlog bound it
        refuses (QueueFull) rather than let reads wait ever longer for folds.
        """
        by_shard = [(self.shard_of(row.userId), row) for row in rows]
        self.follower.refuse_when_backlogged({shard for shard, _row in by_shard})
        return await self.log.append(by_shard, context)

    def submit(self, index: int, work: Callable[[apsw.Connection], T], weight: int = 1) -> asyncio.Future:
        """Queue a write job on shard `index`, run once the shard has folded everything
        acknowledged so far; the future resolves after its commit."""
        return self.follower.submit(index, work, weight)

    async def run_everywhere(self, work_for: Callable[[int], Callable[[apsw.Connection], int]],
                             again: Callable[[int], bool] = lambda _count: False) -> int:
        """Run a write job on every shard at once, and again where `again(count)` says.

        Returns the sum of the counts the jobs returned.
        """
        total = 0
        pending = list(range(self.shard_count))
        while pending:
            counts = await gather_all([self.submit(i, work_for(i)) for i in pending])
            total += sum(counts)
            pending = [i for i, count in zip(pending, counts) if again(count)]
        return total

    async def caught_up(self, shards: list[int] | range) -> None:
        """Return once the shards have folded every row appended before the call."""
        await self.follower.caught_up(shards)

    async def read(self, index: int, query: Callable[..., T], *args: Any) -> T:
        """`query(connection, *args)` on shard `index`, once it has caught up."""
        await self.follower.caught_up([index])
        return await self.shards.read(index, query, *args)

    async def read_each(self, query: Callable[..., T], *args: Any) -> list[T]:
        """`query` on every shard at once, once they have caught up; results in shard order."""
        await self.follower.caught_up(range(self.shard_count))
        return await self.shards.read_each(query, *args)

    def snapshot(self, index: int) -> apsw.Connection:
        return self.shards.snapshot(index)

    async def tail(self, after: int, limit: int, user_id: str | None = None,
                   event: str | None = None) -> tuple[list[tuple], int]:
        return await self.log.tail(after, limit, user_id, event)

    async def forget_logged(self, user_id: str, upto: int) -> int:
        return await self.log.forget_user(user_id, upto)

    def backlog(self) -> dict[int, tuple[int, float]]:
        """Per shard behind the log, (events unfolded, seconds since the oldest was appended)."""
        return self.follower.backlog()

    async def drain(self) -> None:
        """Stop folding in the background, commit every queued append, then fold it all.

        The log is durable either way; folding before exit leaves the shard
        files complete for tools that read them directly.
        """
        await self.follower.stop()
        await self.pool.run(self.log.stop)
        try:
            await self.follower.caught_up(range(self.shard_count))
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


async def gather_all(futures: list[asyncio.Future]) -> list:
    """Wait for every future; then raise the first failure, if any."""
    results = await asyncio.gather(*futures, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results
