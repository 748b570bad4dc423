"""Reading a shard file with its unfolded tail (tracker/storage/tail.py): the query sees the
file's log rows past the position its own transaction reads, up to the log's head, however
far the file folds meanwhile, and rows as the store's Place puts them."""

from __future__ import annotations

import asyncio

from helpers import same_shard_user, service_env
from tracker.config import Config
from tracker.enrich.sources import rederive_functions
from tracker.ingest.apply import apply_movements
from tracker.storage import fold
from tracker.storage.rows import MovementRow
from tracker.storage.shard_file import position
from tracker.storage.store import Store, prepare
from tracker.storage.tail import read_with_tail, without_tail


def movement(user: str, at: int = 1_000) -> MovementRow:
    return MovementRow(user, "s1", at, "click", "{}", None)


def users(store) -> tuple[str, str, str]:
    """Three users of one shard file."""
    third = next(f"c{i}" for i in range(10_000) if store.shard_of(f"c{i}") == store.shard_of("a"))
    return "a", same_shard_user(store, "a"), third


def folded_and_tail(conn, unfolded) -> tuple[list[str], list[str], int]:
    with conn:
        stored = [user for (user,) in conn.execute("SELECT userId FROM movements ORDER BY id")]
        return stored, [row.userId for row in unfolded(conn)], position(conn)


def in_store(data_dir, scenario, **store_args) -> None:
    config = Config.from_env(service_env(data_dir, TRACKER_SHARDS="2"))
    layout = prepare(config, rederive_functions())

    async def main():
        store = Store(layout, config, apply_movements, fold_in_background=False, **store_args)
        try:
            await scenario(store)
        finally:
            await store.follower.stop()
            store.close()

    asyncio.run(main())


def test_the_tail_is_what_the_file_has_not_folded(tmp_path):
    async def scenario(store):
        a, b, c = users(store)
        file = store.file_of(0, a)
        await store.append([(0, movement(a)), (0, movement(b))])
        await store.caught_up([file])
        await store.append([(0, movement(c))])
        assert await store.read_with_tail(file, folded_and_tail) == ([a, b], [c], 2)
        await store.caught_up([file])
        assert await store.read_with_tail(file, folded_and_tail) == ([a, b, c], [], 3)

    in_store(tmp_path / "data", scenario)


def test_a_fold_between_the_logs_snapshot_and_the_files_loses_nothing(tmp_path):
    """The file folds after the log's snapshot began and before the query's transaction: the
    query sees the rows in the file, and none of them again in the tail."""
    async def scenario(store):
        a, b, _c = users(store)
        file = store.file_of(0, a)
        await store.append([(0, movement(a)), (0, movement(b))])

        def fold_then_read(conn, unfolded):
            with file.transaction() as writer:
                fold.fold_to(writer, file.key, store.log.file, 2, apply_movements)
            return folded_and_tail(conn, unfolded)

        found = await store.pool.run(read_with_tail, file, store.log.file, lambda c, rows: rows,
                                     fold_then_read)
        assert found == ([a, b], [], 2)

    in_store(tmp_path / "data", scenario)


def test_the_tail_comes_placed(tmp_path):
    def place(conn, rows):
        return [row._replace(userId=row.userId.upper()) for row in rows]

    async def scenario(store):
        await store.append([(0, movement("a"))])
        found = await store.read_with_tail(store.file_of(0, "a"), folded_and_tail)
        assert found == ([], ["A"], 0)

    in_store(tmp_path / "data", scenario, place=place)


def test_a_caught_up_read_has_no_tail(tmp_path):
    async def scenario(store):
        file = store.file_of(0, "a")
        await store.append([(0, movement("a"))])
        await store.caught_up([file])
        assert await store.shards.read(file, without_tail, folded_and_tail) == (["a"], [], 1)

    in_store(tmp_path / "data", scenario)
