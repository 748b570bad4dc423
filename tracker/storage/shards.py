"""The shard files: each one's group-commit writer, and reads on the read pool.

Writes are jobs (functions of a connection) run in a shard's write
transaction by its writer thread; reads are queries run on the read pool
with that thread's own connection. This module knows nothing of the log:
keeping the shards caught up with it is `following.py`'s.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

import apsw

from tracker.storage.connections import UNREADABLE, Role, ShardUnreadable
from tracker.storage.group_commit import CommitStats, GroupCommit
from tracker.storage.read_pool import ReadPool
from tracker.storage.shard_file import ShardFile

T = TypeVar("T")


class Shards:
    def __init__(self, files: list[ShardFile], pool: ReadPool, queue_limit: int,
                 loop: asyncio.AbstractEventLoop,
                 on_commit: Callable[[CommitStats], None] | None = None):
        self.files = files
        self.pool = pool
        self.writers = [GroupCommit(file, file.index, queue_limit, loop, on_commit) for file in files]

    def __len__(self) -> int:
        return len(self.files)

    def submit(self, index: int, work: Callable[[apsw.Connection], T], weight: int = 1) -> asyncio.Future:
        """Queue a write job on shard `index`; the future resolves after its commit."""
        return self.writers[index].submit(work, weight)

    async def read(self, index: int, query: Callable[..., T], *args: Any) -> T:
        """`query(connection, *args)` on a reader connection of shard `index`."""
        return await self.pool.run(self.read_now, index, query, *args)

    async def read_each(self, query: Callable[..., T], *args: Any) -> list[T]:
        """`query` on every shard at once; results in shard order."""
        return await asyncio.gather(*(self.read(i, query, *args) for i in range(len(self.files))))

    def read_now(self, index: int, query: Callable[..., T], *args: Any) -> T:
        """`query` on this thread's reader connection of shard `index` (a read thread's)."""
        file = self.files[index]
        try:
            return query(file.connection(Role.READER), *args)
        except UNREADABLE as error:
            file.forget(Role.READER)
            raise ShardUnreadable(index, error) from error

    def reader(self, index: int) -> apsw.Connection:
        """This thread's reader connection of shard `index`."""
        return self.files[index].connection(Role.READER)

    def snapshot(self, index: int) -> apsw.Connection:
        """A new connection to shard `index` inside a read transaction, so that every read on
        it sees one moment; the caller closes it."""
        try:
            return self.files[index].snapshot()
        except UNREADABLE as error:
            raise ShardUnreadable(index, error) from error

    def stop(self) -> None:
        """Commit every queued job and stop the writers."""
        for writer in self.writers:
            writer.stop()

    def close(self) -> None:
        for file in self.files:
            file.close()
