"""The log's writer (tracker/storage/log_writer.py), the only writer of `log.sqlite`.

An append is one request, logged whole and answered with how many of its rows were new once
committed: a row whose (userId, eventId) its shard file already holds, or the log holds
unfolded, is a duplicate, whichever process logged it; appends sharing a transaction are
checked together, each shard asked once for all their eventIds. `trim` deletes only what each shard
has folded, and only once the live feed's retention has passed it; `forget_user` deletes the
rows at the positions it is given and `forget_shards` every row of a range of shard files.
"""

from __future__ import annotations

import asyncio
import shutil
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from tracker.enrich.sources import rederive_functions
from tracker.ingest.apply import apply_movements
from tracker.storage import fold, log
from tracker.storage.connections import Role
from tracker.storage.log import LogFile
from tracker.storage.log_writer import LogWriter
from tracker.storage.rows import MovementRow
from tracker.storage.shard_file import ShardFile

SHARDS = 4
SITE_1_SHARD_0 = 1 * SHARDS + 0  # a shard file's key in the log: site * shard count + index


def row(user: str = "u1", event_id: str | None = None, timestamp: int = 1_000) -> MovementRow:
    return MovementRow(user, "s1", timestamp, "click", "{}", event_id)


FILES = ((0, 0), (0, 1), (1, 0))  # (site, shard index)


def shard_path(root: Path, site: int, index: int) -> Path:
    return root / f"site-{site}-shard-{index}.sqlite"


class DataDir:
    """A log and shard files of two sites, copies of files made as the service makes them."""

    def __init__(self, root: Path, template: Path):
        for path in template.iterdir():
            shutil.copyfile(path, root / path.name)
        self.log_file = LogFile(root / "log.sqlite")
        self.files = {file.key: file for file in (
            ShardFile(site, index, SHARDS, shard_path(root, site, index)) for site, index in FILES)}

    def file_of(self, key: int) -> ShardFile:
        return self.files[key]

    def logged(self, shard: int) -> list[log.Logged]:
        return log.read_rows(self.log_file.connection(Role.READER), shard, 0, 10**9, 1000)

    def all_rows(self) -> list[tuple]:
        return self.log_file.connection(Role.READER).execute(
            "SELECT seq, shard, userId, eventId FROM log ORDER BY seq").fetchall()

    def fold(self, shard: int) -> None:
        """Fold the shard file up to the log's head, as the folding process does."""
        head = log.head(self.log_file.connection(Role.READER))
        with self.files[shard].transaction() as conn:
            fold.fold_to(conn, shard, self.log_file, head, apply_movements)

    def close(self) -> None:
        self.log_file.close()
        for file in self.files.values():
            file.close()


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """New files, made once: migrating a shard takes a while."""
    root = tmp_path_factory.mktemp("template")
    LogFile(root / "log.sqlite").create(0)
    for site, index in FILES:
        ShardFile(site, index, SHARDS, shard_path(root, site, index)).create_or_upgrade(
            rederive_functions())
    return root


@pytest.fixture
def data(tmp_path, template):
    data = DataDir(tmp_path, template)
    yield data
    data.close()


def with_writer(data: DataDir, scenario: Callable, writers: int = 1) -> None:
    """Run `scenario(*writers)` on a fresh loop, each writer stopped afterwards."""
    async def main():
        loop = asyncio.get_running_loop()
        running = [LogWriter(data.log_file, data.file_of, 100_000, loop) for _ in range(writers)]
        try:
            await scenario(*running)
        finally:
            for writer in running:
                writer.stop()

    asyncio.run(main())


def test_an_append_is_read_back_in_order_with_its_context(data):
    async def scenario(writer):
        assert await writer.append([(0, row("u1", "e1")), (1, row("u2")), (0, row("u3"))],
                                   '["Firefox"]') == 3

    with_writer(data, scenario)
    assert [(r.movement.userId, r.movement.eventId, r.context) for r in data.logged(0)] == \
        [("u1", "e1", '["Firefox"]'), ("u3", None, '["Firefox"]')]
    assert [r.movement for r in data.logged(1)] == [row("u2")]
    assert [seq for seq, *_ in data.all_rows()] == [1, 2, 3]


def test_an_event_id_logged_and_not_yet_folded_is_a_duplicate(data):
    async def scenario(writer):
        assert await writer.append([(0, row("u1", "e1"))], None) == 1
        assert await writer.append([(0, row("u1", "e1", timestamp=2_000)), (0, row("u1", "e2"))],
                                   None) == 1

    with_writer(data, scenario)
    assert [r.movement.eventId for r in data.logged(0)] == ["e1", "e2"]
    assert data.logged(0)[0].movement.timestamp == 1_000


def test_an_event_id_its_shard_has_folded_is_a_duplicate_after_the_log_forgot_it(data):
    async def scenario(writer):
        await writer.append([(0, row("u1", "e1"))], None)
        data.fold(0)
        writer.unfolded.prune_below({0: 1})
        assert await writer.forget_user([1]) == 1  # the log keeps it no more
        assert await writer.append([(0, row("u1", "e1"))], None) == 0

    with_writer(data, scenario)
    assert data.all_rows() == []


def test_an_event_id_erased_from_its_shard_may_be_sent_again(data):
    async def scenario(writer):
        await writer.append([(0, row("u1", "e1"))], None)
        data.fold(0)
        with data.files[0].transaction() as conn:
            conn.execute("DELETE FROM movements WHERE userId = 'u1'")
        assert await writer.append([(0, row("u1", "e1"))], None) == 1

    with_writer(data, scenario)


