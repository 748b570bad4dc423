"""The shard store: every shard's writer and reader connections behind one object.

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

from tracker.ingest import writes
from tracker.lifecycle import archive
from tracker.lifecycle import user_data
from tracker.storage import connections
from tracker.storage import manifest
from tracker.storage import migrations
from tracker.config import Config
from tracker.storage.group_commit import CommitStats, ShardWriter

T = TypeVar("T")

# The alarm loop deletes at most this many sessions per transaction, so that
# a large backlog never holds a shard's lock for long.
EXPIRE_CHUNK = 5_000

# Erasing a user takes at most this many of its movements per job (see tracker/lifecycle/user_data.py).
ERASE_CHUNK = 2_000

# Threads answering one all-shards read in parallel (apsw releases the GIL
# inside SQLite, so they overlap on every core).
FAN_OUT_THREADS = 4


@dataclass(frozen=True)
class Layout:
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

    def close(self) -> None:
        with self._lock:
            for conn in self._opened:
                conn.close()
            self._opened.clear()


class Store:
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

    async def track(self, rows: list[writes.Row]) -> writes.Stored:
        """Store movements shard by shard; returns how many were new (not duplicates) and sessions made."""
        by_shard: dict[int, list[writes.Row]] = {}
        for row in rows:
            by_shard.setdefault(self.shard_of(row.userId), []).append(row)
        futures = [
            self.writers[index].submit(partial(writes.store_movements, rows=part), len(part))
            for index, part in by_shard.items()
        ]
        parts = await _all(futures)
        return writes.Stored(sum(p.movements for p in parts), sum(p.sessions_created for p in parts))

    async def open_session(
        self, user_id: str, session_id: str, device_info: str | None, now: int
    ) -> tuple[tuple, bool]:
        work = partial(
            writes.open_session, user_id=user_id, session_id=session_id,
            device_info=device_info, now=now,
        )
        return await self.writers[self.shard_of(user_id)].submit(work)

    async def expire_sessions(self, cutoff: int) -> int:
        """Delete every session idle since before `cutoff`, in every shard."""
        work = partial(writes.expire_sessions, cutoff=cutoff, limit=EXPIRE_CHUNK)
        return await self._drain(lambda _index: work, lambda count: count == EXPIRE_CHUNK)

    async def sweep_archives(self) -> int:
        """Delete archive files no shard records (left by a transaction that never committed)."""
        if not (self.layout.data_dir / archive.ARCHIVE_DIR).is_dir():
            return 0
        return sum(await _all([self.writers[i].submit(partial(archive.sweep, shard=i))
                               for i in range(self.shard_count)]))

    async def archive_movements(self, before: int) -> int:
        """Move every movement older than `before` into archive files, in every shard."""
        # Each job archives at most one day's chunk, so a shard is done once a job finds nothing.
        return await self._drain(
            lambda index: partial(archive.archive_some, shard=index, before=before),
            lambda count: count > 0)

    async def _drain(self, work_for: Callable[[int], Callable],
                     again: Callable[[int], bool]) -> int:
        """Run a job on every shard, and again where `again(count)` says; the sum of the counts."""
        total = 0
        pending = list(range(self.shard_count))
        while pending:
            counts = await _all([self.writers[i].submit(work_for(i)) for i in pending])
            total += sum(counts)
            pending = [i for i, count in zip(pending, counts) if again(count)]
        return total

    async def erase_user(self, user_id: str) -> tuple[int, int]:
        """Erase a user's movements (archived ones too), sessions and rollups.

        Returns the (movements, sessions) removed.
        """
        index = self.shard_of(user_id)
        movements = 0
        while True:
            work = partial(user_data.erase_some, shard=index, user_id=user_id, limit=ERASE_CHUNK)
            erased = await self.writers[index].submit(work, ERASE_CHUNK)
            archive.remove_files(self.layout.data_dir, erased.stale_files)
            movements += erased.movements
            if erased.done:
                return movements, erased.sessions

    def snapshot(self, index: int) -> apsw.Connection:
        """A new read-only connection to shard `index` inside a read transaction, so that
        every read on it sees one moment; the caller closes it."""
        return connections.connect(self.layout.paths[index], connections.Role.SNAPSHOT)

    async def read(self, index: int, query: Callable[..., T], *args: Any) -> T:
        """Run `query(connection, *args)` on a reader connection of shard `index`."""
        return await run_in_threadpool(lambda: query(self.readers.connection(index), *args))

    async def read_all(self, query: Callable[..., T], *args: Any) -> list[T]:
        """Run `query` on every shard, one thread for the whole sweep."""
        def sweep() -> list[T]:
            return [query(self.readers.connection(i), *args) for i in range(self.shard_count)]

        return await run_in_threadpool(sweep)

    async def read_each(self, query: Callable[..., T], *args: Any) -> list[T]:
        """Run `query` on every shard at once, on the fan-out threads; results in shard order."""
        loop = asyncio.get_running_loop()
        return await asyncio.gather(*(
            loop.run_in_executor(self._fan_out, partial(self._read_now, i, query, *args))
            for i in range(self.shard_count)
        ))

    def _read_now(self, index: int, query: Callable[..., T], *args: Any) -> T:
        return query(self.readers.connection(index), *args)

    def close(self) -> None:
        """Commit everything queued, stop the writers and close every connection."""
        for writer in self.writers:
            writer.stop()
        self._fan_out.shutdown()
        self.readers.close()


async def _all(futures: list[asyncio.Future]) -> list:
    """Wait for every future; then raise the first failure, if any."""
    results = await asyncio.gather(*futures, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results
