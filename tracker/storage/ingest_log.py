"""The ingest log as the service uses it: appends acknowledged after their commit, the
head, the tail the live feed reads, trimming, and forgetting a user's rows."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from tracker.storage import log
from tracker.storage.connections import UNREADABLE, Role
from tracker.storage.group_commit import CommitStats
from tracker.storage.log import LogFile
from tracker.storage.log_writer import LogWriter
from tracker.storage.read_pool import ReadPool
from tracker.storage.rows import MovementRow
from tracker.storage.shard_file import ShardFile


class IngestLog:
    def __init__(self, file: LogFile, shard_files: list[ShardFile], pool: ReadPool,
                 queue_limit: int, loop: asyncio.AbstractEventLoop,
                 on_commit: Callable[[CommitStats], None] | None = None):
        self.file = file
        self.pool = pool
        self.writer = LogWriter(file, shard_files, queue_limit, loop, on_commit)

    def head(self) -> int:
        """The newest position in the log, appended by any process (any thread)."""
        return log.head(self.file.connection(Role.LOOKUP))

    @property
    def seen(self) -> int:
        """The head as of this process's last append, without a query."""
        return self.writer.unfolded.seen

    def append(self, rows: list[tuple[int, MovementRow]], context: str | None) -> asyncio.Future:
        """Append one request's (shard, movement) pairs whole; resolves to how many were new,
        once the commit is durable."""
        return self.writer.append(rows, context)

    async def tail(self, after: int, limit: int, user_id: str | None = None,
                   event: str | None = None) -> tuple[list[tuple], int]:
        """Up to `limit` rows after position `after` (log.tail, of every shard, folded or not),
        and the position looked through: the next call goes on from there."""
        upto = self.head()
        if upto <= after:
            return [], after
        rows = await self.pool.run(self._tail_now, after, upto, limit, user_id, event)
        return rows, rows[-1][0] if len(rows) == limit else upto

    def _tail_now(self, after: int, upto: int, limit: int, user_id: str | None,
                  event: str | None) -> list[tuple]:
        return log.tail(self.file.connection(Role.LOOKUP), after, upto, limit, user_id, event)

    async def forget_user(self, user_id: str, upto: int) -> int:
        """Delete the user's rows at or before `upto` (kept, once folded, for the live feed);
        returns how many. They are looked for outside the write lock."""
        found = await self.pool.run(self._user_rows, user_id, upto)
        return await self.writer.forget_user(found) if found else 0

    def _user_rows(self, user_id: str, upto: int) -> list[int]:
        return log.user_rows(self.file.connection(Role.LOOKUP), user_id, upto)

    def trim(self, folded: list[int]) -> asyncio.Future | None:
        """Delete what each shard has folded, past the live feed's retention."""
        return self.writer.trim(folded)

    def backlog(self, folded: list[int]) -> dict[int, tuple[int, float]]:
        """Per shard behind the log, (events unfolded, seconds since the oldest was appended);
        shards whose position is None are left out (any thread)."""
        now = time.time()
        found = {}
        try:
            conn = self.file.connection(Role.LOOKUP)
            for index, at in enumerate(folded):
                count, oldest = log.backlog(conn, index, at)
                if count and oldest is not None:
                    found[index] = (count, max(0.0, now - oldest / 1000))
        except UNREADABLE:
            self.file.forget(Role.LOOKUP)
            raise
        return found

    def stop(self) -> None:
        """Commit every queued append and stop the writer."""
        self.writer.stop()

    def close(self) -> None:
        self.file.close()
