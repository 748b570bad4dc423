"""tracker backup and tracker restore: online, consistent, verified."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from helpers import (
    DAY,
    HOUR,
    Writers,
    add_site,
    movement,
    service_env,
    stored_event_ids,
    wait_until,
)


def cli(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tracker", *args], env={**os.environ, **env},
                          capture_output=True, text=True, timeout=120)


def test_backup_under_load_restores_every_event_acknowledged_before_it(tracker_server, data_dir, tmp_path):
    server = tracker_server(TRACKER_SYNC="full")
    dest = tmp_path / "backup"
    with Writers(server.url, threads=4) as writers:
        writers.wait_for(150)
        before = list(writers.acknowledged)
        made = cli("backup", str(dest), env=service_env(data_dir))
        time.sleep(0.5)
    assert made.returncode == 0, made.stderr
    assert len(before) > 100
    manifest = json.loads((dest / "backup.json").read_text())
    assert manifest["shards"] == 4 and len(manifest["files"]) == 6 and "log.sqlite" in manifest["files"]
    assert "sites.sqlite" in manifest["files"] and manifest["sites"] == [0]
    assert all(len(f["sha256"]) == 64 and f["bytes"] > 0 for f in manifest["files"].values())

    restored_dir = tmp_path / "restored"
    restored = cli("restore", str(dest), "--data-dir", str(restored_dir), env=service_env(restored_dir))
    assert restored.returncode == 0, restored.stderr
    server.stop()
    check = cli("check", env=service_env(restored_dir))
    assert check.returncode == 0 and check.stdout.count(": ok") == 6  # 4 shards, log, registry

    again = type(server)(restored_dir, service_env(restored_dir)).start()
    try:
        stored = stored_event_ids(again, writers.users)
    finally:
        again.stop()
    assert set(before) <= set(stored)
    assert len(stored) == len(set(stored))


def make_backup(tracker_server, data_dir, dest) -> None:
    server = tracker_server()
    with server.client() as client:
        client.post("/track", json={"events": [{"userId": f"u{i}", "sessionId": "s", "event": "e"}
                                               for i in range(20)]})
    assert cli("backup", str(dest), env=service_env(data_dir)).returncode == 0


def test_a_flipped_byte_is_refused_before_anything_is_touched(tracker_server, data_dir, tmp_path):
    dest = tmp_path / "backup"
    make_backup(tracker_server, data_dir, dest)
    victim = dest / "shard-0001.sqlite"
    content = bytearray(victim.read_bytes())
    content[len(content) // 2] ^= 0x01
    victim.write_bytes(bytes(content))
    target = tmp_path / "target"
    result = cli("restore", str(dest), "--data-dir", str(target), env=service_env(target))
    assert result.returncode == 2
    assert "shard-0001.sqlite does not match its SHA-256" in result.stderr
    assert not target.exists()


def test_an_incomplete_backup_is_refused(tracker_server, data_dir, tmp_path):
    dest = tmp_path / "backup"
    make_backup(tracker_server, data_dir, dest)
    (dest / "shard-0003.sqlite").unlink()
    result = cli("restore", str(dest), "--data-dir", str(tmp_path / "t1"), env=service_env(tmp_path / "t1"))
    assert result.returncode == 2 and "shard-0003.sqlite is missing" in result.stderr
    (dest / "backup.json").unlink()
    result = cli("restore", str(dest), "--data-dir", str(tmp_path / "t2"), env=service_env(tmp_path / "t2"))
    assert result.returncode == 2 and "the backup is incomplete" in result.stderr


def test_restore_refuses_a_running_service_and_another_shard_count(tracker_server, data_dir, tmp_path):
    dest = tmp_path / "backup"
    make_backup(tracker_server, data_dir, dest)
    running = tracker_server()
    busy = cli("restore", str(dest), env=service_env(data_dir))
    assert busy.returncode == 2 and "stop it first" in busy.stderr
    running.stop()
    other = tmp_path / "other"
    assert cli("migrate", env=service_env(other, TRACKER_SHARDS="8")).returncode == 0
    mismatch = cli("restore", str(dest), env=service_env(other, TRACKER_SHARDS="8"))
    assert mismatch.returncode == 2 and "has 8 shards, the backup 4" in mismatch.stderr


def test_backup_refuses_a_non_empty_destination(tracker_server, data_dir, tmp_path):
    dest = tmp_path / "backup"
    make_backup(tracker_server, data_dir, dest)
    again = cli("backup", str(dest), env=service_env(data_dir))
    assert again.returncode == 2 and "is not empty" in again.stderr


def site_answers(client, site: str, now: int) -> list[object]:
    window = {"from": now - 7 * DAY, "to": now, "site": site}
    return [client.get("/analytics", params=window).json(),
            client.get("/stats", params=window).json(),
            client.get("/breakdown", params={**window, "by": "page"}).json(),
            client.get("/movements", params={"userId": "u1", "site": site}).json(),
            client.get("/users/u1/export", params={"site": site}).text]


def test_every_live_site_is_backed_up_and_restored_with_its_archives(make_client, data_dir,
                                                                      tmp_path, now):
    keep_sessions = {"TRACKER_SESSION_TTL_SECONDS": str(30 * 86_400)}  # so that both compare
    client = make_client(TRACKER_RETENTION_DAYS="2", **keep_sessions)
    for site in ("shop", "gone"):
        add_site(client, site, f"{site}.example")
    for number, site in enumerate(("default", "shop", "gone")):
        events = [movement(f"u{n}", "s", "page_view", site=site, timestamp=now - 5 * DAY + n,
                           data={"path": f"/{site}/{n % (number + 2)}"}) for n in range(12)]
        events += [movement("u1", "s2", site=site, timestamp=now - HOUR)]
        assert client.post("/track", json={"events": events}).status_code == 200
    assert client.portal.call(client.app.state.jobs.run, "archive_movements") == 36
    client.portal.call(client.app.state.jobs.stop)  # the deletion below stays unfinished
    assert client.delete("/sites/gone").status_code == 202
    before = {site: site_answers(client, site, now) for site in ("default", "shop")}

    dest = tmp_path / "backup"
    made = cli("backup", str(dest), env=service_env(data_dir))
    assert made.returncode == 0, made.stderr
    manifest = json.loads((dest / "backup.json").read_text())
    assert manifest["sites"] == [0, 1]
    assert any(name.startswith("sites/1/archive/") for name in manifest["files"])
    assert not any(name.startswith("sites/2/") for name in manifest["files"])

    restored_dir = tmp_path / "restored"
    restored = cli("restore", str(dest), "--data-dir", str(restored_dir), env=service_env(restored_dir))
    assert restored.returncode == 0, restored.stderr
    check = cli("check", env=service_env(restored_dir))
    assert check.returncode == 0 and check.stdout.count(": ok") == 10  # 2 sites' shards, log, registry
    again = make_client(TRACKER_DATA_DIR=str(restored_dir), **keep_sessions)
    for site, answers in before.items():
        assert site_answers(again, site, now) == answers
    wait_until(lambda: again.get("/sites/gone").status_code == 404)
    assert [s["id"] for s in again.get("/sites").json()["sites"]] == ["default", "shop"]
    assert not (restored_dir / "sites" / "2").exists()
