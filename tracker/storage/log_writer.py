"""The only writer of the ingest log: appends requests, trims folded rows, forgets users.

A request is one job, so it is appended whole or not at all, and its answer
waits for the commit (durable per TRACKER_SYNC). Its duplicates are decided
inside the same transaction, under the log's write lock (tracker/storage/dedup.py),
each shard asked once per transaction for the eventIds of all its appends.

Trimming deletes the rows each shard has folded (positions read back from
the shard files) once the live feed's retention has passed them; an
erasure deletes the user's rows still kept. Both are jobs of the same
group-commit writer, so every write of `log.sqlite` in a process goes
through this one thread.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import apsw

from tracker.storage import dedup, log
from tracker.storage.database import Database
from tracker.storage.group_commit import CommitStats, GroupCommit, Job
from tracker.storage.log import LogFile
from tracker.storage.rows import MovementRow
from tracker.storage.shard_file import ShardFile


class LogWriter(GroupCommit):
    def __init__(self, log_file: LogFile, file_of: Callable[[int], ShardFile], queue_limit: int,
                 loop: asyncio.AbstractEventLoop,
                 on_commit: Callable[[CommitStats], None] | None = None):
        self.file = log_file
        self.unfolded = dedup.UnfoldedEventIds()
        self._probe = dedup.FoldedProbe(file_of)
        self._lookups = dedup.FoldedLookups(self._probe, {})  # the running transaction's
        self._trimmed: dict[int, int] = {}
        super().__init__(None, queue_limit, loop, on_commit)

    def _submit(self, work: Callable[[apsw.Connection], Any], weight: int = 1) -> asyncio.Future:
        return self.submit(self.file, work, weight)

    def append(self, rows: list[tuple[int, MovementRow]], context: str | None) -> asyncio.Future:
        """Append (shard, row) pairs of one request (a shard file's key in the log); resolves to
        how many were new, after the commit."""
        return self._submit(partial(self._append, rows=rows, context=context), max(1, len(rows)))

    def trim(self, folded: dict[int, int]) -> asyncio.Future | None:
        """Delete the rows of each shard up to its folded position, once they are past the live
        feed's retention; None when no shard moved since the last trim."""
        if all(at <= self._trimmed.get(shard, 0) for shard, at in folded.items()):
            return None
        return self._submit(partial(self._trim, folded=dict(folded)))

    def forget_user(self, positions: list[int]) -> asyncio.Future:
        """Delete the rows at `positions` (a user's, found outside the lock); resolves to how
        many were still there."""
        return self._submit(partial(log.forget_rows, positions=positions), max(1, len(positions)))

    def forget_shards(self, low: int, high: int) -> asyncio.Future:
        """Delete every row of the shards with keys in [low, high) (a deleted site's)."""
        return self._submit(partial(log.forget_shards, low=low, high=high))

    def _commit(self, database: Database, jobs: list[Job]) -> bool:
        self.unfolded.begin()
        self._lookups = dedup.FoldedLookups(self._probe, self._event_keys(jobs))
        committed = super()._commit(database, jobs)
        self.unfolded.end(committed)
        return committed

    def _event_keys(self, jobs: list[Job]) -> dict[int, set[dedup.Key]]:
        """The (userId, eventId) of every row the appends among `jobs` bring, by shard."""
        keys: dict[int, set[dedup.Key]] = {}
        for job in jobs:
            if isinstance(job.work, partial) and job.work.func == self._append:
                for shard, row in job.work.keywords["rows"]:
                    if row.eventId is not None:
                        keys.setdefault(shard, set()).add((row.userId, row.eventId))
        return keys

    def _append(self, conn: apsw.Connection, rows: list[tuple[int, MovementRow]],
                context: str | None) -> int:
        self.unfolded.catch_up(conn)
        fresh, keys = [], []
        now = int(time.time() * 1000)
        for shard, row in rows:
            key = None if row.eventId is None else (row.userId, row.eventId)
            if key is not None and dedup.is_duplicate(shard, key, self.unfolded, self._lookups):
                continue
            fresh.append((shard, now, *row, context))
            keys.append((shard, key))
        if fresh:
            self.unfolded.stage(keys, log.append_rows(conn, fresh))
        return len(fresh)

    def _trim(self, conn: apsw.Connection, folded: dict[int, int]) -> int:
        expired = log.retained_from(conn, int(time.time() * 1000)) - 1
        deleted = 0
        for shard, at in folded.items():
            upto = min(at, expired)
            if upto > self._trimmed.get(shard, 0):
                deleted += log.acknowledge(conn, shard, upto)
                self._trimmed[shard] = upto
        return deleted
