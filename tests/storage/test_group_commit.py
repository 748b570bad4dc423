"""Group commit (tracker/storage/group_commit.py): one writer thread, many jobs per transaction.

Jobs waiting for the same file run together in one `BEGIN IMMEDIATE` transaction, each in its
own savepoint: a failing job is rolled back and fails its own future alone (an SQLite error
as `WriteFailed` naming the shard), while a transaction that fails as a whole fails every
job in it with `WriteFailed`. Futures resolve only after COMMIT. A transaction holds at most
TRANSACTION_EVENTS events and jobs of one file; the others keep their places. The queue is
bounded in events and refuses at once when full; `stop` commits what is queued and refuses
what comes after. Each commit is reported as `CommitStats`.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from pathlib import Path

import apsw
import pytest

from tracker.storage import group_commit
from tracker.storage.connections import Role, connect, read_once
from tracker.storage.database import Database
from tracker.storage.group_commit import CommitStats, GroupCommit, QueueFull, WriteFailed, WriterStopped


def new_database(path: Path) -> Database:
    conn = connect(path, Role.CREATOR)
    conn.execute("CREATE TABLE t(value TEXT UNIQUE)")
    conn.close()
    return Database(path, sync="normal")


def stored(database: Database) -> list[str]:
    """The file's rows as a connection of its own sees them: what is committed."""
    return read_once(database.path, lambda conn: [v for (v,) in conn.execute(
        "SELECT value FROM t ORDER BY rowid")])


def insert(value: str) -> Callable[[apsw.Connection], str]:
    def work(conn: apsw.Connection) -> str:
        conn.execute("INSERT INTO t VALUES (?)", (value,))
        return value
    return work


