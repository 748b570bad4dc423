"""Following the log into the shards: nothing is read or written behind an acknowledgement.

Every write job and every read first folds its shards up to the log's head
as it was when the job or read began, so nothing acknowledged is ever
missing from what they see. Folding in the background is the folding
process's (or, for an app on its own, a thread's); this side learns the
positions it reached, so that a read of a shard already caught up costs no
fold, lets the eventId set forget what the shards now hold, trims the log,
and bounds the backlog.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Iterable
from functools import partial
from typing import TypeVar

import apsw

from tracker.storage import fold, folding_process
from tracker.storage.group_commit import QueueFull
from tracker.storage.ingest_log import IngestLog
from tracker.storage.shards import Shards
from tracker.throttle import Throttled

T = TypeVar("T")

logger = logging.getLogger("tracker.fold")
unread_positions = Throttled(logger)

# How often this process reads the positions the folding process reached.
FOLLOW_INTERVAL_SECONDS = 0.1
# How often it deletes from the log what the shards have folded.
TRIM_INTERVAL_SECONDS = 1.0


class Follower:
    def __init__(self, shards: Shards, ingest_log: IngestLog, apply: fold.Apply, max_backlog: int,
                 on_fold: Callable[[fold.Folded], None] | None = None,
                 on_read_wait: Callable[[float], None] | None = None):
        self._shards = shards
        self._log = ingest_log
        self._apply = apply
        self._max_backlog = max_backlog
        self._on_fold = on_fold or (lambda folded: None)
        self._on_read_wait = on_read_wait or (lambda seconds: None)
        self.folded = [file.position() for file in shards.files]  # as far as this process knows
        self._following = False
        self._task: asyncio.Task | None = None
        self._folder_stop = threading.Event()
        self._folder_thread: threading.Thread | None = None

    def start(self, fold_in_background: bool) -> None:
        """Follow the folding process's positions; with `fold_in_background`, also fold in a
        thread of this process (an app run on its own, without a folding process)."""
        self._following = True
        self._task = asyncio.create_task(self._follow())
        if fold_in_background:
            self._folder_thread = threading.Thread(target=self._fold_in_background, name="folder",
                                                   daemon=True)
            self._folder_thread.start()

    def submit(self, index: int, work: Callable[[apsw.Connection], T], weight: int = 1) -> asyncio.Future:
        """Queue a write job on shard `index`; it runs after the shard has folded everything
        acknowledged so far, in the same transaction, and the future resolves after its commit."""
        folds: list[fold.Folded] = []
        job = partial(fold.then, shard=index, log_file=self._log.file, upto=self._log.head(),
                      apply=self._apply, work=work, on_fold=folds.extend)
        future = self._shards.submit(index, job, weight)
        future.add_done_callback(lambda done: self._committed(done, folds))
        return future

    def _committed(self, done: asyncio.Future, folds: list[fold.Folded]) -> None:
        """Count a job's folds once its transaction committed (a failed one folded nothing)."""
        if not done.cancelled() and done.exception() is None:
            self._folds_done(folds)

    def _folds_done(self, folds: list[fold.Folded]) -> None:
        for folded in folds:
            self.folded[folded.shard] = max(self.folded[folded.shard], folded.position)
            if folded.rows:
                self._on_fold(folded)

    async def caught_up(self, shards: Iterable[int]) -> None:
        """Return once the shards have folded every row appended before the call (by any
        process)."""
        head = self._log.head()
        behind = [i for i in shards if self.folded[i] < head]
        if not behind:
            return
        started = time.perf_counter()
        rows = 0
        for index in behind:  # one at a time: a fold's batch is the memory it needs
            folds = await self._shards.submit(index, partial(
                fold.fold_to, shard=index, log_file=self._log.file, upto=head, apply=self._apply))
            self._folds_done(folds)
            rows += sum(f.rows for f in folds)
        if rows:
            self._on_read_wait(time.perf_counter() - started)

    def behind(self, index: int) -> int:
        """Rows appended since shard `index`'s position, as far as this process knows without a
        query: ingest checks it on the event loop for every request."""
        return self._log.seen - self.folded[index]

    def refuse_when_backlogged(self, shards: Iterable[int]) -> None:
        """Raise QueueFull when one of `shards` is as far behind the log as the bound allows.

        A shard that cannot fold (disk full, file gone) so refuses only its own users."""
        if self._max_backlog and any(self.behind(i) >= self._max_backlog for i in shards):
            raise QueueFull()

    def backlog(self) -> dict[int, tuple[int, float]]:
        """Per shard behind the log, (events unfolded, seconds since the oldest was appended),
        from the files (a read thread)."""
        return self._log.backlog(self._positions())

    async def _follow(self) -> None:
        """Learn the positions the folder reached, for the backlog and the eventId set, and trim
        the log behind them."""
        trimmed_at = 0.0
        while self._following:
            await asyncio.sleep(FOLLOW_INTERVAL_SECONDS)
            try:
                positions = await self._shards.pool.run(self._positions)
            except Exception as error:  # a shard that cannot be read now; reads will say so
                unread_positions.warning("reading fold positions failed: %s", error)
                continue
            for index, reached in enumerate(positions):
                self.folded[index] = max(self.folded[index], reached)
            self._log.writer.unfolded.prune_below(self.folded)
            if time.monotonic() - trimmed_at >= TRIM_INTERVAL_SECONDS:
                trimmed_at = time.monotonic()
                self._trim(positions)

    def _trim(self, positions: list[int]) -> None:
        trimming = self._log.trim(positions)
        if trimming is not None:  # a failed trim is tried again with the next positions
            trimming.add_done_callback(lambda done: done.cancelled() or done.exception())

    def _positions(self) -> list[int]:
        return [file.position() for file in self._shards.files]

    def _fold_in_background(self) -> None:
        folder = folding_process.Folder(self._shards.files, self._log.file, self._apply,
                                        self._on_fold)
        try:
            folding_process.fold_until(folder, lambda: not self._folder_stop.is_set())
        finally:
            folder.close()

    async def stop(self) -> None:
        """Stop following and folding in the background."""
        self._following = False
        if self._task is not None:
            await self._task
        self.stop_folding()

    def stop_folding(self) -> None:
        """Stop the background folding thread, if any, after the fold under way."""
        self._folder_stop.set()
        if self._folder_thread is not None:
            self._folder_thread.join()