def test_the_same_event_id_of_another_user_or_shard_file_is_new(data):
    async def scenario(writer):
        await writer.append([(0, row("u1", "e1"))], None)
        assert await writer.append([(0, row("u2", "e1")), (SITE_1_SHARD_0, row("u1", "e1"))],
                                   None) == 2

    with_writer(data, scenario)


def test_rows_without_an_event_id_are_never_duplicates(data):
    async def scenario(writer):
        assert await writer.append([(0, row()), (0, row())], None) == 2
        assert await writer.append([(0, row())], None) == 1

    with_writer(data, scenario)
    assert len(data.logged(0)) == 3


def test_an_event_id_another_process_logged_is_a_duplicate(data):
    async def scenario(first, second):
        assert await first.append([(0, row("u1", "e1"))], None) == 1
        assert await second.append([(0, row("u1", "e1")), (0, row("u1", "e2"))], None) == 1
        assert await first.append([(0, row("u1", "e2"))], None) == 0

    with_writer(data, scenario, writers=2)
    assert [r.movement.eventId for r in data.logged(0)] == ["e1", "e2"]


def test_appends_sharing_a_transaction_ask_each_shard_once_and_catch_every_duplicate(
        data, monkeypatch):
    async def scenario(writer):
        await writer.append([(0, row("u1", "folded")), (1, row("u2", "logged"))], None)
        data.fold(0)
        asked = []
        look = writer._probe.look
        monkeypatch.setattr(writer._probe, "look",
                            lambda shard, keys: asked.append(shard) or look(shard, keys))
        release = threading.Event()
        busy = writer.submit(data.log_file, lambda conn: release.wait(30))
        while writer.queued_events:  # the writer holds the busy job: the appends queue behind it
            await asyncio.sleep(0.01)
        appends = [
            writer.append([(0, row("u1", "folded")), (0, row("u1", "new"))], None),
            writer.append([(1, row("u2", "logged")), (0, row("u1", "new")),
                           (SITE_1_SHARD_0, row("u1", "new"))], None),
            writer.append([(0, row("u1", "new")), (1, row("u2", "new")), (1, row("u2"))], None)]
        release.set()
        await busy
        assert await asyncio.gather(*appends) == [1, 1, 2]
        assert sorted(asked) == [0, 1, SITE_1_SHARD_0]

    with_writer(data, scenario)
    assert [(shard, user, event_id) for _seq, shard, user, event_id in data.all_rows()] == [
        (0, "u1", "folded"), (1, "u2", "logged"), (0, "u1", "new"),
        (SITE_1_SHARD_0, "u1", "new"), (1, "u2", "new"), (1, "u2", None)]


def test_trim_deletes_only_what_each_shard_has_folded(data, monkeypatch):
    monkeypatch.setattr(log, "RETAIN_MS", -60_000)  # every row is past the live feed's retention

    async def scenario(writer):
        await writer.append([(0, row("a")), (1, row("b")), (0, row("c")), (0, row("d"))], None)
        assert await writer.trim({0: 3, 1: 0}) == 2

    with_writer(data, scenario)
    assert [(seq, shard) for seq, shard, *_ in data.all_rows()] == [(2, 1), (4, 0)]


def test_trim_keeps_rows_the_live_feed_may_still_replay(data):
    async def scenario(writer):
        await writer.append([(0, row("a")), (0, row("b"))], None)
        assert await writer.trim({0: 2}) == 0

    with_writer(data, scenario)
    assert len(data.logged(0)) == 2


def test_trim_is_not_queued_when_no_shard_moved_since_the_last(data, monkeypatch):
    monkeypatch.setattr(log, "RETAIN_MS", -60_000)

    async def scenario(writer):
        await writer.append([(0, row("a")), (1, row("b"))], None)
        assert await writer.trim({0: 1, 1: 0}) == 1
        assert writer.trim({0: 1, 1: 0}) is None
        assert await writer.trim({0: 1, 1: 2}) == 1

    with_writer(data, scenario)
    assert data.all_rows() == []


def test_forget_user_deletes_the_rows_at_the_given_positions(data):
    async def scenario(writer):
        await writer.append([(0, row("u1")), (0, row("u2")), (0, row("u1"))], None)
        positions = log.user_rows(data.log_file.connection(Role.READER), 0, "u1", 10)
        assert positions == [1, 3]
        assert await writer.forget_user(positions) == 2
        assert await writer.forget_user(positions) == 0

    with_writer(data, scenario)
    assert [user for _seq, _shard, user, _id in data.all_rows()] == ["u2"]


def test_forget_shards_deletes_every_row_of_the_range_only(data):
    async def scenario(writer):
        await writer.append([(0, row("a")), (1, row("b")), (SITE_1_SHARD_0, row("c"))], None)
        assert await writer.forget_shards(SHARDS, 2 * SHARDS) == 1

    with_writer(data, scenario)
    assert [shard for _seq, shard, *_ in data.all_rows()] == [0, 1]


def test_positions_are_never_reused_after_rows_are_deleted(data):
    async def scenario(writer):
        await writer.append([(0, row("a")), (0, row("b"))], None)
        await writer.forget_user([1, 2])
        await writer.append([(0, row("c"))], None)

    with_writer(data, scenario)
    assert [seq for seq, *_ in data.all_rows()] == [3]