class Gate:
    """A job that holds the writer (inside its transaction) until opened."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.opened = threading.Event()

    def __call__(self, conn: apsw.Connection) -> str:
        self.entered.set()
        assert self.opened.wait(10)
        return "gate"

    async def wait_entered(self) -> None:
        while not self.entered.is_set():
            await asyncio.sleep(0.001)


@pytest.fixture
def database(tmp_path):
    database = new_database(tmp_path / "shard.sqlite")
    yield database
    database.close()


def run(scenario: Callable[[list[CommitStats]], object], shard: int | None = 3,
        queue_limit: int = 100_000) -> list[CommitStats]:
    """Run `scenario(writer, stats)` on a fresh loop with a writer, stopped afterwards."""
    stats: list[CommitStats] = []

    async def main():
        writer = GroupCommit(shard, queue_limit, asyncio.get_running_loop(), stats.append)
        try:
            await scenario(writer, stats)
        finally:
            writer.stop()

    asyncio.run(main())
    return stats


def test_a_job_resolves_to_its_result_after_its_commit(database):
    async def scenario(writer, stats):
        future = writer.submit(database, insert("a"))
        assert await future == "a"
        assert stored(database) == ["a"]
        assert stats and stats[-1].ok

    run(scenario)


def test_jobs_waiting_for_a_file_are_committed_in_one_transaction(database):
    async def scenario(writer, stats):
        gate = Gate()
        first = writer.submit(database, gate)
        await gate.wait_entered()
        waiting = [writer.submit(database, insert(v), weight=2) for v in ("a", "b", "c")]
        gate.opened.set()
        assert await asyncio.gather(first, *waiting) == ["gate", "a", "b", "c"]

    stats = run(scenario)
    assert [(s.jobs, s.events, s.ok) for s in stats] == [(1, 1, True), (3, 6, True)]
    assert {s.writer for s in stats} == {"3"}
    assert all(s.seconds >= 0 for s in stats)


def test_no_future_resolves_before_its_transaction_commits(database):
    async def scenario(writer, stats):
        holding, committing = Gate(), Gate()
        writer.submit(database, holding)
        await holding.wait_entered()
        written = writer.submit(database, insert("a"))
        writer.submit(database, committing)  # the same transaction as `written`, after it
        holding.opened.set()
        await committing.wait_entered()
        await asyncio.sleep(0.005)  # time enough for a resolution already sent to arrive
        assert not written.done()
        assert stored(database) == []
        committing.opened.set()
        assert await written == "a"
        assert stored(database) == ["a"]

    run(scenario)


def test_a_failing_job_fails_alone_and_its_writes_are_rolled_back(database):
    def half_then_fail(conn):
        conn.execute("INSERT INTO t VALUES ('half')")
        raise ValueError("the job's own mistake")

    async def scenario(writer, stats):
        gate = Gate()
        writer.submit(database, gate)
        await gate.wait_entered()
        futures = [writer.submit(database, insert("a")), writer.submit(database, half_then_fail),
                   writer.submit(database, insert("b"))]
        gate.opened.set()
        results = await asyncio.gather(*futures, return_exceptions=True)
        assert results[0] == "a" and results[2] == "b"
        assert isinstance(results[1], ValueError)  # not an SQLite error: passed on as it is

    stats = run(scenario)
    assert stored(database) == ["a", "b"]
    assert [(s.jobs, s.ok) for s in stats] == [(1, True), (3, True)]


def test_a_job_failing_in_sqlite_is_a_write_failure_naming_the_shard(database):
    async def scenario(writer, stats):
        gate = Gate()
        writer.submit(database, gate)
        await gate.wait_entered()
        futures = [writer.submit(database, insert("a")), writer.submit(database, insert("a")),
                   writer.submit(database, insert("b"))]
        gate.opened.set()
        results = await asyncio.gather(*futures, return_exceptions=True)
        assert results[0] == "a" and results[2] == "b"
        assert isinstance(results[1], WriteFailed)
        assert results[1].shard == 3
        assert isinstance(results[1].cause, apsw.ConstraintError)
        assert str(results[1]).startswith("shard 3: ")

    run(scenario)
    assert stored(database) == ["a", "b"]


def test_a_transaction_that_fails_fails_every_job_in_it(tmp_path):
    gone = Database(tmp_path / "missing.sqlite")

    async def scenario(writer, stats):
        futures = [writer.submit(gone, insert(v)) for v in ("a", "b")]
        results = await asyncio.gather(*futures, return_exceptions=True)
        assert all(isinstance(r, WriteFailed) and r.shard == 3 for r in results)
        assert all(isinstance(r.cause, apsw.CantOpenError) for r in results)

    stats = run(scenario)
    assert stats and not any(s.ok for s in stats)
    assert sum(s.jobs for s in stats) == 2


def test_a_job_that_loses_the_transaction_fails_every_job_in_it(database):
    def end_the_transaction(conn):
        conn.execute("ROLLBACK")  # the earlier jobs' writes go with it

    async def scenario(writer, stats):
        gate = Gate()
        writer.submit(database, gate)
        await gate.wait_entered()
        futures = [writer.submit(database, insert("a")), writer.submit(database, end_the_transaction),
                   writer.submit(database, insert("b"))]
        gate.opened.set()
        results = await asyncio.gather(*futures, return_exceptions=True)
        assert all(isinstance(r, WriteFailed) for r in results)  # none acknowledged, none stored
        assert await writer.submit(database, insert("c")) == "c"

    stats = run(scenario)
    assert stored(database) == ["c"]
    assert [s.ok for s in stats] == [True, False, True]


def test_the_log_writers_failure_names_the_log(tmp_path):
    gone = Database(tmp_path / "missing.sqlite")

    async def scenario(writer, stats):
        with pytest.raises(WriteFailed) as failed:
            await writer.submit(gone, insert("a"))
        assert failed.value.shard is None
        assert str(failed.value).startswith("the log: ")

    stats = run(scenario, shard=None)
    assert {s.writer for s in stats} == {"log"}


def test_a_file_that_could_not_be_opened_is_tried_again_by_the_next_transaction(tmp_path):
    path = tmp_path / "late.sqlite"
    database = Database(path)

    async def scenario(writer, stats):
        with pytest.raises(WriteFailed):
            await writer.submit(database, insert("a"))
        new_database(path)
        assert await writer.submit(database, insert("b")) == "b"

    try:
        run(scenario)
        assert stored(database) == ["b"]
    finally:
        database.close()


def test_a_transaction_takes_at_most_its_share_of_events(database, monkeypatch):
    monkeypatch.setattr(group_commit, "TRANSACTION_EVENTS", 10)

    async def scenario(writer, stats):
        gate = Gate()
        writer.submit(database, gate)
        await gate.wait_entered()
        futures = [writer.submit(database, insert(str(i)), weight=4) for i in range(5)]
        big = writer.submit(database, insert("big"), weight=25)  # alone, but it runs
        gate.opened.set()
        await asyncio.gather(*futures, big)

    stats = run(scenario)
    assert [(s.jobs, s.events) for s in stats] == [(1, 1), (2, 8), (2, 8), (1, 4), (1, 25)]
    assert stored(database) == ["0", "1", "2", "3", "4", "big"]


def test_jobs_of_another_file_keep_their_places(database, tmp_path):
    other = new_database(tmp_path / "other.sqlite")

    async def scenario(writer, stats):
        gate = Gate()
        writer.submit(database, gate)
        await gate.wait_entered()
        order = []
        futures = [writer.submit(db, insert(v)) for db, v in
                   ((other, "o1"), (database, "d1"), (other, "o2"), (database, "d2"))]
        for future, name in zip(futures, ("o1", "d1", "o2", "d2")):
            future.add_done_callback(lambda _, name=name: order.append(name))
        gate.opened.set()
        await asyncio.gather(*futures)
        assert order == ["o1", "o2", "d1", "d2"]

    try:
        stats = run(scenario)
        assert [s.jobs for s in stats] == [1, 2, 2]
        assert stored(other) == ["o1", "o2"] and stored(database) == ["d1", "d2"]
    finally:
        other.close()


def test_a_full_queue_refuses_at_once_and_takes_work_again_once_drained(database):
    async def scenario(writer, stats):
        gate = Gate()
        writer.submit(database, gate)
        await gate.wait_entered()
        taken = writer.submit(database, insert("a"), weight=6)
        refused = writer.submit(database, insert("b"), weight=5)
        assert refused.done() and isinstance(refused.exception(), QueueFull)
        assert writer.queued_events == 6
        gate.opened.set()
        await taken
        assert await writer.submit(database, insert("c"), weight=10) == "c"

    run(scenario, queue_limit=10)
    assert stored(database) == ["a", "c"]


def test_a_job_bigger_than_the_queue_is_taken_when_the_queue_is_empty(database):
    async def scenario(writer, stats):
        assert await writer.submit(database, insert("big"), weight=50) == "big"

    run(scenario, queue_limit=10)


def test_stop_commits_what_is_queued_then_refuses_new_work(database):
    async def scenario(writer, stats):
        gate = Gate()
        writer.submit(database, gate)
        await gate.wait_entered()
        queued = [writer.submit(database, insert(v)) for v in ("a", "b")]
        stopping = threading.Thread(target=writer.stop)
        stopping.start()
        while not writer._stopping:
            await asyncio.sleep(0.001)
        refused = writer.submit(database, insert("late"))
        assert isinstance(refused.exception(), WriterStopped)
        gate.opened.set()
        await asyncio.get_running_loop().run_in_executor(None, stopping.join)
        assert await asyncio.gather(*queued) == ["a", "b"]

    run(scenario)
    assert stored(database) == ["a", "b"]


def test_a_job_whose_waiter_went_away_is_committed_all_the_same(database):
    async def scenario(writer, stats):
        gate = Gate()
        writer.submit(database, gate)
        await gate.wait_entered()
        abandoned = writer.submit(database, insert("a"))
        abandoned.cancel()
        after = writer.submit(database, insert("b"))
        gate.opened.set()
        await after

    run(scenario)
    assert stored(database) == ["a", "b"]
