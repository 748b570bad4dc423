"""The folding process: applies the log to every shard beside the serving workers.

`tracker serve` starts one. Folding is Python work (sessions and rollups)
that would otherwise share the interpreter lock with the HTTP event loop:
under load the loop starved it and the backlog stopped shrinking. In a
process of its own it has a core to itself. Each fold is a transaction on
the shard (BEGIN IMMEDIATE), so it is safe beside the workers' own folds on
demand, and the position moves with it. It only reads the log: the workers'
log writer deletes what the shards have folded. The process stops on
SIGTERM after the fold under way, or by itself once the process that started
it is gone. An app run on its own (the tests) runs the same Folder in a
thread.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable

import apsw

from tracker.storage import fold, log
from tracker.storage.connections import Role
from tracker.storage.log import LogFile
from tracker.storage.shard_file import ShardFile, position
from tracker.throttle import Throttled

failures = Throttled(logging.getLogger("tracker.folder"))

# Set in the environment of the serving workers, so that they fold on demand
# only and leave background folding to the folding process.
ENV = "TRACKER_FOLDING_PROCESS"

IDLE_SLEEP_SECONDS = 0.1
RETRY_SECONDS = 1.0
# Past this many unfolded rows in all, every file with rows is due (well under
# the smallest bound in seconds of folding, fold_budget.FLOOR_ROWS).
PRESSING_ROWS = 1_000
# A quiet file is moved up to the log's head once it is this far behind (well inside the
# backlog bound, TRACKER_MAX_BACKLOG, which counts positions).
ADVANCE_ROWS = 10_000


class Folder:
    """Folds due shard files, one at a time, until told to stop.

    A file is due once it has BATCH_ROWS unfolded rows or its oldest has waited
    DELAY_SECONDS, and every file with rows is once the whole backlog reaches
    PRESSING_ROWS: the backlog is bounded in seconds of folding
    (fold_budget.py), and a file saving its rows for a larger batch would hold
    ingest back. Under load a file's rows gather while the others fold, so
    batches still grow with the load, while a quiet service folds each file at
    most once per DELAY_SECONDS. A file without rows is moved up to the head
    only once the log has grown `advance_rows` past it, so that the files of
    a quiet site cost no write for each one of a busy site's, and still never
    look backlogged.
    """

    def __init__(self, files: Callable[[], list[ShardFile]], log_file: LogFile, apply: fold.Apply,
                 on_fold: Callable[[fold.Folded], None] = lambda folded: None,
                 advance_rows: int = ADVANCE_ROWS):
        self._files = files
        self._log = log_file
        self._apply = apply
        self._on_fold = on_fold
        self._advance_rows = advance_rows

    def run(self, keep_going: Callable[[], bool]) -> None:
        while keep_going():
            if not self.fold_due():
                time.sleep(IDLE_SLEEP_SECONDS)

    def fold_due(self) -> int:
        """One fold of every file due for one; returns the rows folded.

        A file that fails (disk full, file gone) is skipped and tried again next
        round; the others go on.
        """
        log_conn = self._log.connection(Role.LOOKUP)
        head = log.head(log_conn)
        behind = []
        for shard in self._files():
            try:
                at = position(shard.connection(Role.WRITER))
                if at < head:
                    behind.append((shard, at, *log.unfolded(log_conn, shard.key, at, head,
                                                            fold.BATCH_ROWS)))
            except apsw.Error as error:
                self._failed(shard, error)
        pressing = sum(count for _shard, _at, count, _oldest in behind) >= PRESSING_ROWS
        rows = 0
        for shard, at, count, oldest in behind:
            try:
                if self._due(at, head, count, oldest, pressing):
                    rows += self._fold_one(shard, head).rows
            except apsw.Error as error:
                self._failed(shard, error)
        return rows

    def _failed(self, shard: ShardFile, error: apsw.Error) -> None:
        shard.forget(Role.WRITER)
        failures.warning("shard %d: folding failed, trying again: %s", shard.index, error)

    def _due(self, at: int, head: int, count: int, oldest: int | None, pressing: bool) -> bool:
        if not count:
            return head - at >= self._advance_rows
        waited = time.time() - (oldest or 0) / 1000
        return pressing or count >= fold.BATCH_ROWS or waited >= fold.DELAY_SECONDS

    def _fold_one(self, shard: ShardFile, head: int) -> fold.Folded:
        with shard.transaction() as conn:
            folded = fold.fold_once(conn, shard.key, self._log, head, self._apply)
        if folded.rows:
            self._on_fold(folded)
        return folded

    def close(self) -> None:
        for shard in self._files():
            shard.forget(Role.WRITER)
        self._log.forget(Role.LOOKUP)


def advance_rows(max_backlog: int) -> int:
    """How far behind a quiet file may fall: well inside the backlog bound, which counts
    positions (TRACKER_MAX_BACKLOG; 0 sets none)."""
    return max(1, max_backlog // 5) if max_backlog else ADVANCE_ROWS


def run_until_stopped(folder: Folder, stopped: Callable[[], bool], parent: int) -> None:
    """Fold until `stopped()` or the process `parent` that started this one is gone (even
    before this one got here)."""
    fold_until(folder, lambda: not stopped() and os.getppid() == parent)


def fold_until(folder: Folder, keep_going: Callable[[], bool]) -> None:
    """Fold while `keep_going()`; a failed round is retried after a pause."""
    while keep_going():
        try:
            folder.run(keep_going)
        except Exception as error:  # the log keeps every row; reads fold on demand meanwhile
            failures.warning("folding failed, retrying: %r", error)
            time.sleep(RETRY_SECONDS)
