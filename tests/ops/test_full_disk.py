"""A full disk, for real: the data directory is a small tmpfs, filled and freed by the test.

Mounting needs root (CI runs as root); elsewhere these tests are skipped
with the reason. The server's log is written outside the small disk.
"""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers import movement, service_env, stored_event_ids

MB = 1024 * 1024
DISK_MB = 64
LATE = 30.0


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs as the data directory needs root")
    mount = tmp_path / "disk"
    mount.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={DISK_MB}m", "tmpfs", str(mount)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {mounted.stderr.strip()}")
    yield mount
    subprocess.run(["umount", "--lazy", str(mount)], check=True)


@pytest.fixture
def data_dir(small_disk: Path) -> Path:
    """The data directory is the small disk itself (its parent, where the log goes, is not)."""
    return small_disk


def free_bytes(path: Path) -> int:
    stats = os.statvfs(path)
    return stats.f_bavail * stats.f_frsize


def fill(disk: Path, leave: int) -> Path:
    """A file taking all but `leave` bytes of the disk's free space."""
    filler = disk / f"filler-{uuid.uuid4().hex}"
    with open(filler, "wb") as file:
        for _ in range(20):
            size = free_bytes(disk) - leave
            if size <= 0:
                break
            try:
                os.posix_fallocate(file.fileno(), 0, size)
                break
            except OSError as error:  # the service wrote meanwhile: less is free now
                if error.errno != errno.ENOSPC:
                    raise
    return filler


def fill_up(disk: Path) -> list[Path]:
    """Fillers until not a byte is free (tmpfs counts whole pages)."""
    fillers = [fill(disk, 0)]
    while free_bytes(disk):
        fillers.append(fill(disk, 0))
    return fillers


def post(server, user: str, count: int = 1):
    events = [movement(user=user, eventId=uuid.uuid4().hex) for _ in range(count)]
    with server.client() as client:
        return client.post("/track", json={"events": events}), [(user, e["eventId"]) for e in events]


def wait_for(condition, timeout: float = LATE) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "never happened"
        time.sleep(0.1)


def tracker_check(data_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tracker", "check"],
                          env={**os.environ, **service_env(data_dir)},
                          capture_output=True, text=True, timeout=120)


def test_ingest_is_refused_below_the_reserve_and_resumes_by_itself(tracker_server, small_disk):
    server = tracker_server(TRACKER_MIN_FREE_MB="16")
    answer, acknowledged = post(server, "before")
    assert answer.status_code == 200
    filler = fill(small_disk, 8 * MB)

    wait_for(lambda: post(server, "probe")[0].status_code == 503)
    answer, _ = post(server, "while-low")
    assert answer.status_code == 503 and answer.json()["error"] == "no_space"
    assert int(answer.headers["Retry-After"]) >= 1
    with server.client() as client:
        session = client.post("/session", json={"userId": "while-low", "sessionId": "s9"})
        assert session.status_code == 503 and session.json()["error"] == "no_space"
        ready = client.get("/readyz")
        assert ready.status_code == 503 and ready.json()["error"] == "no_space"
        assert "TRACKER_MIN_FREE_MB" in ready.json()["detail"]
        assert client.get("/movements", params={"userId": "while-low"}).json()["movements"] == []

    filler.unlink()
    freed_a_little = fill(small_disk, 12 * MB)  # more free, still under the reserve: refused
    time.sleep(1)
    assert post(server, "while-low")[0].status_code == 503
    freed_a_little.unlink()
    wait_for(lambda: post(server, "after")[0].status_code == 200)
    answer, later = post(server, "after")
    assert answer.status_code == 200
    with server.client() as client:
        assert client.get("/readyz").status_code == 200
    assert set(acknowledged + later) <= set(stored_event_ids(server, ["before", "after"]))


def test_a_full_disk_is_named_by_readyz_loses_nothing_and_check_says_no_space(tracker_server,
                                                                           small_disk):
    server = tracker_server(TRACKER_MIN_FREE_MB="0")  # no reserve: only a disk that is full
    acknowledged = []
    for i in range(20):
        answer, keys = post(server, f"user-{i % 4}", 50)
        assert answer.status_code == 200
        acknowledged += keys
    fillers = fill_up(small_disk)
    with server.client() as client:
        ready = client.get("/readyz")
        assert ready.status_code == 503 and ready.json()["error"] == "no_space"
    answer, _ = post(server, "user-0", 50)
    assert answer.status_code == 503 and answer.headers["Retry-After"]
    server.stop()
    fillers += fill_up(small_disk)  # closing the shards gave their WAL files' space back

    checked = tracker_check(small_disk)  # each file needs room for its shared-memory index
    assert "DAMAGED" not in checked.stdout, checked.stdout
    assert "NO SPACE" in checked.stdout and checked.returncode == 3, checked.stdout

    for filler in fillers:
        filler.unlink()
    checked = tracker_check(small_disk)
    assert checked.returncode == 0, checked.stdout
    server = tracker_server()
    stored = stored_event_ids(server, [f"user-{i}" for i in range(4)])
    assert set(acknowledged) <= set(stored)


def test_reads_of_folded_data_answer_while_the_disk_is_full(tracker_server, small_disk):
    server = tracker_server(TRACKER_MIN_FREE_MB="0")
    acknowledged = []
    for i in range(10):
        answer, keys = post(server, f"user-{i % 4}", 20)
        assert answer.status_code == 200
        acknowledged += keys
    with server.client() as client:
        before = client.get("/stats", params={"timeRange": "24h"})  # folds every shard
        assert before.status_code == 200
    fill_up(small_disk)

    with server.client() as client:
        assert client.get("/readyz").status_code == 503
        during = client.get("/stats", params={"timeRange": "24h"})
        assert during.status_code == 200, during.text
        assert during.json()["totals"] == before.json()["totals"]
        assert client.get("/analytics", params={"timeRange": "24h"}).status_code == 200
    assert set(stored_event_ids(server, [f"user-{i}" for i in range(4)])) == set(acknowledged)
