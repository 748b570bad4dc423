"""A shard's file (tracker/storage/shard_file.py).

Shard `index` of site `site` is named in the log by its key, `site * shard count + index`, so
site 0's shards keep the numbers they had before sites existed. Creating a file brings it to
the latest schema, once; its fold position starts at 0 and moves only inside a transaction.
"""

from __future__ import annotations

import pytest

from tracker.enrich.sources import rederive_functions
from tracker.storage import migrations
from tracker.storage.connections import Role, connect
from tracker.storage.shard_file import ShardFile, move_position, position


@pytest.mark.parametrize(("site", "index", "key"), [(0, 0, 0), (0, 3, 3), (1, 0, 4), (2, 3, 11)])
def test_a_shard_files_key_in_the_log_is_site_times_shard_count_plus_index(tmp_path, site, index, key):
    assert ShardFile(site, index, 4, tmp_path / "s.sqlite").key == key


def test_a_new_file_is_at_the_latest_schema_and_creating_it_again_applies_nothing(tmp_path):
    file = ShardFile(0, 0, 4, tmp_path / "s.sqlite")
    applied = file.create_or_upgrade(rederive_functions())
    assert [m.version for m in applied] == list(range(1, migrations.LATEST_VERSION + 1))
    assert file.create_or_upgrade(rederive_functions()) == []
    conn = connect(file.path, Role.READER)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchall() == [("wal",)]
    finally:
        conn.close()


def test_the_fold_position_starts_at_0_and_moves_with_its_transaction(tmp_path):
    file = ShardFile(1, 2, 4, tmp_path / "s.sqlite")
    file.create_or_upgrade(rederive_functions())
    try:
        assert file.position() == 0
        with pytest.raises(RuntimeError):
            with file.transaction() as conn:
                move_position(conn, 7)
                assert position(conn) == 7
                raise RuntimeError("the fold failed")
        assert file.position() == 0
        with file.transaction() as conn:
            move_position(conn, 9)
        assert file.position() == 9
    finally:
        file.close()
