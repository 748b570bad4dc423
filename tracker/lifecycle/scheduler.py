"""Background jobs: a table of named jobs, each run at start-up and then every interval.

Adding a job adds a row to `lifecycle_jobs`. Every run is timed and counted
in the metrics the same way, and a failed run is logged and retried at the
next interval. Several workers may run the same jobs at once: each job is a
series of write jobs that re-read what is left to do under the shard's lock.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from tracker.ops.metrics import Metrics, NoMetrics
from tracker.storage.store import Unavailable

log = logging.getLogger("tracker.jobs")


@dataclass(frozen=True)
class Job:
    """A named background job and how often it runs."""

    name: str
    run: Callable[[], Awaitable[int]]  # returns how many things it did, for the log
    interval_seconds: float
    done: str = "{count} done"  # the log line when a run did something


def now_ms() -> int:
    """The wall clock in milliseconds since the epoch, as every time the jobs store."""
    return time.time_ns() // 1_000_000


class Scheduler:
    """Runs each job of the table in its own task, so a slow job never delays another."""

    def __init__(self, jobs: list[Job], metrics: Metrics | NoMetrics | None = None):
        self.jobs = {job.name: job for job in jobs}
        self._metrics = metrics or NoMetrics()
        self._metrics.jobs_known(self.jobs)
        self._tasks: list[asyncio.Task] = []

    async def run(self, name: str) -> int:
        """Run one job now, timed and counted like its scheduled runs; returns its count."""
        job = self.jobs[name]
        started = time.perf_counter()
        count = await job.run()
        self._metrics.job_ran(name, time.perf_counter() - started, time.time())
        if count:
            log.info("%s: %s", name, job.done.format(count=count))
        return count

    def run_soon(self, name: str) -> None:
        """Run one job now in the background (a failure is logged; the schedule retries it)."""
        task = asyncio.get_running_loop().create_task(self._once(name))
        self._tasks.append(task)
        task.add_done_callback(lambda done: self._tasks.remove(done) if done in self._tasks else None)

    async def _once(self, name: str) -> None:
        try:
            await self.run(name)
        except Exception:
            self._metrics.job_failed(name)
            log.exception("%s: run failed", name)

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._forever(job)) for job in self.jobs.values()]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            try:
                await task
            except asyncio.CancelledError:
                pass
        self._tasks = []

    async def _forever(self, job: Job) -> None:
        while True:
            try:
                await self.run(job.name)
            except Unavailable as error:  # a cluster's shard between owners, at start above all
                self._metrics.job_failed(job.name)
                log.warning("%s: not run, tried again in %.0f s: %s", job.name, job.interval_seconds,
                            error)
            except Exception:  # a failed run is retried at the next interval
                self._metrics.job_failed(job.name)
                log.exception("%s: run failed", job.name)
            await asyncio.sleep(job.interval_seconds)
