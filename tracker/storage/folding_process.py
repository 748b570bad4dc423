"""The folding process: applies the log to every shard beside the serving workers.

`tracker serve` starts one. Folding is Python work (sessions and rollups)
that would otherwise share the interpreter lock with the HTTP event loop:
under load the loop starved it and the backlog stopped shrinking. In a
process of its own it has a core to itself. Each fold is a transaction on
the shard (BEGIN IMMEDIATE), so it is safe beside the workers' own folds on
demand, and the position moves with it. Once a shard has folded past its
rows and they are older than log.RETAIN_MS (the live feed replays them),
they are deleted from the log. The process stops on SIGTERM after the
fold under way, or by itself once the process that started it is gone. An
app run on its own (the tests) runs the same Folder in a thread.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import apsw

from tracker.storage import connections, fold, log
from tracker.storage.connections import Role
from tracker.throttle import Throttled

failures = Throttled(logging.getLogger("tracker.folder"))

# Set in the environment of the serving workers, so that they fold on demand
# only and leave background folding to the folding process.
ENV = "TRACKER_FOLDING_PROCESS"

IDLE_SLEEP_SECONDS = 0.1
RETRY_SECONDS = 1.0


class Folder:
    """Folds due shards, one at a time, until told to stop."""

    def __init__(self, paths: list[Path], log_path: Path, apply: fold.Apply, sync: str,
                 on_fold: Callable[[fold.Folded], None] = lambda folded: None):
        self._paths = paths
        self._sync = sync
        self._shards: list[apsw.Connection | None] = [None] * len(paths)
        self._identities: list[tuple[int, int] | None] = [None] * len(paths)
        self._log = connections.connect(log_path, Role.WRITER, sync)
        self._reader = fold.LogReader(log_path)
        self._apply = apply
        self._on_fold = on_fold
        self._last_fold = [0.0] * len(paths)
        self._acknowledged = [0] * len(paths)

    def run(self, keep_going: Callable[[], bool]) -> None:
        while keep_going():
            if not self.fold_due():
                time.sleep(IDLE_SLEEP_SECONDS)

    def fold_due(self) -> int:
        """One fold of every shard due for one; returns the rows folded.

        A shard that fails (disk full, file gone) is skipped and tried again next
        round; the others go on. The log is trimmed, shard by shard, only up to
        positions read back from the shards.
        """
        head = log.head(self._log)
        now = time.monotonic()
        rows = 0
        positions = []
        for index in range(len(self._paths)):
            try:
                conn = self._shard(index)
                at = fold.position(conn)
                if fold.due(head, at, len(self._paths), now - self._last_fold[index]):
                    folded = self._fold_one(index, conn, head)
                    at, rows = folded.position, rows + folded.rows
            except apsw.Error as error:
                self._forget(index)
                failures.warning("shard %d: folding failed, trying again: %s", index, error)
                at = None
            positions.append(at)
        self._acknowledge(positions)
        return rows

    def _shard(self, index: int) -> apsw.Connection:
        """The shard's connection, opened afresh when its path names another file now."""
        identity = connections.file_identity(self._paths[index])
        if self._shards[index] is not None and identity != self._identities[index]:
            self._forget(index)
        if self._shards[index] is None:
            self._shards[index] = connections.connect(self._paths[index], Role.WRITER, self._sync)
            self._identities[index] = identity
        return self._shards[index]

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

    def _forget(self, index: int) -> None:
        conn, self._shards[index] = self._shards[index], None
        if conn is not None:
            conn.close()

    def _acknowledge(self, positions: list[int | None]) -> None:
        """Delete the log rows each shard has folded (read back from the shard's file) once
        they are past the live feed's retention."""
        expired = log.retained_from(self._log, int(time.time() * 1000)) - 1
        moved = [(shard, min(at, expired)) for shard, at in enumerate(positions)
                 if at is not None and min(at, expired) > self._acknowledged[shard]]
        if not moved:
            return
        self._log.execute("BEGIN IMMEDIATE")
        try:
            for shard, at in moved:
                log.acknowledge(self._log, shard, at)
            self._log.execute("COMMIT")
        except BaseException:
            self._log.execute("ROLLBACK")
            raise
        for shard, at in moved:
            self._acknowledged[shard] = at

    def close(self) -> None:
        self._reader.close()
        for index in range(len(self._paths)):
            self._forget(index)
        self._log.close()


def run_until_stopped(folder: Folder, stop: threading.Event, parent: int) -> None:
    """Fold until `stop` is set or the process `parent` that started this one is gone (even
    before this one got here)."""
    fold_until(folder, lambda: not stop.is_set() and os.getppid() == parent)


def fold_until(folder: Folder, keep_going: Callable[[], bool]) -> None:
    """Fold while `keep_going()`; a failed round is retried after a pause."""
    while keep_going():
        try:
            folder.run(keep_going)
        except Exception as error:  # the log keeps every row; reads fold on demand meanwhile
            failures.warning("folding failed, retrying: %r", error)
            time.sleep(RETRY_SECONDS)
