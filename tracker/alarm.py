"""The alarm loop: expires idle sessions in every shard, never touching movements.

Several workers may run it at once: each pass is an idempotent DELETE in the
shard writers' transactions.
"""

from __future__ import annotations

import asyncio
import logging
import time

from tracker.metrics import Metrics, NoMetrics
from tracker.store import Store

log = logging.getLogger("tracker.alarm")


class AlarmLoop:
    def __init__(self, store: Store, ttl_seconds: int, interval_seconds: int,
                 metrics: Metrics | NoMetrics | None = None):
        self._store = store
        self._metrics = metrics or NoMetrics()
        self._ttl_ms = ttl_seconds * 1000
        self._interval = interval_seconds
        self._task: asyncio.Task | None = None

    async def run_once(self) -> int:
        """Expire every session idle longer than the TTL; returns how many."""
        started = time.perf_counter()
        cutoff = time.time_ns() // 1_000_000 - self._ttl_ms
        expired = await self._store.expire_sessions(cutoff)
        self._metrics.alarm_ran(expired, time.perf_counter() - started, time.time())
        if expired:
            log.info("expired %d idle sessions", expired)
        return expired

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
