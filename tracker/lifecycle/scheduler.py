"""The alarm loop: expires idle sessions in every shard and, with a retention set,
archives old movements (tracker/lifecycle/archive.py).

Several workers may run it at once: each step is a job in the shard writers'
transactions that re-reads what is left to do under the write lock.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import NamedTuple

from tracker.lifecycle import archive
from tracker.ops.metrics import Metrics, NoMetrics
from tracker.storage.store import Store

log = logging.getLogger("tracker.alarm")


class Pass(NamedTuple):
    expired: int  # sessions
    archived: int  # movements


class AlarmLoop:
    def __init__(self, store: Store, ttl_seconds: int, interval_seconds: int,
                 metrics: Metrics | NoMetrics | None = None, retention_days: int | None = None):
        self._store = store
        self._metrics = metrics or NoMetrics()
        self._ttl_ms = ttl_seconds * 1000
        self._interval = interval_seconds
        self._retention_days = retention_days
        self._task: asyncio.Task | None = None

    async def run_once(self) -> Pass:
        """Expire every session idle longer than the TTL, then archive what retention says."""
        started = time.perf_counter()
        now = time.time_ns() // 1_000_000
        expired = await self._store.expire_sessions(now - self._ttl_ms)
        await self._store.sweep_archives()
        archived = 0
        if self._retention_days is not None:
            archived = await self._store.archive_movements(archive.cutoff(now, self._retention_days))
        self._metrics.alarm_ran(expired, archived, time.perf_counter() - started, time.time())
        if expired or archived:
            log.info("expired %d idle sessions, archived %d movements", expired, archived)
        return Pass(expired, archived)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._forever())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    async def _forever(self) -> None:
        while True:
            try:
                await self.run_once()
            except Exception:  # a failed pass is retried at the next interval
                log.exception("alarm loop pass failed")
            await asyncio.sleep(self._interval)
