"""The shard files of every site (tracker/storage/shards.py).

Each site's files are known once, in shard order (site 0's in the data directory, site n's
in `sites/n/`), so each keeps its connections; a log key names the file of its site and
index; the live files are those of the registry's live sites; a deleted site's files are let
go. Reads run on the read pool on that thread's own connection; a file that cannot be read
is named by a `ShardUnreadable` and opened afresh by the next read. Writes go to the writer
of the file's shard number, which serves that shard of every site.
"""

from __future__ import annotations

import asyncio
import os
import shutil

import pytest

from helpers import service_env
from tracker.config import Config
from tracker.enrich.sources import rederive_functions
from tracker.storage import manifest, registry
from tracker.storage.connections import ShardUnreadable
from tracker.storage.read_pool import ReadPool
from tracker.storage.registry import RegistryFile
from tracker.storage.shards import ShardFiles, Shards
from tracker.storage.store import Layout, create_site_files, prepare

SHARDS = 4
NOW = 1_790_000_000_000


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """A data directory with sites 0 and 1, made once: migrating shard files takes a while."""
    data_dir = tmp_path_factory.mktemp("template") / "data"
    layout = prepare(Config.from_env(service_env(data_dir, TRACKER_SHARDS=str(SHARDS))),
                     rederive_functions())
    sites = layout.registry_file()
    with sites.transaction() as conn:
        registry.add_site(conn, "blog", "Blog", [], "UTC", NOW)
    sites.close()
    create_site_files(layout, 1, rederive_functions())
    return data_dir


@pytest.fixture
def data_dir(tmp_path, template):
    return shutil.copytree(template, tmp_path / "data")


@pytest.fixture
def files(data_dir):
    files = ShardFiles(data_dir, SHARDS, "normal")
    yield files
    files.close()


def count_movements(conn) -> int:
    return conn.execute("SELECT count(*) FROM movements").fetchall()[0][0]


def test_a_sites_files_are_known_once_in_shard_order(files, data_dir):
    site_1 = files.files(1)
    assert files.files(1) is site_1
    assert [f.path for f in site_1] == manifest.shard_paths(data_dir, SHARDS, 1)
    assert [(f.site, f.index) for f in site_1] == [(1, i) for i in range(SHARDS)]
    assert files.files(0)[0].path.parent == data_dir


@pytest.mark.parametrize(("key", "site", "index"), [(0, 0, 0), (3, 0, 3), (4, 1, 0), (7, 1, 3)])
def test_a_log_key_names_the_file_of_its_site_and_index(files, key, site, index):
    file = files.by_key(key)
    assert (file.site, file.index, file.key) == (site, index, key)
    assert file is files.files(site)[index]


def test_the_live_files_are_those_of_the_live_sites(files, data_dir):
    sites = RegistryFile(Layout(data_dir, SHARDS, 0).registry_path)
    try:
        assert [(f.site, f.index) for f in files.live(sites)] == [
            (s, i) for s in (0, 1) for i in range(SHARDS)]
        with sites.transaction() as conn:
            registry.mark_deleting(conn, 1, NOW)
        assert [f.site for f in files.live(sites)] == [0] * SHARDS
    finally:
        sites.close()


def test_a_forgotten_site_gets_new_file_objects_when_used_again(files):
    before = files.files(1)
    files.forget_site(1)
    assert files.files(1) is not before


def run(data_dir, scenario) -> None:
    async def main():
        pool = ReadPool(2)
        shards = Shards(data_dir, SHARDS, "normal", pool, 1000, asyncio.get_running_loop())
        try:
            await scenario(shards)
        finally:
            shards.stop()
            shards.close()
            pool.close()

    asyncio.run(main())


def test_reads_run_on_the_pool_in_the_files_order(data_dir):
    async def scenario(shards):
        site_0 = shards.files(0)
        await shards.submit(site_0[2], lambda conn: conn.execute(
            "INSERT INTO movements(userId, sessionId, timestamp, event, data) "
            "VALUES ('u', 's', 1, 'click', '{}')"))
        assert await shards.read_each(site_0, count_movements) == [0, 0, 1, 0]

    run(data_dir, scenario)


def test_one_writer_per_shard_number_serves_that_shard_of_every_site(data_dir):
    async def scenario(shards):
        assert len(shards.writers) == SHARDS
        site_0, site_1 = shards.files(0), shards.files(1)
        insert = "INSERT INTO movements(userId, sessionId, timestamp, event, data) VALUES ('u', 's', 1, 'x', '{}')"
        await asyncio.gather(shards.submit(site_0[1], lambda conn: conn.execute(insert)),
                             shards.submit(site_1[1], lambda conn: conn.execute(insert)))
        assert await shards.read(site_0[1], count_movements) == 1
        assert await shards.read(site_1[1], count_movements) == 1
        assert [w.label for w in shards.writers] == ["0", "1", "2", "3"]

    run(data_dir, scenario)


def test_a_file_that_cannot_be_read_is_named_and_read_afresh_once_back(data_dir, tmp_path):
    async def scenario(shards):
        file = shards.files(1)[2]
        assert await shards.read(file, count_movements) == 0
        os.rename(file.path, tmp_path / "aside.sqlite")
        with pytest.raises(ShardUnreadable) as unreadable:
            await shards.read(file, count_movements)
        assert unreadable.value.shard == 2
        with pytest.raises(ShardUnreadable):
            shards.snapshot(file)
        os.rename(tmp_path / "aside.sqlite", file.path)
        assert await shards.read(file, count_movements) == 0
        snapshot = shards.snapshot(file)
        snapshot.close()

    run(data_dir, scenario)
