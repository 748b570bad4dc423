"""Group commit: one writer thread per file turns many requests into one transaction.

Requests hand the writer a job (a function of the connection) and await a
future. The thread takes every job waiting, runs them in one `BEGIN
IMMEDIATE` transaction (each inside its own savepoint, so one failing job
does not sink the others), commits, and only then resolves the futures: an
answer is never sent before its data is on disk. Under load the queue fills
while a commit runs, so transactions grow with the load and the fsync cost is
shared. The queue is bounded by the number of events it holds; a full queue
refuses new work at once instead of growing without limit.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import apsw

from tracker.storage.connections import Role, transaction
from tracker.storage.database import Database
from tracker.throttle import Throttled

log = logging.getLogger("tracker.writer")
# A full disk fails every transaction of every file: one line per 10 s says so.
failed_transactions = Throttled(log)

# Jobs of one transaction hold at most this many events (a job bigger than
# this on its own still runs, alone).
TRANSACTION_EVENTS = 10_000

LOG_LABEL = "log"


class QueueFull(Exception):
    """The writer already holds as much work as it is allowed to."""


class WriterStopped(Exception):
    """The writer is shutting down and takes no new work."""


class WriteFailed(Exception):
    """A transaction failed (disk full, file unwritable, ...); `shard` is None for the log."""

    def __init__(self, shard: int | None, cause: BaseException):
        super().__init__(f"{'the log' if shard is None else f'shard {shard}'}: {cause}")
        self.shard = shard
        self.cause = cause


@dataclass
class Job:
    """A queued write job, its weight in events and the future its submitter awaits."""

    work: Callable[[apsw.Connection], Any]
    weight: int
    future: asyncio.Future
    outcome: Any = field(default=None)
    failed: bool = False


@dataclass
class CommitStats:
    """What one commit did; handed to an observer (metrics, logs). `writer` is the shard's
    number, or `log`."""

    writer: str
    jobs: int
    events: int
    seconds: float
    ok: bool


class GroupCommit:
    """One file's writer thread: runs queued jobs together in one transaction, answers after
    COMMIT.

    `submit` is called on the event loop and returns a future; the thread
    resolves it with the job's result (or its error) once the transaction
    holding the job has committed, or at once when the queue is full.
    """

    def __init__(self, database: Database, shard: int | None, queue_limit: int,
                 loop: asyncio.AbstractEventLoop,
                 on_commit: Callable[[CommitStats], None] | None = None):
        self.database = database
        self.shard = shard
        self.label = LOG_LABEL if shard is None else str(shard)
        self._queue_limit = queue_limit
        self._loop = loop
        self._on_commit = on_commit
        self._jobs: deque[Job] = deque()
        self._queued_events = 0
        self._stopping = False
        self._wakeup = threading.Condition()
        self._thread = threading.Thread(target=self._run, name=f"writer-{self.label}", daemon=True)
        self._thread.start()

    @property
    def queued_events(self) -> int:
        return self._queued_events

    def submit(self, work: Callable[[apsw.Connection], Any], weight: int = 1) -> asyncio.Future:
        """Queue `work` for the next transaction; the future resolves after the commit.

        A refused job (queue full, writer stopping) gets a future that has
        already failed, so callers handle every outcome in one place.
        """
        job = Job(work, weight, self._loop.create_future())
        with self._wakeup:
            refusal = self._refusal(weight)
            if refusal is None:
                self._jobs.append(job)
                self._queued_events += weight
                self._wakeup.notify()
        if refusal is not None:
            job.future.set_exception(refusal)
        return job.future

    def _refusal(self, weight: int) -> Exception | None:
        if self._stopping:
            return WriterStopped()
        if self._queued_events and self._queued_events + weight > self._queue_limit:
            return QueueFull()
        return None

    def stop(self) -> None:
        """Finish and commit every queued job, then close the connection."""
        with self._wakeup:
            self._stopping = True
            self._wakeup.notify()
        self._thread.join()

    def _run(self) -> None:
        while (jobs := self._take()) is not None:
            self._commit(jobs)
            self._loop.call_soon_threadsafe(_resolve, jobs)
        self.database.forget(Role.WRITER)

    def _take(self) -> list[Job] | None:
        with self._wakeup:
            while not self._jobs:
                if self._stopping:
                    return None
                self._wakeup.wait()
            jobs: list[Job] = []
            events = 0
            while self._jobs and (not jobs or events + self._jobs[0].weight <= TRANSACTION_EVENTS):
                job = self._jobs.popleft()
                jobs.append(job)
                events += job.weight
            self._queued_events -= events
            return jobs

    def _commit(self, jobs: list[Job]) -> bool:
        """Run the jobs in one transaction; False when it failed as a whole."""
        started = time.perf_counter()
        try:
            with transaction(self.database.connection(Role.WRITER)) as conn:
                for job in jobs:
                    self._run_in_savepoint(conn, job)
            ok = True
        except Exception as error:  # any failure here is the file's, not a job's
            failed_transactions.warning("%s: transaction failed: %s", self._name(), error)
            self.database.forget(Role.WRITER)  # the next batch starts from a fresh open
            for job in jobs:
                job.outcome, job.failed = WriteFailed(self.shard, error), True
            ok = False
        if self._on_commit is not None:
            events = sum(job.weight for job in jobs)
            self._on_commit(CommitStats(self.label, len(jobs), events,
                                        time.perf_counter() - started, ok))
        return ok

    def _name(self) -> str:
        return "the log" if self.shard is None else f"shard {self.shard}"

    def _run_in_savepoint(self, conn: apsw.Connection, job: Job) -> None:
        conn.execute("SAVEPOINT job")
        try:
            job.outcome = job.work(conn)
        except Exception as error:
            conn.execute("ROLLBACK TO job")  # raises when the transaction itself is lost
            job.failed = True
            job.outcome = WriteFailed(self.shard, error) if isinstance(error, apsw.Error) else error
        conn.execute("RELEASE job")


def _resolve(jobs: list[Job]) -> None:
    for job in jobs:
        if job.future.done():  # the request went away; its data is committed all the same
            continue
        if job.failed:
            job.future.set_exception(job.outcome)
        else:
            job.future.set_result(job.outcome)
