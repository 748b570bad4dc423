"""The acknowledgement path: one group-commit writer appends every request to the log.

A request is one job, so it is appended whole or not at all, and its answer
waits for the commit (durable per TRACKER_SYNC). Its duplicates are decided
inside the same transaction, under the log's write lock (tracker/storage/dedup.py).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import apsw

from tracker.storage import dedup, log
from tracker.storage.group_commit import CommitStats, Job, ShardWriter
from tracker.storage.rows import MovementRow

# The log writer's index in CommitStats, apart from the shards' 0..n-1.
LOG_WRITER = -1


class LogWriter(ShardWriter):
    def __init__(self, path: Path, shard_paths: list[Path], sync: str, queue_limit: int,
                 loop: asyncio.AbstractEventLoop,
                 on_commit: Callable[[CommitStats], None] | None = None):
        self.unfolded = dedup.UnfoldedEventIds()
        self._probe = dedup.FoldedProbe(shard_paths)
        super().__init__(LOG_WRITER, path, sync, queue_limit, loop, on_commit)

    def append(self, rows: list[tuple[int, MovementRow]], context: str | None) -> asyncio.Future:
        """Append (shard, row) pairs of one request; resolves to how many were new, after the commit."""
        return self.submit(partial(self._append, rows=rows, context=context), max(1, len(rows)))

    def _commit(self, jobs: list[Job]) -> bool:
        self.unfolded.begin()
        committed = super()._commit(jobs)
        self.unfolded.end(committed)
        return committed

    def _append(self, conn: apsw.Connection, rows: list[tuple[int, MovementRow]],
                context: str | None) -> int:
        self.unfolded.catch_up(conn)
        fresh, keys = [], []
        now = int(time.time() * 1000)
        for shard, row in rows:
            key = None if row.eventId is None else (row.userId, row.eventId)
            if key is not None and dedup.is_duplicate(shard, key, self.unfolded, self._probe):
                continue
            fresh.append((shard, now, *row, context))
            keys.append((shard, key))
        if fresh:
            self.unfolded.stage(keys, log.append_rows(conn, fresh))
        return len(fresh)

    def stop(self) -> None:
        super().stop()
        self._probe.close()
