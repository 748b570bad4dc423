"""The shard store: every shard's writer and reader connections behind one object.

It knows how to run a job on a shard, or on every shard, and nothing of what
the jobs do: ingest, the lifecycle jobs and the analytics bring their own.

Writes go to a shard's group-commit writer; reads run on a thread pool with
connections of their own (one per thread and shard), so in WAL mode a reader
never waits for the writer.
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Callable, TypeVar

import apsw
from starlette.concurrency import run_in_threadpool

from tracker.storage import connections
from tracker.storage import manifest
from tracker.storage import migrations
from tracker.config import Config
from tracker.storage.group_commit import CommitStats, ShardWriter

T = TypeVar("T")

# Threads answering one all-shards read in parallel (apsw releases the GIL
# inside SQLite, so they overlap on every core).
FAN_OUT_THREADS = 4


# What SQLite raises when a shard's file cannot be opened or read (gone, disk
# full, damaged, locked for too long), as opposed to a mistake in a query.
UNREADABLE = (apsw.CantOpenError, apsw.IOError, apsw.FullError, apsw.CorruptError,
              apsw.NotADBError, apsw.BusyError)


class ShardUnreadable(Exception):
    """A read could not open or read a shard's file."""

    def __init__(self, shard: int, cause: BaseException):
        super().__init__(f"shard {shard}: {cause}")
        self.shard = shard
        self.cause = cause


@dataclass(frozen=True)
class Layout:
    """The data directory as prepared at start-up: shard count, schema version, shard paths."""

    data_dir: Path
    shard_count: int
    schema_version: int
    paths: list[Path]


def prepare(config: Config) -> Layout:
    """Check or create the data directory and bring every shard file to the latest schema."""
    manifest.ensure_layout(config.data_dir, config.shards)
    paths = manifest.shard_paths(config.data_dir, config.shards)
    for path in paths:
        connections.create_or_upgrade(path)
    return Layout(config.data_dir, config.shards, migrations.LATEST_VERSION, paths)


class ReaderPool:
    """Read-only connections, one per (thread, shard), opened on first use."""

    def __init__(self, paths: list[Path]):
        self._paths = paths
        self._local = threading.local()
        self._opened: list[apsw.Connection] = []
        self._lock = threading.Lock()

    def connection(self, index: int) -> apsw.Connection:
        conns = getattr(self._local, "conns", None)
        if conns is None:
            conns = self._local.conns = {}
        conn = conns.get(index)
        if conn is None:
            conn = conns[index] = connections.connect(self._paths[index])
            with self._lock:
                self._opened.append(conn)
        return conn

    def forget(self, index: int) -> None:
        """Close this thread's connection to shard `index`, so the next read opens it afresh."""
        conn = getattr(self._local, "conns", {}).pop(index, None)
        if conn is not None:
            with self._lock:
                self._opened.remove(conn)
            conn.close()

    def close(self) -> None:
        with self._lock:
            for conn in self._opened:
                conn.close()
            self._opened.clear()


class Store:
    """Every shard of the data directory: a group-commit writer and reader connections each.

    Writes are jobs (functions of a connection) run in a shard's write
    transaction; reads are queries run on a thread pool, on one shard, on
    every shard in turn, or on every shard at once.
    """

    def __init__(
        self,
        layout: Layout,
        config: Config,
        on_commit: Callable[[CommitStats], None] | None = None,
    ):
        loop = asyncio.get_running_loop()
        self.layout = layout
        self.shard_count = layout.shard_count
        self.writers = [
            ShardWriter(i, path, config.sync, config.queue_limit, loop, on_commit)
            for i, path in enumerate(layout.paths)
        ]
        self.readers = ReaderPool(layout.paths)
        self._fan_out = ThreadPoolExecutor(FAN_OUT_THREADS, thread_name_prefix="shard-reader")

    def shard_of(self, user_id: str) -> int:
        return manifest.shard_of(user_id, self.shard_count)

    def submit(self, index: int, work: Callable[[apsw.Connection], T], weight: int = 1) -> asyncio.Future:
        """Queue a write job on shard `index`'s writer; the future resolves after its commit."""
        return self.writers[index].submit(work, weight)

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

    def snapshot(self, index: int) -> apsw.Connection:
        """A new read-only connection to shard `index` inside a read transaction, so that
        every read on it sees one moment; the caller closes it."""
        try:
            return connections.connect(self.layout.paths[index], connections.Role.SNAPSHOT)
        except UNREADABLE as error:
            raise ShardUnreadable(index, error) from error

    async def read(self, index: int, query: Callable[..., T], *args: Any) -> T:
        """Run `query(connection, *args)` on a reader connection of shard `index`."""
        return await run_in_threadpool(self._read_now, index, query, *args)

    async def read_all(self, query: Callable[..., T], *args: Any) -> list[T]:
        """Run `query` on every shard, one thread for the whole sweep."""
        def sweep() -> list[T]:
            return [self._read_now(i, query, *args) for i in range(self.shard_count)]

        return await run_in_threadpool(sweep)

    async def read_each(self, query: Callable[..., T], *args: Any) -> list[T]:
        """Run `query` on every shard at once, on the fan-out threads; results in shard order."""
        loop = asyncio.get_running_loop()
        return await asyncio.gather(*(
            loop.run_in_executor(self._fan_out, partial(self._read_now, i, query, *args))
            for i in range(self.shard_count)
        ))

    def _read_now(self, index: int, query: Callable[..., T], *args: Any) -> T:
        try:
            return query(self.readers.connection(index), *args)
        except UNREADABLE as error:
            self.readers.forget(index)
            raise ShardUnreadable(index, error) from error

    def close(self) -> None:
        """Commit everything queued, stop the writers and close every connection."""
        for writer in self.writers:
            writer.stop()
        self._fan_out.shutdown()
        self.readers.close()


async def gather_all(futures: list[asyncio.Future]) -> list:
    """Wait for every future; then raise the first failure, if any."""
    results = await asyncio.gather(*futures, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results
