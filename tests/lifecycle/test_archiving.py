"""Retention: old movements move into archive files, and every answer stays as it was."""

from __future__ import annotations

import contextlib
import gzip
import itertools
import json
import random
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers import DAY, LARGE_TABLES, connect, fold_all, movement, now_ms
from tracker.lifecycle import archiving, user_data
from tracker.storage import archives, connections
from user_datasets import (
    ERASED,
    USERS,
    WEB_FILTERS,
    all_movements,
    analytics_queries,
    dataset,
    dump_rollups,
    export_lines,
    post_all,
    same_answer,
    web_queries,
)

RETENTION = "2"


def archive_files(data_dir: Path) -> list[Path]:
    return sorted((data_dir / "archive").glob("*/*/*"))


def archived_lines(data_dir: Path) -> list[dict]:
    lines = []
    for path in archive_files(data_dir):
        with gzip.open(path, "rt") as file:  # several gzip members read as one stream
            lines += [json.loads(line) for line in file]
    return lines


def recorded_paths(data_dir: Path) -> set[str]:
    paths = set()
    for path in sorted(data_dir.glob("shard-*.sqlite")):
        with connect(path, read_only=True) as conn:
            paths |= {row[0] for row in conn.execute("SELECT path FROM archives")}
    return paths


def run_archiving(client) -> int:
    """One run of the archiving job (sweep, then archive); returns the movements archived."""
    return client.portal.call(client.app.state.jobs.run, "archive_movements")


def aging(make_client, **settings: str):
    """A service whose background jobs run only when the test says (its own loops are stopped)."""
    client = make_client(**settings)
    client.portal.call(client.app.state.jobs.stop)
    return client


@pytest.fixture
def kept_and_aged(make_client, data_dir, tmp_path, monkeypatch, now):
    """The same movements in two services: one keeps them all, one has archived the old ones.

    Members of a few lines make every read pick members out of many.
    """
    monkeypatch.setattr(archives, "MEMBER_LINES", 3)
    events = dataset(now)
    kept = make_client(TRACKER_DATA_DIR=str(tmp_path / "kept"))
    aged = aging(make_client, TRACKER_RETENTION_DAYS=RETENTION)
    post_all(kept, events, batch=97)
    post_all(aged, events, batch=97)
    archived = run_archiving(aged)
    assert archived == sum(e["timestamp"] < archiving.cutoff(now_ms(), 2) for e in events)
    return events, kept, aged


def test_archived_movements_still_count_in_every_answer(kept_and_aged, now):
    events, kept, aged = kept_and_aged
    archived = sum(e["timestamp"] < archiving.cutoff(now_ms(), 2) for e in events)
    assert f"tracker_movements_archived_total {archived:.1f}" in aged.get("/metrics").text
    for params in analytics_queries(now):
        left, right = same_answer(kept, aged, params)
        assert left == right, params


def test_visits_outlive_their_archived_movements(kept_and_aged, now):
    _events, kept, aged = kept_and_aged
    counted = []
    for path, params in web_queries(now):
        left, right = same_answer(kept, aged, params, path)
        assert left == right, (path, params)
        counted.append(left["totals"]["pageviews"] if path == "/stats" else len(left["results"]))
    assert sum(map(bool, counted)) > len(counted) // 2  # the answers compared are not all empty


def test_funnels_count_archived_movements(kept_and_aged, now):
    _events, kept, aged = kept_and_aged
    steps = [["page:/a", "click", "signup"], ["page_view", "page:/b", "page_view"]]
    reached = []
    for chosen, filters, by in itertools.product(steps, WEB_FILTERS, ["user", "visit"]):
        params = {"step": chosen, "filter": filters, "by": by, "timeRange": "30d"}
        left, right = same_answer(kept, aged, params, "/funnels")
        assert left == right, params
        reached.append(left["steps"][-1]["count"])
    assert any(reached)


def test_archives_hold_the_old_movements_once_and_movements_lists_the_rest(kept_and_aged, data_dir):
    events, kept, aged = kept_and_aged
    cutoff = archiving.cutoff(now_ms(), 2)
    lines = archived_lines(data_dir)
    assert sorted(line["eventId"] for line in lines) == sorted(
        e["eventId"] for e in events if e["timestamp"] < cutoff)
    assert all(line["type"] == "movement" for line in lines)
    for path in archive_files(data_dir):
        year, month, name = path.relative_to(data_dir / "archive").parts
        assert re.fullmatch(rf"shard-000\d-{year}{month}\d\d-[0-9a-f]{{8}}\.ndjson\.gz", name)
    assert {str(p.relative_to(data_dir)) for p in archive_files(data_dir)} == recorded_paths(data_dir)
    for user in USERS:
        stored = all_movements(aged, user)
        assert stored == [m for m in all_movements(kept, user) if m["timestamp"] >= cutoff]


def test_export_covers_the_archives(kept_and_aged):
    _events, kept, aged = kept_and_aged
    for user in USERS:
        assert sorted(map(json.dumps, export_lines(aged, user))) == \
            sorted(map(json.dumps, export_lines(kept, user)))


