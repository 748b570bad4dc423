"""`tracker stats` reading the files of a running service."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from helpers import add_site, fold_all, movement
from tracker import cli
from tracker.storage import migrations


def run_stats(data_dir, capsys, monkeypatch) -> tuple[int, list[str], str]:
    # The command writes its flags into the environment: keep them out of later tests' services.
    monkeypatch.setenv("TRACKER_DATA_DIR", str(data_dir))
    with pytest.raises(SystemExit) as exit_:
        cli.main(["stats", "--data-dir", str(data_dir)])
    out, err = capsys.readouterr()
    return exit_.value.code, out.splitlines(), err


def test_stats_counts_every_shard_while_the_service_runs(client, data_dir, capsys, monkeypatch):
    client.post("/track", json={"events": [movement(user=f"u{i}", session=f"s{i}", eventId="e")
                                           for i in range(20)]})
    client.post("/track", json=movement(user="u0", session="s0"))
    fold_all(client)
    code, lines, _ = run_stats(data_dir, capsys, monkeypatch)
    assert code == 0
    assert lines[0].split() == ["shard", "movements", "sessions", "file", "bytes", "wal",
                                "bytes", "schema"]
    shards = [line.split() for line in lines[1:5]]
    assert [row[0] for row in shards] == [f"shard-{i:04d}.sqlite" for i in range(4)]
    assert {row[5] for row in shards} == {str(migrations.LATEST_VERSION)}
    total = lines[5].split()
    assert total[:3] == ["total", "21", "20"]
    assert sum(int(row[1]) for row in shards) == 21
    assert int(total[3]) == sum(p.stat().st_size for p in [f.path for f in client.app.state.store.files(0)])


def test_stats_names_a_shard_it_cannot_read_and_exits_1(client, data_dir, capsys, monkeypatch):
    path = [f.path for f in client.app.state.store.files(0)][3]
    os.rename(path, path.with_name("aside"))
    path.write_bytes(b"not a database at all" * 100)
    code, lines, err = run_stats(data_dir, capsys, monkeypatch)
    assert code == 1
    assert path.name in err
    assert len(lines) == 5  # header, three readable shards, total


def test_stats_and_check_cover_every_sites_files(client, data_dir, capsys, monkeypatch):
    add_site(client, "shop", "shop.example")
    client.post("/track", json={"events": [movement(f"u{i}", f"s{i}", site="default") for i in range(5)]
                                + [movement(f"u{i}", f"s{i}", site="shop") for i in range(7)]})
    fold_all(client)
    code, lines, _ = run_stats(data_dir, capsys, monkeypatch)
    assert code == 0
    rows = [line.split() for line in lines[1:9]]
    assert [row[0] for row in rows] == [f"shard-{i:04d}.sqlite" for i in range(4)] + [
        f"sites/1/shard-{i:04d}.sqlite" for i in range(4)]
    assert sum(int(row[1]) for row in rows[:4]) == 5 and sum(int(row[1]) for row in rows[4:]) == 7
    assert lines[9].split()[:3] == ["total", "12", "12"]

    damaged = data_dir / "sites" / "1" / "shard-0002.sqlite"
    os.rename(damaged, damaged.with_name("aside"))
    damaged.write_bytes(b"not a database at all" * 100)
    check = subprocess.run([sys.executable, "-m", "tracker", "check", "--data-dir", str(data_dir)],
                           capture_output=True, text=True, timeout=120)
    assert check.returncode == 1
    assert f"{damaged}: DAMAGED" in check.stdout
    assert check.stdout.count(": ok") == 9  # the other 7 shards, the log and the registry
