"""Following the log into the shards: nothing is read or written behind an acknowledgement.

Every write job, and every read but those that count the unfolded tail
themselves (`tail.py`), first folds its shard files up to the log's head as
it was when the job or read began, so nothing acknowledged is ever missing
from what they see; a file with no row in that stretch has nothing
to fold, which one index probe of the log tells. Folding in the background is
the folding process's (or, for an app on its own, a thread's); this side
learns the positions it reached, so that a read of a file already caught up
costs no fold, lets the eventId set forget what the files now hold, trims the
log, and bounds the backlog: per file in events (a file that cannot fold
refuses only its users) and as a whole in seconds of folding
(`fold_budget.py`), which is what a read waits for.
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
from tracker.storage.fold_budget import FoldBudget
from tracker.storage.group_commit import QueueFull
from tracker.storage.ingest_log import IngestLog
from tracker.storage.shard_file import ShardFile
from tracker.storage.shards import Shards
from tracker.throttle import Throttled

T = TypeVar("T")

logger = logging.getLogger("tracker.fold")
unread_positions = Throttled(logger)

# How often this process reads the positions the folding process reached.
FOLLOW_INTERVAL_SECONDS = 0.1
# How often it deletes from the log what the shards have folded.
TRIM_INTERVAL_SECONDS = 1.0
# Files a read folds at once (each on its own writer thread).
READ_FOLDS_AT_ONCE = 4
# How long an append waits for room under the backlog's bound in seconds before it is refused.
ADMIT_SECONDS = 0.5


class Follower:
    def __init__(self, shards: Shards, ingest_log: IngestLog, live_files: Callable[[], list[ShardFile]],
                 apply: fold.Apply, max_backlog: int,
                 on_fold: Callable[[fold.Folded], None] | None = None,
                 on_read_wait: Callable[[float], None] | None = None,
                 max_backlog_seconds: float = 0.0):
        self._shards = shards
        self._log = ingest_log
        self._live_files = live_files
        self._apply = apply
        self._max_backlog = max_backlog
        self._on_fold = on_fold or (lambda folded: None)
        self.budget = FoldBudget(max_backlog_seconds)
        self._on_read_wait = on_read_wait or (lambda seconds: None)
        # Each file's position in the log (by its key), as far as this process knows: read
        # from the file when first needed, then moved by folds.
        self.folded: dict[int, int] = {}
        self._following = False
        self._task: asyncio.Task | None = None
        self._recounted = asyncio.Event()  # set and replaced at each count of the backlog
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

    def known(self, file: ShardFile) -> int:
        """The file's position as far as this process knows (read from it the first time)."""
        at = self.folded.get(file.key)
        if at is None:
            at = self.folded[file.key] = file.position()
        return at

    def submit(self, file: ShardFile, work: Callable[[apsw.Connection], T],
               weight: int = 1) -> asyncio.Future:
        """Queue a write job on `file`; it runs after the file has folded everything
        acknowledged so far, in the same transaction, and the future resolves after its commit."""
        folds: list[fold.Folded] = []
        job = partial(fold.then, shard=file.key, log_file=self._log.file, upto=self._log.head(),
                      apply=self._apply, work=work, on_fold=folds.extend)
        future = self._shards.submit(file, job, weight)
        future.add_done_callback(lambda done: self._committed(done, folds))
        return future

    def _committed(self, done: asyncio.Future, folds: list[fold.Folded]) -> None:
        """Count a job's folds once its transaction committed (a failed one folded nothing)."""
        if not done.cancelled() and done.exception() is None:
            self._folds_done(folds)

    def _folds_done(self, folds: list[fold.Folded]) -> None:
        for folded in folds:
            self.folded[folded.shard] = max(self.folded.get(folded.shard, 0), folded.position)
            if folded.rows:
                self._on_fold(folded)

    def _folded_in_background(self, folded: fold.Folded) -> None:
        """A fold of this process's folding thread (an app without a folding process)."""
        self.budget.measured(folded.rows, folded.seconds)
        self._on_fold(folded)

    async def caught_up(self, files: Iterable[ShardFile]) -> None:
        """Return once the files hold every row appended before the call (by any process)."""
        head = self._log.head()
        behind = [file for file in files if self.known(file) < head]
        if not behind:
            return
        with_rows = await self._shards.pool.run(self._with_rows, behind, head)
        started = time.perf_counter()
        # A few at a time, each on its file's writer: one after another, every fold would wait
        # for a turn of an event loop that ingest keeps busy; all at once, their batches (the
        # memory a fold needs) would add up.
        at_once = asyncio.Semaphore(READ_FOLDS_AT_ONCE)

        async def fold_file(file: ShardFile) -> int:
            async with at_once:
                folds = await self._shards.submit(file, partial(
                    fold.fold_to, shard=file.key, log_file=self._log.file, upto=head,
                    apply=self._apply))
            self._folds_done(folds)
            return sum(f.rows for f in folds)

        results = await asyncio.gather(*(fold_file(file) for file in with_rows),
                                       return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result
        rows = sum(result for result in results if isinstance(result, int))
        if rows:
            waited = time.perf_counter() - started
            self.budget.measured(rows, waited)  # what the bound is for: a read's wait per row
            self._on_read_wait(waited)

    def _with_rows(self, files: list[ShardFile], head: int) -> list[ShardFile]:
        """Of `files`, those with log rows past their position up to `head`; the others are
        known caught up to it."""
        found = []
        for file in files:
            if self._log.has_rows(file.key, self.known(file), head):
                found.append(file)
            else:
                self.folded[file.key] = max(self.folded[file.key], head)
        return found

    def refuse_when_backlogged(self, files: Iterable[ShardFile]) -> None:
        """Raise QueueFull when one of `files` is as far behind the log as the bound allows.

        A shard that cannot fold (disk full, file gone) so refuses only its own users."""
        if self._max_backlog and any(self._log.seen - self.known(f) >= self._max_backlog
                                     for f in files):
            raise QueueFull()

    async def admit(self, files: Iterable[ShardFile], rows: int) -> None:
        """Let `rows` for `files` in once the backlog has room for them, counted as pending
        until `appended`; raise QueueFull past a file's bound at once, or when no room came
        within ADMIT_SECONDS."""
        self.refuse_when_backlogged(files)
        if self.budget.exceeded(self._log.seen, rows):
            deadline = time.monotonic() + ADMIT_SECONDS
            while self.budget.exceeded(self._log.seen, rows):
                left = deadline - time.monotonic()
                if left <= 0 or not self._following:
                    raise QueueFull()
                try:
                    await asyncio.wait_for(self._recounted.wait(), left)
                except TimeoutError:
                    raise QueueFull() from None
        self.budget.pending += rows

    def appended(self, rows: int) -> None:
        """Rows `admit` let in are in the log (or were refused): no longer pending."""
        self.budget.pending -= rows

    def backlog(self) -> dict[int, tuple[int, float]]:
        """Per shard file behind the log (by key), (events unfolded, seconds since the oldest
        was appended), from the files (a read thread)."""
        return self._log.backlog(self._positions())

    async def _follow(self) -> None:
        """Learn the positions the folder reached, for the backlog and the eventId set, and trim
        the log behind them."""
        trimmed_at = 0.0
        while self._following:
            await asyncio.sleep(FOLLOW_INTERVAL_SECONDS)
            try:
                positions = await self._shards.pool.run(self._count_backlog)
            except Exception as error:  # a shard that cannot be read now; reads will say so
                unread_positions.warning("reading fold positions failed: %s", error)
                continue
            self._recounted.set()
            self._recounted = asyncio.Event()
            for key, reached in positions.items():
                self.folded[key] = max(self.folded.get(key, 0), reached)
            self._log.writer.unfolded.prune_below(self.folded)
            if time.monotonic() - trimmed_at >= TRIM_INTERVAL_SECONDS:
                trimmed_at = time.monotonic()
                self._trim(positions)

    def _trim(self, positions: dict[int, int]) -> None:
        trimming = self._log.trim(positions)
        if trimming is not None:  # a failed trim is tried again with the next positions
            trimming.add_done_callback(lambda done: done.cancelled() or done.exception())

    def _positions(self) -> dict[int, int]:
        return {file.key: file.position() for file in self._live_files()}

    def _count_backlog(self) -> dict[int, int]:
        """The files' positions; and the rows behind them, for the seconds' bound."""
        seen = self._log.seen  # first: rows appended meanwhile are counted twice, never missed
        positions = self._positions()
        if self.budget.seconds:
            self.budget.counted(self._log.backlog(positions), seen)
        return positions

    def _fold_in_background(self) -> None:
        folder = folding_process.Folder(self._live_files, self._log.file, self._apply,
                                        self._folded_in_background,
                                        folding_process.advance_rows(self._max_backlog))
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