def test_erasure_covers_the_archives(kept_and_aged, make_client, data_dir, tmp_path, now):
    events, _kept, aged = kept_and_aged
    others_dir = tmp_path / "others"
    others = aging(make_client, TRACKER_DATA_DIR=str(others_dir), TRACKER_RETENTION_DAYS=RETENTION)
    post_all(others, [e for e in events if e["userId"] != ERASED], batch=97)
    run_archiving(others)
    erased = [e for e in events if e["userId"] == ERASED]

    answer = aged.delete(f"/users/{ERASED}").json()

    assert answer["movements"] == len(erased)
    assert not [line for line in archived_lines(data_dir) if line["userId"] == ERASED]
    assert {str(p.relative_to(data_dir)) for p in archive_files(data_dir)} == recorded_paths(data_dir)
    assert dump_rollups(data_dir) == dump_rollups(others_dir)
    for params in analytics_queries(now):
        left, right = same_answer(aged, others, params)
        assert left == right, params
    for path, params in web_queries(now):
        left, right = same_answer(aged, others, params, path)
        assert left == right, (path, params)
    assert aged.get(f"/users/{ERASED}/export").status_code == 404


def test_a_pass_cut_short_before_its_commit_leaves_nothing_twice(make_client, data_dir):
    client = aging(make_client, TRACKER_RETENTION_DAYS="1")
    now = now_ms()
    events = [movement(user=f"u{i % 7}", timestamp=now - 3 * DAY - i * 1000, eventId=f"e{i}")
              for i in range(300)]
    post_all(client, events)
    fold_all(client)
    for index, path in enumerate(sorted(data_dir.glob("shard-*.sqlite"))):
        with contextlib.closing(connections.connect(path, connections.Role.WRITER)) as conn:
            conn.execute("BEGIN IMMEDIATE")
            archiving.archive_some(conn, index, archiving.cutoff(now, 1))
            conn.execute("ROLLBACK")  # as if the process died before COMMIT
    orphans = archive_files(data_dir)
    assert orphans and not recorded_paths(data_dir)

    assert run_archiving(client) == len(events)

    assert not set(orphans) & set(archive_files(data_dir))
    assert sorted(line["eventId"] for line in archived_lines(data_dir)) == sorted(
        e["eventId"] for e in events)


def test_movements_arriving_for_an_archived_day_go_to_another_file(make_client, data_dir):
    client = aging(make_client, TRACKER_RETENTION_DAYS="1", TRACKER_SHARDS="1")
    old = archiving.cutoff(now_ms(), 1) - DAY // 2
    client.post("/track", json=movement(timestamp=old, eventId="first"))
    assert run_archiving(client) == 1
    client.post("/track", json=movement(timestamp=old + 1, eventId="second"))
    assert run_archiving(client) == 1

    assert len(archive_files(data_dir)) == 2
    window = {"from": old, "to": old + 2, "userId": "u1"}
    assert client.get("/analytics", params=window).json()["totals"]["movements"] == 2
    assert client.post("/track", json=movement(timestamp=old, eventId="second")).json() == \
        {"accepted": 1, "duplicates": 0, "ignored": 0}  # duplicates are found among stored movements only


def test_without_retention_nothing_is_archived(client, data_dir):
    client.post("/track", json=movement(timestamp=now_ms() - 20 * DAY))
    assert run_archiving(client) == 0
    assert not (data_dir / "archive").exists()
    assert len(all_movements(client, "u1")) == 1


def test_archive_list_names_every_file(kept_and_aged, data_dir):
    listed = subprocess.run([sys.executable, "-m", "tracker", "archive", "list",
                             "--data-dir", str(data_dir)], capture_output=True, text=True, check=True)
    files = archive_files(data_dir)
    for path in files:
        assert str(path.relative_to(data_dir)) in listed.stdout
    total = len(archived_lines(data_dir))
    assert f"{len(files)} files, {total:,} movements" in listed.stdout


def test_every_archive_statement_is_an_index_search(kept_and_aged, data_dir):
    statements = [archiving.OLDEST_MOVEMENT, archiving.ARCHIVABLE, archiving.DELETE_MOVEMENT,
                  archives.ARCHIVES_IN, archives.USER_ARCHIVES_IN, archives.USER_ARCHIVES,
                  archives.USER_ARCHIVE, archives.FIRST_USER_ARCHIVE, user_data.FORGET_USERS]
    with connect(data_dir / "shard-0000.sqlite") as conn:
        for sql in statements:
            plan = " | ".join(row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}",
                                                              [1] * sql.count("?")))
            scanned = set(re.findall(r"\bSCAN (\w+)", plan)) & (LARGE_TABLES | {"archive_users"})
            assert not scanned, f"{sql.strip()}\n  plan: {plan}"


