"""The shard layout, migrations and the command line's maintenance commands."""

from __future__ import annotations

import subprocess
import sys

import pytest

from helpers import connect, fold_all, movement, service_env
from tracker.config import Config
from tracker.enrich.sources import rederive_functions
from tracker.storage import manifest, migrations, shard_file
from tracker.storage.manifest import LayoutError
from tracker.storage.store import prepare


def test_shard_hash_is_stable_across_releases():
    # Changing these values would send existing users to the wrong file.
    assert [manifest.shard_of(u, 16) for u in ("u1", "alice", "\U0001F600", "x" * 128)] == \
        [GOLDEN[u] for u in ("u1", "alice", "\U0001F600", "x" * 128)]


GOLDEN = {"u1": 5, "alice": 9, "\U0001F600": 0, "x" * 128: 2}


def test_every_users_movements_are_in_exactly_one_shard_file(client, data_dir):
    users = [f"user-{i}" for i in range(60)]
    client.post("/track", json={"events": [movement(user=u) for u in users for _ in range(2)]})
    fold_all(client)
    found: dict[str, list[int]] = {}
    for index, path in enumerate(manifest.shard_paths(data_dir, 4)):
        with connect(path) as conn:
            for (user,) in conn.execute("SELECT DISTINCT userId FROM movements"):
                found.setdefault(user, []).append(index)
    assert found == {u: [manifest.shard_of(u, 4)] for u in users}
    assert len(set(i for [i] in found.values())) == 4


def test_first_schema_version_is_upgraded(tmp_path):
    path = tmp_path / "old.sqlite"
    with connect(path) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        migrations.apply(conn, upto=1)
        rows = [("u1", "s1", 1, "click", "{}", "dup"), ("u1", "s1", 2, "click", "{}", "dup"),
                ("u1", "s1", 3, "click", "{}", None), ("u1", "s1", 4, "click", "{}", None)]
        conn.executemany("INSERT INTO movements(userId, sessionId, timestamp, event, data, eventId) "
                         "VALUES (?, ?, ?, ?, ?, ?)", rows)
        assert migrations.current_version(conn) == 1

    assert [m.version for m in shard_file.create_or_upgrade(path, rederive_functions())] == [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]

    with connect(path) as conn:
        assert migrations.current_version(conn) == migrations.LATEST_VERSION
        assert [r[0] for r in conn.execute("SELECT timestamp FROM movements ORDER BY id")] == [1, 3, 4]
        indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert {"idx_movements_user_time", "idx_movements_event_id"} <= indexes
        assert "idx_movements_sessionId" not in indexes
    assert shard_file.create_or_upgrade(path, rederive_functions()) == []


def test_prepare_refuses_another_shard_count(data_dir):
    prepare(Config.from_env(service_env(data_dir, TRACKER_SHARDS="4")), rederive_functions())
    with pytest.raises(LayoutError, match="created with 4 shards but TRACKER_SHARDS is 8"):
        prepare(Config.from_env(service_env(data_dir, TRACKER_SHARDS="8")), rederive_functions())


def test_prepare_refuses_shard_files_without_manifest(data_dir):
    prepare(Config.from_env(service_env(data_dir)), rederive_functions())
    (data_dir / manifest.MANIFEST_NAME).unlink()
    with pytest.raises(LayoutError, match="no manifest.json"):
        prepare(Config.from_env(service_env(data_dir)), rederive_functions())


def run_cli(*args: str, env: dict) -> subprocess.CompletedProcess:
    import os
    return subprocess.run([sys.executable, "-m", "tracker", *args], env={**os.environ, **env},
                          capture_output=True, text=True, timeout=60)


def test_migrate_then_check_reports_every_shard_intact(data_dir):
    env = service_env(data_dir)
    migrate = run_cli("migrate", env=env)
    assert migrate.returncode == 0, migrate.stderr
    assert "shard-0003.sqlite: 1 base_schema, 2 ingest_indexes, 3 rollups" in migrate.stdout
    check = run_cli("check", env=env)
    assert check.returncode == 0
    assert check.stdout.count(": ok") == 5  # 4 shards and the site registry


def test_check_names_a_damaged_file(data_dir):
    env = service_env(data_dir)
    run_cli("migrate", env=env)
    damaged = data_dir / "shard-0002.sqlite"
    with connect(damaged) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    content = bytearray(damaged.read_bytes())
    content[4096:8192] = b"\xff" * 4096  # wreck page 2
    damaged.write_bytes(bytes(content))
    check = run_cli("check", env=env)
    assert check.returncode == 1
    assert f"{damaged}: DAMAGED" in check.stdout
    assert check.stdout.count(": ok") == 4
