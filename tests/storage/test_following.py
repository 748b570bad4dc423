"""Following the log into the shards (tracker/storage/following.py).

Nothing is read or written behind an acknowledgement: a write job runs after its file has
folded every row appended before it was queued, in the same transaction, and `caught_up`
returns once the files hold every row appended before the call, folding only the files that
have rows in that stretch (one probe of the log tells the others are caught up). Folds are
counted once committed, moving the positions this process knows; `refuse_when_backlogged`
refuses a file's users once that file is as far behind as the bound allows, and `backlog`
reports how far behind each file is.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable

import pytest

from helpers import service_env
from tracker.config import Config
from tracker.enrich.sources import rederive_functions
from tracker.ingest.apply import apply_movements
from tracker.storage import log
from tracker.storage.following import Follower
from tracker.storage.group_commit import QueueFull
from tracker.storage.ingest_log import IngestLog
from tracker.storage.log import LogFile
from tracker.storage.read_pool import ReadPool
from tracker.storage.rows import MovementRow
from tracker.storage.shards import Shards
from tracker.storage.store import prepare

SHARDS = 4


def movement(user: str = "u1", at: int = 1_000) -> MovementRow:
    return MovementRow(user, "s1", at, "click", "{}", None)


def stored_users(conn) -> list[str]:
    return [user for (user,) in conn.execute("SELECT userId FROM movements ORDER BY id")]


class Parts:
    """The shards and the log of a data directory, and a follower that folds them (its own
    background work not started)."""

    def __init__(self, data_dir, max_backlog: int):
        loop = asyncio.get_running_loop()
        self.pool = ReadPool(2)
        self.shards = Shards(data_dir, SHARDS, "normal", self.pool, 100_000, loop)
        self.log = IngestLog(LogFile(log.path_in(data_dir), "normal"), self.shards.by_key, self.pool, 100_000, loop)
        self.folds: list = []
        self.read_waits: list[float] = []
        self.follower = Follower(self.shards, self.log, lambda: self.shards.files(0),
                                 apply_movements, max_backlog, self.folds.append,
                                 self.read_waits.append)
        self.files = self.shards.files(0)

    async def append(self, *rows: tuple[int, MovementRow]) -> None:
        await self.log.append(list(rows), None)

    def close(self) -> None:
        self.log.stop()
        self.shards.stop()
        self.log.close()
        self.shards.close()
        self.pool.close()


def run(data_dir, scenario: Callable, max_backlog: int = 0) -> None:
    async def main():
        parts = Parts(data_dir, max_backlog)
        try:
            await scenario(parts)
        finally:
            parts.close()

    asyncio.run(main())


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """A new data directory, made once: migrating its shard files takes a while."""
    data_dir = tmp_path_factory.mktemp("template") / "data"
    prepare(Config.from_env(service_env(data_dir, TRACKER_SHARDS=str(SHARDS))), rederive_functions())
    return data_dir


@pytest.fixture
def data_dir(tmp_path, template):
    return shutil.copytree(template, tmp_path / "data")


def test_a_write_job_sees_every_row_appended_before_it(data_dir):
    async def scenario(parts):
        await parts.append((0, movement("u1")), (1, movement("u2")), (0, movement("u3")))
        seen = await parts.follower.submit(parts.files[0], stored_users)
        assert seen == ["u1", "u3"]
        assert parts.follower.known(parts.files[0]) == 3
        assert [(f.shard, f.rows, f.position) for f in parts.folds] == [(0, 2, 3)]

    run(data_dir, scenario)


def test_caught_up_folds_the_files_behind_and_only_those(data_dir):
    async def scenario(parts):
        await parts.append((0, movement("u1")), (2, movement("u2")))
        await parts.follower.caught_up(parts.files)
        assert sorted(f.shard for f in parts.folds) == [0, 2]  # folded side by side: any order
        assert await parts.shards.read(parts.files[0], stored_users) == ["u1"]
        assert await parts.shards.read(parts.files[2], stored_users) == ["u2"]
        assert len(parts.read_waits) == 1
        # Files 1 and 3 had nothing to fold: known caught up, their files untouched.
        assert parts.follower.folded == {0: 2, 1: 2, 2: 2, 3: 2}
        assert parts.files[1].position() == 0

    run(data_dir, scenario)


def test_caught_up_costs_no_fold_when_the_files_already_hold_everything(data_dir):
    async def scenario(parts):
        await parts.append((0, movement("u1")))
        await parts.follower.caught_up(parts.files)
        folds = len(parts.folds)
        await parts.follower.caught_up(parts.files)
        assert len(parts.folds) == folds
        assert len(parts.read_waits) == 1

    run(data_dir, scenario)


def test_a_file_without_rows_in_the_stretch_is_caught_up_without_a_fold_or_a_wait(data_dir):
    async def scenario(parts):
        await parts.append((0, movement("u1")))
        await parts.follower.caught_up([parts.files[1]])
        assert parts.folds == [] and parts.read_waits == []
        assert parts.follower.known(parts.files[1]) == 1
        assert parts.files[1].position() == 0

    run(data_dir, scenario)


def test_a_position_is_read_from_the_file_the_first_time(data_dir):
    async def scenario(parts):
        await parts.append((0, movement("u1")), (0, movement("u2")))
        await parts.follower.caught_up(parts.files[:1])
        # Another process's follower knows nothing yet, and reads the file.
        other = Follower(parts.shards, parts.log, lambda: parts.files, apply_movements, 0)
        assert other.folded == {}
        assert other.known(parts.files[0]) == 2

    run(data_dir, scenario)


def test_a_failed_write_job_counts_no_fold(data_dir):
    def fail(conn):
        raise ValueError("the job's own mistake")

    async def scenario(parts):
        await parts.append((0, movement("u1")))
        with pytest.raises(ValueError):
            await parts.follower.submit(parts.files[0], fail)
        assert parts.folds == []
        assert parts.follower.known(parts.files[0]) == 0
        # The fold ran in the job's savepoint and went with it; the next one folds the row.
        assert parts.files[0].position() == 0
        await parts.follower.caught_up(parts.files[:1])
        assert await parts.shards.read(parts.files[0], stored_users) == ["u1"]

    run(data_dir, scenario)


def test_a_file_as_far_behind_as_the_bound_refuses_its_users_only(data_dir):
    async def scenario(parts):
        parts.follower.refuse_when_backlogged(parts.files)
        await parts.append((0, movement("u1")), (0, movement("u2")), (1, movement("u3")))
        await parts.follower.caught_up(parts.files[1:])  # every file but the first folds
        with pytest.raises(QueueFull):
            parts.follower.refuse_when_backlogged([parts.files[0]])
        with pytest.raises(QueueFull):
            parts.follower.refuse_when_backlogged(parts.files[1:2] + parts.files[:1])
        parts.follower.refuse_when_backlogged(parts.files[1:])
        await parts.follower.caught_up(parts.files[:1])
        parts.follower.refuse_when_backlogged(parts.files)

    run(data_dir, scenario, max_backlog=3)


def test_without_a_bound_nothing_is_refused(data_dir):
    async def scenario(parts):
        await parts.append(*[(0, movement(f"u{i}")) for i in range(5)])
        parts.follower.refuse_when_backlogged(parts.files)

    run(data_dir, scenario, max_backlog=0)


def test_backlog_counts_each_files_unfolded_rows(data_dir):
    async def scenario(parts):
        await parts.append((0, movement("u1")), (0, movement("u2")), (3, movement("u3")))
        await parts.follower.caught_up([parts.files[3]])
        behind = parts.follower.backlog()
        assert set(behind) == {0}
        count, seconds = behind[0]
        assert count == 2 and 0 <= seconds < 60

    run(data_dir, scenario)
