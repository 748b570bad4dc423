"""The folding process: applies the log to every shard beside the serving workers.

`tracker serve` starts one. Folding is Python work (sessions and rollups)
that would otherwise share the interpreter lock with the HTTP event loop:
under load the loop starved it and the backlog stopped shrinking. In a
process of its own it has a core to itself. Each fold is a transaction on
the shard (BEGIN IMMEDIATE), so it is safe beside the workers' own folds on
demand, and the position moves with it. Once every shard has folded past a
row, the row is deleted from the log. The process stops on SIGTERM after the
fold under way, or by itself once the process that started it is gone.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path
from typing import Callable

import apsw

from tracker.storage import connections, fold, log
from tracker.storage.connections import Role
from tracker.throttle import Throttled

failures = Throttled(logging.getLogger("tracker.folder"))

# Set in the environment of the serving workers, so that they fold on demand
# only and leave background folding to the folding process.
ENV = "TRACKER_FOLDING_PROCESS"

IDLE_SLEEP_SECONDS = 0.1


class Folder:
    """Folds due shards, one at a time, until told to stop."""

    def __init__(self, paths: list[Path], log_path: Path, apply: fold.Apply, sync: str,
                 on_fold: Callable[[fold.Folded], None] = lambda folded: None):
        self._shards = [connections.connect(path, Role.WRITER, sync) for path in paths]
        self._log = connections.connect(log_path, Role.WRITER, sync)
        self._reader = fold.LogReader(log_path)
        self._apply = apply
        self._on_fold = on_fold
        self._last_fold = [0.0] * len(paths)
        self._acknowledged = 0

    def run(self, keep_going: Callable[[], bool]) -> None:
        while keep_going():
            if not self.fold_due():
                time.sleep(IDLE_SLEEP_SECONDS)

    def fold_due(self) -> int:
        """One fold of every shard due for one; returns the rows folded."""
        head = log.head_of(self._log)
        positions = [fold.position(conn) for conn in self._shards]
        now = time.monotonic()
        rows = 0
        for index, conn in enumerate(self._shards):
            if fold.due(head, positions[index], len(self._shards), now - self._last_fold[index]):
                folded = self._fold_one(index, conn, head)
                positions[index] = folded.position
                rows += folded.rows
        self._acknowledge(min(positions))
        return rows

    def _fold_one(self, index: int, conn: apsw.Connection, head: int) -> fold.Folded:
        conn.execute("BEGIN IMMEDIATE")
        try:
            folded = fold.fold_once(conn, index, self._reader, head, self._apply)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        self._last_fold[index] = time.monotonic()
        if folded.rows:
            self._on_fold(folded)
        return folded

    def _acknowledge(self, everywhere: int) -> None:
        """Delete the log rows every shard has folded."""
        if everywhere <= self._acknowledged:
            return
        self._log.execute("BEGIN IMMEDIATE")
        try:
            log.acknowledge(self._log, everywhere)
            self._log.execute("COMMIT")
        except BaseException:
            self._log.execute("ROLLBACK")
            raise
        self._acknowledged = everywhere

    def close(self) -> None:
        self._reader.close()
        for conn in [*self._shards, self._log]:
            conn.close()


def run_until_stopped(folder: Folder, stop: threading.Event, parent: int) -> None:
    """Fold until `stop` is set or the process `parent` that started this one is gone (even
    before this one got here); a failed round is retried."""

    def keep_going() -> bool:
        return not stop.is_set() and os.getppid() == parent

    while keep_going():
        try:
            folder.run(keep_going)
        except apsw.Error as error:  # a shard that cannot be written now; reads will say so
            failures.warning("folding failed, retrying: %s", error)
            stop.wait(1.0)
