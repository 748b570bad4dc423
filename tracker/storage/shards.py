"""The shard files of every site: their writers, and reads on the read pool.

Writes are jobs (functions of a connection) run in a shard file's write
transaction by a writer thread: one per shard number, serving that shard of
every site. Reads are queries run on the read pool with that thread's own
connection. A site's files are known here once it is first used. This module
knows nothing of the log: keeping the shards caught up with it is
`following.py`'s.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import apsw

from tracker.storage import manifest
from tracker.storage.connections import UNREADABLE, Role, ShardUnreadable
from tracker.storage.group_commit import CommitStats, GroupCommit
from tracker.storage.read_pool import ReadPool
from tracker.storage.registry import RegistryFile
from tracker.storage.shard_file import ShardFile

T = TypeVar("T")


class ShardFiles:
    """The shard files of every site this process has used, each known once, so that each
    keeps its connections."""

    def __init__(self, data_dir: Path, shard_count: int, sync: str):
        self.data_dir = data_dir
        self.shard_count = shard_count
        self._sync = sync
        self._files: dict[int, list[ShardFile]] = {}
        self._lock = threading.Lock()

    def files(self, site: int) -> list[ShardFile]:
        """Site `site`'s shard files, in shard order (any thread)."""
        with self._lock:
            found = self._files.get(site)
            if found is None:
                found = self._files[site] = files_of(self.data_dir, self.shard_count, site,
                                                     self._sync)
            return found

    def live(self, registry: RegistryFile) -> list[ShardFile]:
        """Every shard file of every live site the registry holds (any thread)."""
        return [file for site in registry.sites().live() for file in self.files(site.number)]

    def by_key(self, key: int) -> ShardFile:
        """The file the log's shard column `key` names."""
        site, index = divmod(key, self.shard_count)
        return self.files(site)[index]

    def forget_site(self, site: int) -> None:
        """Stop using a deleted site's files: their connections go with the last reference
        (a read under way keeps its own until it ends)."""
        with self._lock:
            self._files.pop(site, None)

    def close(self) -> None:
        with self._lock:
            opened = [file for files in self._files.values() for file in files]
        for file in opened:
            file.close()


class Shards(ShardFiles):
    def __init__(self, data_dir: Path, shard_count: int, sync: str, pool: ReadPool,
                 queue_limit: int, loop: asyncio.AbstractEventLoop,
                 on_commit: Callable[[CommitStats], None] | None = None):
        super().__init__(data_dir, shard_count, sync)
        self.pool = pool
        self.writers = [GroupCommit(index, queue_limit, loop, on_commit)
                        for index in range(shard_count)]

    def submit(self, file: ShardFile, work: Callable[[apsw.Connection], T],
               weight: int = 1) -> asyncio.Future:
        """Queue a write job on `file`; the future resolves after its commit."""
        return self.writers[file.index].submit(file, work, weight)

    async def read(self, file: ShardFile, query: Callable[..., T], *args: Any) -> T:
        """`query(connection, *args)` on a reader connection of `file`."""
        return await self.pool.run(read_now, file, query, *args)

    async def read_each(self, files: list[ShardFile], query: Callable[..., T], *args: Any) -> list[T]:
        """`query` on every file at once; results in their order."""
        return await asyncio.gather(*(self.read(file, query, *args) for file in files))

    def snapshot(self, file: ShardFile) -> apsw.Connection:
        """A new connection to `file` inside a read transaction, so that every read on it sees
        one moment; the caller closes it."""
        try:
            return file.snapshot()
        except UNREADABLE as error:
            raise ShardUnreadable(file.index, error) from error

    def stop(self) -> None:
        """Commit every queued job and stop the writers."""
        for writer in self.writers:
            writer.stop()


def files_of(data_dir: Path, shard_count: int, site: int, sync: str = "full") -> list[ShardFile]:
    return [ShardFile(site, index, shard_count, path, sync)
            for index, path in enumerate(manifest.shard_paths(data_dir, shard_count, site))]


def read_now(file: ShardFile, query: Callable[..., T], *args: Any) -> T:
    """`query` on this thread's reader connection of `file` (a read thread's)."""
    try:
        return query(file.connection(Role.READER), *args)
    except UNREADABLE as error:
        file.forget(Role.READER)
        raise ShardUnreadable(file.index, error) from error
