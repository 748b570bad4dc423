"""The store: the ingest log in front of every shard, and each shard's writer and readers.

Ingest appends to the log and is acknowledged once that commit is durable;
a background folder applies the log to each shard in large batches. Every
write job and every read first folds its shards up to the log's head as it
was when the job or read began, so nothing acknowledged is ever missing from
what they see. The store runs jobs on one shard or every shard and knows
nothing of what they do: ingest, the lifecycle jobs and the analytics bring
their own, and the caller says how a batch of movements is applied.

Writes go to a shard's group-commit writer; reads run on a thread pool with
connections of their own (one per thread and shard), so in WAL mode a reader
never waits for the writer.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import apsw
from starlette.concurrency import run_in_threadpool

from tracker.config import Config
from tracker.storage import connections, fold, folding_process, log, manifest, migrations
from tracker.storage.appender import LogWriter
from tracker.storage.connections import UNREADABLE, ShardUnreadable
from tracker.storage.group_commit import CommitStats, QueueFull, ShardWriter
from tracker.storage.rows import MovementRow
from tracker.throttle import Throttled

T = TypeVar("T")

logger = logging.getLogger("tracker.fold")
unread_positions = Throttled(logger)

# How often this process reads the positions the folder reached.
FOLD_INTERVAL_SECONDS = 0.1

# Threads answering one all-shards read in parallel (apsw releases the GIL
# inside SQLite, so they overlap on every core).
FAN_OUT_THREADS = 4


@dataclass(frozen=True)
class Layout:
    """The data directory as prepared at start-up: shard count, schema version, shard paths."""

    data_dir: Path
    shard_count: int
    schema_version: int
    paths: list[Path]
    log_path: Path


def prepare(config: Config, functions: Mapping[str, Callable[..., object]] | None = None) -> Layout:
    """Check or create the data directory and bring every shard file to the latest schema
    (`functions`: the SQL functions migrations call, see `migrations.apply`)."""
    manifest.ensure_layout(config.data_dir, config.shards)
    paths = manifest.shard_paths(config.data_dir, config.shards)
    for path in paths:
        connections.create_or_upgrade(path, functions)
    log_path = log.path_in(config.data_dir)
    floor = max(connections.read_once(path, fold.position) for path in paths)
    log.create(log_path, floor)
    return Layout(config.data_dir, config.shards, migrations.LATEST_VERSION, paths, log_path)


class ReaderPool:
    """Read-only connections, one per (thread, shard), opened on first use.

    Like the writers, a connection is opened afresh when the shard's path
    names another file than the one it has open (moved, replaced, gone): a
    read never answers from a file the service no longer writes.
    """

    def __init__(self, paths: list[Path]):
        self._paths = paths
        self._local = threading.local()
        self._opened: list[apsw.Connection] = []
        self._lock = threading.Lock()

    def connection(self, index: int) -> apsw.Connection:
        conns = getattr(self._local, "conns", None)
        if conns is None:
            conns = self._local.conns = {}
        identity = connections.file_identity(self._paths[index])
        opened = conns.get(index)
        if opened is not None and opened[1] != identity:
            self.forget(index)
            opened = None
        if opened is None:
            conn = connections.connect(self._paths[index])
            opened = conns[index] = (conn, identity)
            with self._lock:
                self._opened.append(conn)
        return opened[0]

    def forget(self, index: int) -> None:
        """Close this thread's connection to shard `index`, so the next read opens it afresh."""
        opened = getattr(self._local, "conns", {}).pop(index, None)
        if opened is not None:
            with self._lock:
                self._opened.remove(opened[0])
            opened[0].close()

    def close(self) -> None:
        with self._lock:
            for conn in self._opened:
                conn.close()
            self._opened.clear()


