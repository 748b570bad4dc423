"""The shard store: every shard's writer and reader connections behind one object.

Writes go to a shard's group-commit writer; reads run on a thread pool with
connections of their own (one per thread and shard), so in WAL mode a reader
never waits for the writer.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Callable, Iterable, TypeVar

import apsw
from starlette.concurrency import run_in_threadpool

from tracker.ingest import fold
from tracker.ingest import log
from tracker.ingest import writes
from tracker.ingest.appender import LogWriter
from tracker.lifecycle import archive
from tracker.lifecycle import user_data
from tracker.storage import connections
from tracker.storage import manifest
from tracker.storage import migrations
from tracker.config import Config
from tracker.storage.group_commit import CommitStats, QueueFull, ShardWriter

T = TypeVar("T")

logger = logging.getLogger("tracker.fold")

# The background folder looks for unfolded rows this often; a read folds on
# demand whatever it finds left.
FOLD_INTERVAL_SECONDS = 0.1

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
    log_path: Path


def prepare(config: Config) -> Layout:
    """Check or create the data directory and bring every shard file to the latest schema."""
    manifest.ensure_layout(config.data_dir, config.shards)
    paths = manifest.shard_paths(config.data_dir, config.shards)
    for path in paths:
        connections.create_or_upgrade(path)
    log_path = log.path_in(config.data_dir)
    floor = max(connections.read_once(path, fold.position) for path in paths)
    log.create(log_path, floor)
    return Layout(config.data_dir, config.shards, migrations.LATEST_VERSION, paths, log_path)


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
            conn = conns[index] = connections.open_connection(self._paths[index])
            conn.execute("PRAGMA query_only=1")
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
        on_fold: Callable[[fold.Folded], None] | None = None,
        on_read_wait: Callable[[float], None] | None = None,
    ):
        loop = asyncio.get_running_loop()
        self.layout = layout
        self.shard_count = layout.shard_count
        self.writers = [
            ShardWriter(i, path, config.sync, config.queue_limit, loop, on_commit)
            for i, path in enumerate(layout.paths)
        ]
        self.log_writer = LogWriter(layout.log_path, layout.paths, config.sync,
                                    config.queue_limit, loop, on_commit)
        self.log_reader = fold.LogReader(layout.log_path)
        self._head_conn = connections.open_connection(layout.log_path, readonly=True)
        self.folded = [0] * self.shard_count  # positions this process knows each shard reached
        self._acknowledged = 0
        self._max_backlog = config.max_backlog
        self._on_fold = on_fold or (lambda folded: None)
        self._on_read_wait = on_read_wait or (lambda seconds: None)
        self.readers = ReaderPool(layout.paths)
        self._fan_out = ThreadPoolExecutor(FAN_OUT_THREADS, thread_name_prefix="shard-reader")
        self._wake_folder = asyncio.Event()
        self._folding = True
        self._folder = asyncio.create_task(self._fold_loop())

    def shard_of(self, user_id: str) -> int:
        return manifest.shard_of(user_id, self.shard_count)

    def head(self) -> int:
        """The newest position in the log, appended by any process."""
        return log.head_of(self._head_conn)

    def backlog(self) -> int:
        """Rows appended and not yet folded by every shard, as far as this process knows."""
        return self.head() - min(self.folded)

    def unfolded(self) -> dict[int, tuple[int, float]]:
        """Per shard behind the log, (events unfolded, seconds since the oldest was appended),
        read from the files (any thread)."""
        now = time.time()
        found = {}
        conn = connections.open_connection(self.layout.log_path, readonly=True)
        try:
            for index in range(self.shard_count):
                at = self.readers.connection(index).execute(fold.POSITION).fetchall()[0][0]
                count, oldest = log.backlog(conn, index, at)
                if count:
                    found[index] = (count, max(0.0, now - oldest / 1000))
        finally:
            conn.close()
        return found

    async def track(self, rows: list[writes.Row]) -> writes.Stored:
        """Append movements to the log; returns how many were new (not duplicates).

        Sessions and rollups follow when the rows are folded.
        """
        if self._max_backlog and self.backlog() >= self._max_backlog:
            self._wake_folder.set()
            raise QueueFull()
        appended = await self.log_writer.append([(self.shard_of(row.userId), row) for row in rows])
        return writes.Stored(appended, 0)

    async def open_session(
        self, user_id: str, session_id: str, device_info: str | None, now: int
    ) -> tuple[tuple, bool]:
        work = partial(
            writes.open_session, user_id=user_id, session_id=session_id,
            device_info=device_info, now=now,
        )
        index = self.shard_of(user_id)
        return await self.writers[index].submit(self._after_fold(index, work))

    def _after_fold(self, index: int, work: Callable[[apsw.Connection], T]) -> Callable:
        """`work` as a job that first folds the shard up to the log's present head."""
        return partial(fold.then, shard=index, reader=self.log_reader, upto=self.head(),
                       work=work, on_fold=self._folds_done)

    def _folds_done(self, folds: list[fold.Folded]) -> None:
        for folded in folds:
            self.folded[folded.shard] = max(self.folded[folded.shard], folded.position)
            if folded.rows:
                self._on_fold(folded)

    async def caught_up(self, shards: Iterable[int]) -> None:
        """Return once the shards have folded every row appended before the call (by any process)."""
        head = self.head()
        behind = [i for i in shards if self.folded[i] < head]
        if not behind:
            return
        started = time.perf_counter()
        results = await _all([
            self.writers[i].submit(partial(fold.fold_to, shard=i, reader=self.log_reader, upto=head))
            for i in behind])
        for folds in results:
            self._folds_done(folds)
        if any(f.rows for folds in results for f in folds):
            self._on_read_wait(time.perf_counter() - started)

    async def fold_some(self) -> int:
        """One fold (of at most fold.FOLD_ROWS rows) on every shard behind the head, then
        acknowledge what all have folded; returns the rows folded."""
        head = self.head()
        behind = [i for i in range(self.shard_count) if self.folded[i] < head]
        results = await asyncio.gather(*(
            self.writers[i].submit(partial(fold.fold_once, shard=i, reader=self.log_reader,
                                           upto=head))
            for i in behind), return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                logger.warning("fold failed: %s", result)
            else:
                self._folds_done([result])
        await self._acknowledge()
        return sum(r.rows for r in results if not isinstance(r, BaseException))

    async def _acknowledge(self) -> None:
        """Delete log rows every shard has folded, and forget their eventIds."""
        everywhere = min(self.folded)
        if everywhere <= self._acknowledged:
            return
        await self.log_writer.submit(partial(log.acknowledge, upto=everywhere))
        self._acknowledged = everywhere
        self.log_writer.unfolded.prune_below(everywhere)

    async def _fold_loop(self) -> None:
        while self._folding:
            try:
                await asyncio.wait_for(self._wake_folder.wait(), FOLD_INTERVAL_SECONDS)
            except asyncio.TimeoutError:
                pass
            self._wake_folder.clear()
            try:
                while await self.fold_some() and self._folding:
                    pass
            except Exception as error:  # the next round retries; reads fold on demand anyway
                logger.warning("folding failed: %s", error)

    async def expire_sessions(self, cutoff: int) -> int:
        """Delete every session idle since before `cutoff`, in every shard."""
        work = partial(writes.expire_sessions, cutoff=cutoff, limit=EXPIRE_CHUNK)
        return await self._drain(lambda index: self._after_fold(index, work),
                                 lambda count: count == EXPIRE_CHUNK)

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
            lambda index: self._after_fold(
                index, partial(archive.archive_some, shard=index, before=before)),
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
            erased = await self.writers[index].submit(self._after_fold(index, work), ERASE_CHUNK)
            archive.remove_files(self.layout.data_dir, erased.stale_files)
            movements += erased.movements
            if erased.done:
                return movements, erased.sessions

    def snapshot(self, index: int) -> apsw.Connection:
        """A new read-only connection to shard `index` inside a read transaction, so that
        every read on it sees one moment; the caller closes it."""
        conn = connections.open_connection(self.layout.paths[index])
        conn.execute("PRAGMA query_only=1")
        conn.execute("BEGIN")
        conn.execute("SELECT count(*) FROM schema_migrations").fetchall()  # the snapshot starts here
        return conn

    async def read(self, index: int, query: Callable[..., T], *args: Any) -> T:
        """Run `query(connection, *args)` on a reader connection of shard `index`."""
        await self.caught_up([index])
        return await run_in_threadpool(lambda: query(self.readers.connection(index), *args))

    async def read_all(self, query: Callable[..., T], *args: Any) -> list[T]:
        """Run `query` on every shard, one thread for the whole sweep."""
        await self.caught_up(range(self.shard_count))
        def sweep() -> list[T]:
            return [query(self.readers.connection(i), *args) for i in range(self.shard_count)]

        return await run_in_threadpool(sweep)

    async def read_each(self, query: Callable[..., T], *args: Any) -> list[T]:
        """Run `query` on every shard at once, on the fan-out threads; results in shard order."""
        await self.caught_up(range(self.shard_count))
        loop = asyncio.get_running_loop()
        return await asyncio.gather(*(
            loop.run_in_executor(self._fan_out, partial(self._read_now, i, query, *args))
            for i in range(self.shard_count)
        ))

    def _read_now(self, index: int, query: Callable[..., T], *args: Any) -> T:
        return query(self.readers.connection(index), *args)

    async def drain(self) -> None:
        """Stop folding in the background, commit every queued append, then fold it all.

        The log is durable either way; folding before exit leaves the shard
        files complete for tools that read them directly.
        """
        self._folding = False
        self._wake_folder.set()
        await self._folder
        await run_in_threadpool(self.log_writer.stop)
        try:
            await self.caught_up(range(self.shard_count))
        except Exception as error:  # the log keeps every row; the next start folds it
            logger.warning("could not fold before stopping: %s", error)

    def close(self) -> None:
        """Commit everything queued, stop the writers and close every connection."""
        self.log_writer.stop()
        for writer in self.writers:
            writer.stop()
        self._fan_out.shutdown()
        self.readers.close()
        self.log_reader.close()
        self._head_conn.close()


async def _all(futures: list[asyncio.Future]) -> list:
    """Wait for every future; then raise the first failure, if any."""
    results = await asyncio.gather(*futures, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results
