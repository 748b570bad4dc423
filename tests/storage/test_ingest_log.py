"""The ingest log as the service uses it (tracker/storage/ingest_log.py).

Appends resolve once committed, and the head moves with them (`seen` without a query);
`tail` pages through the rows of a range of shard files and says where the next page
starts, even when a page is cut short by its limit; `forget_user` deletes a user's rows of
one shard file up to a position; `has_rows` and `backlog` tell which files are behind.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from tracker.storage.ingest_log import IngestLog
from tracker.storage.log import LogFile
from tracker.storage.read_pool import ReadPool
from tracker.storage.rows import MovementRow


def movement(user: str = "u1", event: str = "click") -> MovementRow:
    return MovementRow(user, "s1", 1_000, event, "{}", None)


def no_shard_file(key: int):
    raise AssertionError("rows without an eventId never ask a shard file")


@pytest.fixture
def log_file(tmp_path):
    file = LogFile(tmp_path / "log.sqlite", "normal")
    file.create(0)
    return file


def run(log_file: LogFile, scenario: Callable) -> None:
    async def main():
        pool = ReadPool(1)
        ingest_log = IngestLog(log_file, no_shard_file, pool, 1000, asyncio.get_running_loop())
        try:
            await scenario(ingest_log)
        finally:
            ingest_log.stop()
            ingest_log.close()
            pool.close()

    asyncio.run(main())


def test_an_append_moves_the_head_once_committed(log_file):
    async def scenario(ingest_log):
        assert (ingest_log.head(), ingest_log.seen) == (0, 0)
        assert await ingest_log.append([(0, movement()), (1, movement())], None) == 2
        assert (ingest_log.head(), ingest_log.seen) == (2, 2)

    run(log_file, scenario)


def test_tail_pages_through_a_range_of_shard_files(log_file):
    async def scenario(ingest_log):
        await ingest_log.append([(0, movement("a")), (4, movement("b")), (5, movement("c")),
                                 (9, movement("d")), (6, movement("e"))], None)
        site_1 = range(4, 8)
        page, after = await ingest_log.tail(0, 2, site_1)
        assert ([row[2] for row in page], after) == (["b", "c"], 3)
        page, after = await ingest_log.tail(after, 2, site_1)
        assert ([row[2] for row in page], after) == (["e"], 5)
        assert await ingest_log.tail(after, 2, site_1) == ([], 5)

    run(log_file, scenario)


def test_a_tail_with_nothing_of_its_shard_files_goes_on_from_the_head(log_file):
    async def scenario(ingest_log):
        await ingest_log.append([(0, movement("a")), (1, movement("b"))], None)
        assert await ingest_log.tail(0, 10, range(4, 8)) == ([], 2)

    run(log_file, scenario)


def test_tail_of_one_user_and_event(log_file):
    async def scenario(ingest_log):
        await ingest_log.append([(0, movement("a", "view")), (0, movement("b", "view")),
                                 (0, movement("a", "click"))], None)
        page, _after = await ingest_log.tail(0, 10, range(0, 4), user_id="a")
        assert [row[0] for row in page] == [1, 3]
        page, _after = await ingest_log.tail(0, 10, range(0, 4), user_id="a", event="click")
        assert [row[0] for row in page] == [3]

    run(log_file, scenario)


def test_forget_user_deletes_that_users_rows_of_one_file_up_to_a_position(log_file):
    async def scenario(ingest_log):
        await ingest_log.append([(0, movement("a")), (1, movement("a")), (0, movement("b")),
                                 (0, movement("a"))], None)
        assert await ingest_log.forget_user(0, "a", 3) == 1
        assert await ingest_log.forget_user(0, "nobody", 3) == 0
        page, _after = await ingest_log.tail(0, 10, range(0, 4))
        assert [(row[0], row[2]) for row in page] == [(2, "a"), (3, "b"), (4, "a")]

    run(log_file, scenario)


def test_has_rows_and_backlog_tell_which_files_are_behind(log_file):
    async def scenario(ingest_log):
        await ingest_log.append([(0, movement("a")), (2, movement("b")), (0, movement("c"))], None)
        assert ingest_log.has_rows(0, 0, 3) and ingest_log.has_rows(0, 2, 3)
        assert not ingest_log.has_rows(0, 3, 3) and not ingest_log.has_rows(1, 0, 3)
        behind = ingest_log.backlog({0: 1, 1: 0, 2: 2})
        assert set(behind) == {0}
        assert behind[0][0] == 1 and 0 <= behind[0][1] < 60

    run(log_file, scenario)