class Store:
    """Every shard of the data directory behind the ingest log.

    Writes are jobs (functions of a connection) run in a shard's write
    transaction after folding it; reads are queries run on a thread pool, on
    one shard, on every shard in turn, or on every shard at once, after
    folding those shards.
    """

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
        self.writers = [
            ShardWriter(i, path, config.sync, config.queue_limit, loop, on_commit)
            for i, path in enumerate(layout.paths)
        ]
        self.log_writer = LogWriter(layout.log_path, layout.paths, config.sync,
                                    config.queue_limit, loop, on_commit)
        self.log_reader = fold.LogReader(layout.log_path)
        self._apply = apply
        self._head_conn = connections.connect(layout.log_path)
        self._max_backlog = config.max_backlog
        self._sync = config.sync
        self._on_fold = on_fold or (lambda folded: None)
        self._on_read_wait = on_read_wait or (lambda seconds: None)
        self.readers = ReaderPool(layout.paths)
        self._fan_out = ThreadPoolExecutor(FAN_OUT_THREADS, thread_name_prefix="shard-reader")
        self.folded = self._positions()  # what each shard has folded, as far as this process knows
        self._following = True
        self._follower = asyncio.create_task(self._follow_folds())
        # Under `tracker serve` a folding process folds in the background
        # (storage/folding_process.py); an app on its own runs the same folder in a thread.
        self._folder_stop = threading.Event()
        self._folder_thread = None
        if fold_in_background:
            self._folder_thread = threading.Thread(
                target=self._fold_in_background, args=(config.sync,), name="folder", daemon=True)
            self._folder_thread.start()

    def shard_of(self, user_id: str) -> int:
        return manifest.shard_of(user_id, self.shard_count)

    def head(self) -> int:
        """The newest position in the log, appended by any process."""
        return log.head(self._head_conn)

    def behind(self, index: int) -> int:
        """Rows appended since shard `index`'s position, as far as this process knows without a
        query: ingest checks it on the event loop for every request."""
        return self.log_writer.unfolded.seen - self.folded[index]

    def unfolded(self) -> dict[int, tuple[int, float]]:
        """Per shard behind the log, (events unfolded, seconds since the oldest was appended),
        read from the files (any thread)."""
        now = time.time()
        found = {}
        conn = connections.connect(self.layout.log_path)
        try:
            for index in range(self.shard_count):
                try:
                    at = self.readers.connection(index).execute(fold.POSITION).fetchall()[0][0]
                except UNREADABLE:  # a shard that cannot be read now: /readyz names it
                    self.readers.forget(index)
                    continue
                count, oldest = log.backlog(conn, index, at)
                if count:
                    found[index] = (count, max(0.0, now - oldest / 1000))
        finally:
            conn.close()
        return found

    def refuse_when_backlogged(self, shards: Iterable[int] | None = None) -> None:
        """Raise QueueFull when one of `shards` is as far behind the log as the bound allows;
        without `shards` (before a request's body is read), when most shards are.

        A shard that cannot fold (disk full, file gone) so refuses only its own users."""
        if not self._max_backlog:
            return
        if shards is None:
            over = sum(self.behind(i) >= self._max_backlog for i in range(self.shard_count))
            if over > self.shard_count // 2:
                raise QueueFull()
        elif any(self.behind(i) >= self._max_backlog for i in shards):
            raise QueueFull()

    async def append(self, rows: list[MovementRow], context: str | None = None) -> int:
        """Append one request's movements and context to the log, whole or not at all; returns
        how many were new.

        Answers only after the commit is durable. Past the backlog bound it
        refuses (QueueFull) rather than let reads wait ever longer for folds.
        """
        by_shard = [(self.shard_of(row.userId), row) for row in rows]
        self.refuse_when_backlogged({shard for shard, _row in by_shard})
        return await self.log_writer.append(by_shard, context)

    def submit(self, index: int, work: Callable[[apsw.Connection], T], weight: int = 1) -> asyncio.Future:
        """Queue a write job on shard `index`; it runs after the shard has folded everything
        acknowledged so far, in the same transaction, and the future resolves after its commit."""
        folds: list[fold.Folded] = []
        job = partial(fold.then, shard=index, reader=self.log_reader, upto=self.head(),
                      apply=self._apply, work=work, on_fold=folds.extend)
        future = self.writers[index].submit(job, weight)
        future.add_done_callback(lambda done: self._committed(done, folds))
        return future

    def _committed(self, done: asyncio.Future, folds: list[fold.Folded]) -> None:
        """Count a job's folds once its transaction committed (a failed one folded nothing)."""
        if not done.cancelled() and done.exception() is None:
            self._folds_done(folds)

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
        rows = 0
        for index in behind:  # one at a time: a fold's batch is the memory it needs
            folds = await self.writers[index].submit(partial(
                fold.fold_to, shard=index, reader=self.log_reader, upto=head, apply=self._apply))
            self._folds_done(folds)
            rows += sum(f.rows for f in folds)
        if rows:
            self._on_read_wait(time.perf_counter() - started)

    async def tail(self, after: int, limit: int, user_id: str | None = None,
                   event: str | None = None) -> tuple[list[tuple], int]:
        """Up to `limit` logged rows after position `after` (log.tail, of every shard, folded or
        not), and the position looked through: the next call goes on from there."""
        upto = self.head()
        if upto <= after:
            return [], after
        rows = await run_in_threadpool(self._tail_now, after, upto, limit, user_id, event)
        return rows, rows[-1][0] if len(rows) == limit else upto

    def _tail_now(self, after: int, upto: int, limit: int, user_id: str | None,
                  event: str | None) -> list[tuple]:
        return log.tail(self.log_reader.connection(), after, upto, limit, user_id, event)

    async def forget_logged(self, user_id: str, upto: int) -> int:
        """Delete the user's rows at or before `upto` from the log (kept there, once folded, for
        the live feed); returns how many."""
        return await run_in_threadpool(self._forget_logged, user_id, upto)

    def _forget_logged(self, user_id: str, upto: int) -> int:
        found = connections.read_once(self.layout.log_path, log.user_rows, user_id, upto)
        if not found:
            return 0
        conn = connections.connect(self.layout.log_path, connections.Role.WRITER, self._sync)
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                forgotten = log.forget_rows(conn, found)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            return forgotten
        finally:
            conn.close()

    def _fold_in_background(self, sync: str) -> None:
        worker = folding_process.Folder(self.layout.paths, self.layout.log_path, self._apply, sync,
                                        self._on_fold)
        try:
            folding_process.fold_until(worker, lambda: not self._folder_stop.is_set())
        finally:
            worker.close()

    def snapshot(self, index: int) -> apsw.Connection:
        """A new read-only connection to shard `index` inside a read transaction, so that
        every read on it sees one moment; the caller closes it."""
        try:
            return connections.connect(self.layout.paths[index], connections.Role.SNAPSHOT)
        except UNREADABLE as error:
            raise ShardUnreadable(index, error) from error

    async def read(self, index: int, query: Callable[..., T], *args: Any) -> T:
        """Run `query(connection, *args)` on a reader connection of shard `index`."""
        await self.caught_up([index])
        return await run_in_threadpool(self._read_now, index, query, *args)

    async def read_all(self, query: Callable[..., T], *args: Any) -> list[T]:
        """Run `query` on every shard, one thread for the whole sweep."""
        await self.caught_up(range(self.shard_count))

        def sweep() -> list[T]:
            return [self._read_now(i, query, *args) for i in range(self.shard_count)]

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
        try:
            return query(self.readers.connection(index), *args)
        except UNREADABLE as error:
            self.readers.forget(index)
            raise ShardUnreadable(index, error) from error

    async def _follow_folds(self) -> None:
        """Learn the positions the folder reached, for the backlog and the eventId set."""
        while self._following:
            await asyncio.sleep(FOLD_INTERVAL_SECONDS)
            try:
                positions = await run_in_threadpool(self._positions)
            except Exception as error:  # a shard that cannot be read now; reads will say so
                unread_positions.warning("reading fold positions failed: %s", error)
                continue
            for index, reached in enumerate(positions):
                self.folded[index] = max(self.folded[index], reached)
            self.log_writer.unfolded.prune_below(self.folded)

    def _positions(self) -> list[int]:
        return [self.readers.connection(i).execute(fold.POSITION).fetchall()[0][0]
                for i in range(self.shard_count)]

    async def drain(self) -> None:
        """Stop folding in the background, commit every queued append, then fold it all.

        The log is durable either way; folding before exit leaves the shard
        files complete for tools that read them directly.
        """
        self._following = False
        await self._follower
        self._stop_folder()
        await run_in_threadpool(self.log_writer.stop)
        try:
            await self.caught_up(range(self.shard_count))
        except Exception as error:  # the log keeps every row; the next start folds it
            logger.warning("could not fold before stopping: %s", error)

    def _stop_folder(self) -> None:
        self._folder_stop.set()
        if self._folder_thread is not None:
            self._folder_thread.join()

    def close(self) -> None:
        """Commit everything queued, stop the writers and close every connection."""
        self._stop_folder()
        self.log_writer.stop()
        for writer in self.writers:
            writer.stop()
        self._fan_out.shutdown()
        self.readers.close()
        self.log_reader.close()
        self._head_conn.close()


async def gather_all(futures: list[asyncio.Future]) -> list:
    """Wait for every future; then raise the first failure, if any."""
    results = await asyncio.gather(*futures, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results
