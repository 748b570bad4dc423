"""Folding: applying the log to a shard's tables, in large batches, exactly once.

A fold runs inside a `BEGIN IMMEDIATE` transaction on the shard (the
folding process's own, or a job of the shard's writer when a read or a write
job folds on demand), which serialises folds of a shard across processes. It
re-reads the shard's position under that lock, reads the shard's next rows
from the log and stores them in log order (so that a session belongs to the
first user who used it, as it would have at ingest), while the rollups group
the batch by entity and slot, so each of their rows is written once per
batch; and it moves the position in the same transaction: a crash at any
moment leaves either all of it or none, and the next fold resumes exactly
there.

What storing a batch means (movements, sessions, rollups, visits) is the
ingest layer's: it hands the store an `Apply` function.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import apsw

from tracker.storage import log
from tracker.storage.connections import Role
from tracker.storage.log import LogFile
from tracker.storage.rows import MovementRow
from tracker.storage.shard_file import move_position, position

# Rows one fold transaction takes at most: large enough to write each hot
# page once for many rows, small enough to hold the shard's lock briefly.
FOLD_ROWS = 5_000

# A shard file is due for a fold once its unfolded rows are enough to fold
# efficiently (each B-tree page written once for many rows), or its oldest
# unfolded row has waited DELAY_SECONDS (and sooner under load: the folding
# process's Folder); reads fold on demand whatever is left.
BATCH_ROWS = 2_000
DELAY_SECONDS = 1.0


class Applied(NamedTuple):
    """What applying a batch stored: movements (not duplicates) and sessions it created."""

    movements: int
    sessions_created: int


# Stores a batch of movements, with their requests' contexts, in a shard's tables,
# inside the fold's transaction.
Apply = Callable[[apsw.Connection, list[MovementRow], list[str | None]], Applied]


@dataclass(frozen=True)
class Folded:
    shard: int
    rows: int
    movements: int
    sessions_created: int
    position: int
    seconds: float


def fold_once(conn: apsw.Connection, shard: int, log_file: LogFile, upto: int, apply: Apply,
              limit: int = FOLD_ROWS) -> Folded:
    """Fold up to `limit` of the shard's log rows at positions up to `upto`."""
    started = time.perf_counter()
    at = position(conn)
    if at >= upto:
        return Folded(shard, 0, 0, 0, at, 0.0)
    logged = log.read_rows(log_file.connection(Role.LOOKUP), shard, at, upto, limit)
    reached = logged[-1].seq if len(logged) == limit else upto
    stored = apply(conn, [row.movement for row in logged], [row.context for row in logged])
    move_position(conn, reached)
    return Folded(shard, len(logged), stored.movements, stored.sessions_created, reached,
                  time.perf_counter() - started)


def fold_to(conn: apsw.Connection, shard: int, log_file: LogFile, upto: int,
            apply: Apply) -> list[Folded]:
    """Fold everything of the shard up to `upto`, in batches of FOLD_ROWS (one transaction)."""
    folds = []
    while True:
        folded = fold_once(conn, shard, log_file, upto, apply)
        folds.append(folded)
        if folded.position >= upto:
            return folds


def then(conn: apsw.Connection, shard: int, log_file: LogFile, upto: int, apply: Apply,
         work: Callable[[apsw.Connection], Any], on_fold: Callable[[list[Folded]], None]) -> Any:
    """Fold the shard up to `upto`, then run `work` in the same transaction: it sees every
    movement acknowledged before `upto` was read."""
    on_fold(fold_to(conn, shard, log_file, upto, apply))
    return work(conn)