def test_erasing_users_one_by_one_keeps_every_other_users_lines(make_client, data_dir):
    """Erasing users one by one from shared archive files keeps every other user's lines."""
    client = aging(make_client, TRACKER_RETENTION_DAYS="1", TRACKER_SHARDS="1")
    rng = random.Random(5)
    now = now_ms()
    events = [movement(user=f"u{rng.randrange(12)}", timestamp=now - 2 * DAY - rng.randrange(DAY),
                       eventId=f"e{i}") for i in range(2_000)]
    post_all(client, events)
    run_archiving(client)
    remaining = list(events)
    for user in [f"u{i}" for i in range(0, 12, 2)]:
        client.delete(f"/users/{user}")
        remaining = [e for e in remaining if e["userId"] != user]
        assert sorted(line["eventId"] for line in archived_lines(data_dir)) == sorted(
            e["eventId"] for e in remaining)


def cli(*args: str, data_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tracker", *args, "--data-dir", str(data_dir)],
                          capture_output=True, text=True, timeout=120)


def test_backup_carries_the_archives_and_restore_checks_them(kept_and_aged, make_client, data_dir,
                                                             tmp_path, now):
    _events, _kept, aged = kept_and_aged
    dest = tmp_path / "backup"
    assert cli("backup", str(dest), data_dir=data_dir).returncode == 0
    listed = json.loads((dest / "backup.json").read_text())["files"]
    archived = {str(p.relative_to(data_dir)) for p in archive_files(data_dir)}
    assert archived and archived <= set(listed)

    restored_dir = tmp_path / "restored"
    restored = cli("restore", str(dest), data_dir=restored_dir)
    assert restored.returncode == 0, restored.stderr
    check = cli("check", data_dir=restored_dir)
    assert check.returncode == 0 and check.stdout.count(": ok") == 6  # 4 shards, log, registry
    again = aging(make_client, TRACKER_DATA_DIR=str(restored_dir), TRACKER_RETENTION_DAYS=RETENTION)
    for params in analytics_queries(now)[::7]:
        left, right = same_answer(aged, again, params)
        assert left == right, params
    for user in USERS:
        assert export_lines(again, user) == export_lines(aged, user)


def test_a_damaged_or_missing_archive_file_is_refused(kept_and_aged, data_dir, tmp_path):
    dest = tmp_path / "backup"
    assert cli("backup", str(dest), data_dir=data_dir).returncode == 0
    victim = archive_files(dest)[0]
    blob = bytearray(victim.read_bytes())
    blob[len(blob) // 2] ^= 0x01
    victim.write_bytes(bytes(blob))
    refused = cli("restore", str(dest), data_dir=tmp_path / "restored")
    assert refused.returncode == 2
    assert f"{victim.name} does not match its SHA-256" in refused.stderr
    assert not (tmp_path / "restored" / "archive").exists()

    manifest = json.loads((dest / "backup.json").read_text())
    del manifest["files"][str(victim.relative_to(dest))]
    (dest / "backup.json").write_text(json.dumps(manifest))
    refused = cli("restore", str(dest), data_dir=tmp_path / "restored")
    assert refused.returncode == 2 and "records archive files the backup lacks" in refused.stderr

    damaged = archive_files(data_dir)[0]
    damaged.write_bytes(damaged.read_bytes()[:-1])
    check = cli("check", data_dir=data_dir)
    assert check.returncode == 1
    assert f"{damaged.relative_to(data_dir)} does not match its recorded size and SHA-256" in check.stdout


def test_a_missing_archive_file_is_a_503_naming_it_never_a_500(kept_and_aged, data_dir):
    _events, _kept, aged = kept_and_aged
    victim = archive_files(data_dir)[0]
    user = json.loads(gzip.open(victim).readline())["userId"]
    victim.unlink()
    for answer in (aged.get("/analytics", params={"timeRange": "30d", "userId": user}),
                   aged.get(f"/users/{user}/export"), aged.delete(f"/users/{user}")):
        assert answer.status_code == 503, answer.text
        assert answer.json() == {"error": "archive_unavailable",
                                 "detail": f"archive file {victim.name} cannot be read; "
                                           "run `tracker check`"}
        assert answer.headers["retry-after"] == "60"
    assert aged.get("/analytics", params={"timeRange": "24h"}).status_code == 200
    assert f"{victim.relative_to(data_dir)} is missing" in cli("check", data_dir=data_dir).stdout


def test_two_workers_archive_side_by_side_without_duplicates(tracker_server):
    server = tracker_server(workers=2, TRACKER_RETENTION_DAYS="1", TRACKER_ALARM_INTERVAL_SECONDS="1")
    now = now_ms()
    rng = random.Random(2)
    events = [movement(user=f"u{rng.randrange(30)}", timestamp=now - 2 * DAY - rng.randrange(20 * DAY),
                       eventId=f"e{i}") for i in range(20_000)]
    with server.client() as client:
        post_all(client, events)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and any(
                client.get("/movements", params={"userId": f"u{i}"}).json()["movements"]
                for i in range(30)):
            time.sleep(0.5)
        exported = []
        for i in range(30):
            lines = map(json.loads, client.get(f"/users/u{i}/export").text.splitlines())
            exported += [line["eventId"] for line in lines if line["type"] == "movement"]
    assert sorted(exported) == sorted(e["eventId"] for e in events)
    assert len(archived_lines(server.data_dir)) == len(events)
