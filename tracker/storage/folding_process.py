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


class Folder:
    """Folds due shards, one at a time, until told to stop."""

    def __init__(self, shards: list[ShardFile], log_file: LogFile, apply: fold.Apply,
                 on_fold: Callable[[fold.Folded], None] = lambda folded: None):
        self._shards = shards
        self._log = log_file
        self._apply = apply
        self._on_fold = on_fold
        self._last_fold = [0.0] * len(shards)

    def run(self, keep_going: Callable[[], bool]) -> None:
        while keep_going():
            if not self.fold_due():
                time.sleep(IDLE_SLEEP_SECONDS)

    def fold_due(self) -> int:
        """One fold of every shard due for one; returns the rows folded.

        A shard that fails (disk full, file gone) is skipped and tried again next
        round; the others go on.
        """
        head = log.head(self._log.connection(Role.LOOKUP))
        now = time.monotonic()
        rows = 0
        for shard in self._shards:
            try:
                at = position(shard.connection(Role.WRITER))
                if fold.due(head, at, len(self._shards), now - self._last_fold[shard.index]):
                    rows += self._fold_one(shard, head).rows
            except apsw.Error as error:
                shard.forget(Role.WRITER)
                failures.warning("shard %d: folding failed, trying again: %s", shard.index, error)
        return rows

    def _fold_one(self, shard: ShardFile, head: int) -> fold.Folded:
        with shard.transaction() as conn:
            folded = fold.fold_once(conn, shard.index, self._log, head, self._apply)
        self._last_fold[shard.index] = time.monotonic()
        if folded.rows:
            self._on_fold(folded)
        return folded

    def close(self) -> None:
        for shard in self._shards:
            shard.forget(Role.WRITER)
        self._log.forget(Role.LOOKUP)


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
