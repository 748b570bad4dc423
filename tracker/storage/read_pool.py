"""The threads every read of a shard or the log runs on.

apsw releases the interpreter lock inside SQLite, so reads on these threads
overlap on every core while the event loop goes on. Each thread keeps its
own connections (database.py), so in WAL mode a reader never waits for a
writer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

T = TypeVar("T")

# Enough for an all-shards read to use both cores twice over while another waits.
READ_THREADS = 4


class ReadPool:
    def __init__(self, threads: int = READ_THREADS):
        self._executor = ThreadPoolExecutor(threads, thread_name_prefix="reader")

    async def run(self, function: Callable[..., T], *args: Any) -> T:
        """`function(*args)` on a read thread."""
        return await asyncio.get_running_loop().run_in_executor(
            self._executor, partial(function, *args))

    def close(self) -> None:
        self._executor.shutdown()
