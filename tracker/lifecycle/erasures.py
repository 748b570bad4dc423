"""Erasures: each recorded in the user's shard, driven job by job in the background.

A request records the user's erasure as running (or joins the one running),
then jobs of `user_data.erase_some` take the user out chunk by chunk. Each
job adds what it removed to the record in its own transaction, and the one
that finds nothing left marks it done: the record is the erasure's state,
exact after a crash at any moment. The last job's driver then deletes the
user's folded rows from the ingest log, where the live feed keeps them a
while (a crash in between leaves them to expire with the rest). Erasures still running when this process
starts (a crash, a restart) are resumed by a background job. Several workers
may drive one erasure at once: each job re-reads the record under the
shard's write lock and does nothing once it is done, so nothing is counted
twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from functools import partial
from typing import Any, NamedTuple

import apsw

from tracker.lifecycle import user_data
from tracker.lifecycle.scheduler import now_ms
from tracker.schemas import Erasure
from tracker.storage import archives
from tracker.storage.group_commit import QueueFull
from tracker.storage.shard_file import position
from tracker.storage.store import Store
from tracker.throttle import Throttled

log = logging.getLogger("tracker.erasures")
failures = Throttled(log)

DONE = "done"

# A new erasure replaces the user's last one once that is done; a running one is joined.
BEGIN = """
INSERT INTO erasures(userId, status, requestedAt, finishedAt, movements, sessions)
VALUES (?, 'running', ?, NULL, 0, 0)
ON CONFLICT (userId) DO UPDATE SET
  status = 'running', requestedAt = excluded.requestedAt, finishedAt = NULL, movements = 0,
  sessions = 0
WHERE status = 'done'
"""

RECORD = """
SELECT userId, status, movements, sessions, requestedAt, finishedAt FROM erasures WHERE userId = ?
"""

ADD_ERASED = "UPDATE erasures SET movements = movements + ?, sessions = sessions + ? WHERE userId = ?"

FINISH = "UPDATE erasures SET status = 'done', finishedAt = ? WHERE userId = ?"

RUNNING_USERS = "SELECT userId FROM erasures WHERE status = 'running'"

# A job the shard's full queue refused is offered again after this long.
RETRY_SECONDS = 0.5


class Step(NamedTuple):
    """One erasure job's outcome: the record after it, archive files to delete now, and the
    shard's fold position (the user's log rows up to it are erased from the shard)."""

    erasure: Erasure | None
    stale_files: tuple[str, ...]
    folded: int = 0


def begin(conn: apsw.Connection, user_id: str, now: int) -> None:
    """A write job: record the user's erasure as running, unless one already is."""
    conn.execute(BEGIN, (user_id, now))


def record(conn: apsw.Connection, user_id: str) -> Erasure | None:
    row = conn.execute(RECORD, (user_id,)).fetchone()
    return None if row is None else Erasure(*row)


def running_users(conn: apsw.Connection) -> list[str]:
    return [user_id for (user_id,) in conn.execute(RUNNING_USERS)]


def step(conn: apsw.Connection, shard: int, user_id: str, limit: int) -> Step:
    """A write job: erase the next part of a running erasure and add it to the record."""
    found = record(conn, user_id)
    if found is None or found.status == DONE:
        return Step(found, ())
    erased = user_data.erase_some(conn, shard, user_id, limit)
    conn.execute(ADD_ERASED, (erased.movements, erased.sessions, user_id))
    if erased.done:
        conn.execute(FINISH, (now_ms(), user_id))
    return Step(record(conn, user_id), erased.stale_files, position(conn))


class Erasures:
    """The erasures this process drives: one task per user, whoever asked for it."""

    def __init__(self, store: Store, chunk: int):
        self._store = store
        self._chunk = chunk
        self._tasks: dict[str, asyncio.Task] = {}

    async def erase(self, user_id: str, wait_seconds: float) -> Erasure:
        """Start or join the user's erasure and wait for it up to `wait_seconds`; returns its
        record, done or still running."""
        task = await self.request(user_id)
        finished, _ = await asyncio.wait({task}, timeout=wait_seconds)
        found = task.result() if finished else await self.progress(user_id)
        assert found is not None, "an erasure's record is never deleted"
        return found

    async def request(self, user_id: str) -> asyncio.Task:
        """The task driving the user's erasure: this process's, or a new one once the erasure
        is recorded (joining the one another worker runs, if any)."""
        task = self._driving(user_id)
        if task is not None:
            return task
        work = partial(begin, user_id=user_id, now=now_ms())
        await self._store.submit(self._store.shard_of(user_id), work)
        return self.resume(user_id)

    def resume(self, user_id: str) -> asyncio.Task:
        """The task driving the user's recorded erasure, started if this process has none."""
        task = self._driving(user_id)
        if task is None:
            task = self._tasks[user_id] = asyncio.create_task(self._drive(user_id))
            task.add_done_callback(partial(self._finished, user_id))
        return task

    async def resume_running(self) -> int:
        """Drive every erasure recorded as running, in any shard, to its end; returns how many
        finished."""
        found = await self._store.read_each(running_users)
        tasks = [self.resume(user_id) for users in found for user_id in users]
        if tasks:
            await asyncio.wait(tasks)
        return sum(not task.cancelled() and task.exception() is None for task in tasks)

    async def progress(self, user_id: str) -> Erasure | None:
        """The user's latest erasure as recorded; None when none was ever requested."""
        return await self._store.read(self._store.shard_of(user_id), record, user_id)

    async def stop(self) -> None:
        """Stop driving (the records keep every erasure's state; the next start resumes them)."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _driving(self, user_id: str) -> asyncio.Task | None:
        """This process's task still driving the user's erasure, if any (a finished task
        leaves the table only once its callback has run)."""
        task = self._tasks.get(user_id)
        return None if task is None or task.done() else task

    async def _drive(self, user_id: str) -> Erasure | None:
        index = self._store.shard_of(user_id)
        work = partial(step, shard=index, user_id=user_id, limit=self._chunk)
        while True:
            done: Step = await self._submit(index, work)
            archives.remove_files(self._store.layout.data_dir, done.stale_files)
            if done.erasure is None or done.erasure.status == DONE:
                if done.folded:
                    await self._store.forget_logged(user_id, done.folded)
                return done.erasure

    async def _submit(self, index: int, work: Callable[[apsw.Connection], Any]) -> Any:
        """Run a job, waiting for room in the shard's queue rather than give up."""
        while True:
            try:
                return await self._store.submit(index, work, self._chunk)
            except QueueFull:
                await asyncio.sleep(RETRY_SECONDS)

    def _finished(self, user_id: str, task: asyncio.Task) -> None:
        if self._tasks.get(user_id) is task:
            del self._tasks[user_id]
        if not task.cancelled() and task.exception() is not None:
            failures.warning("shard %d: an erasure stopped (%s); the resume_erasures job takes "
                             "it up again", self._store.shard_of(user_id), task.exception())
