"""prometheus-client's multiprocess mode under `tracker serve`: two workers' counts summed
exactly, a dead worker's live gauges dropped, and the metrics directory of a killed server
reclaimed by the next, never one that is in use."""

from __future__ import annotations

import fcntl
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx2 as httpx
from prometheus_client.multiprocess import MultiProcessCollector

from helpers import TLS, metric_samples, movement
from tracker.ops import multiproc

REQUESTS = 60
EVENTS_PER_REQUEST = 5


def post_known_workload(url: str) -> None:
    """REQUESTS batches over fresh connections, so both workers get some."""
    def post(n: int) -> None:
        events = [movement(user=f"user-{n}", session=f"s-{n}", eventId=f"{n}-{k}")
                  for k in range(EVENTS_PER_REQUEST)]
        events.append(events[0])  # one duplicate in every request
        response = httpx.post(f"{url}/track", json={"events": events}, timeout=30, verify=TLS)
        assert response.json() == {"accepted": EVENTS_PER_REQUEST + 1, "duplicates": 1, "ignored": 0}

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(post, range(REQUESTS)))


def metrics_dir(server) -> Path:
    match = re.search(r"worker metrics in (\S+)", server.output())
    assert match, server.output()
    return Path(match.group(1))


def worker_pids(directory: Path) -> set[int]:
    """Processes that served requests (the folding process writes metric files too)."""
    return {pid for pid in process_pids(directory) if tracks_served(directory / f"counter_{pid}.db")}


def process_pids(directory: Path) -> set[int]:
    return {int(p.stem.rsplit("_", 1)[1]) for p in directory.glob("counter_*.db")}


def tracks_served(counter_file: Path) -> float:
    """POST /track requests one worker counted, read from its own file."""
    for family in MultiProcessCollector.merge([str(counter_file)]):
        for sample in family.samples:
            if sample.name == "tracker_http_requests_total" and sample.labels["route"] == "/track":
                return sample.value
    return 0


def assert_exact_counts(server) -> None:
    with server.client() as client:
        client.get("/stats")  # folds the log (/analytics reads the tail instead): sessions are counted as made
    for _ in range(4):  # whichever worker answers, the sums are the same
        samples = metric_samples(httpx.get(f"{server.url}/metrics", timeout=30, verify=TLS).text)
        assert samples[("tracker_events_ingested_total",)] == REQUESTS * EVENTS_PER_REQUEST
        assert samples[("tracker_events_duplicate_total",)] == REQUESTS
        assert samples[("tracker_events_accepted_total",)] == REQUESTS * (EVENTS_PER_REQUEST + 1)
        assert samples[("tracker_sessions_created_total",)] == REQUESTS
        assert samples[("tracker_track_batch_events_count",)] == REQUESTS
        assert samples[("tracker_http_requests_total", ("method", "POST"), ("route", "/track"),
                        ("status", "2xx"))] == REQUESTS


def test_two_workers_sum_to_the_exact_counts(tracker_server):
    server = tracker_server(workers=2)
    post_known_workload(server.url)
    directory = metrics_dir(server)
    served = [tracks_served(directory / f"counter_{pid}.db") for pid in worker_pids(directory)]
    assert len(served) == 2 and min(served) > 0 and sum(served) == REQUESTS
    assert_exact_counts(server)
    assert server.stop() == 0
    assert not directory.exists(), "the service removes the directory it made"


def test_a_dead_workers_live_gauges_go_and_its_counts_stay(tracker_server):
    server = tracker_server(workers=2)
    post_known_workload(server.url)
    directory = metrics_dir(server)
    dead = min(worker_pids(directory))
    assert (directory / f"gauge_livesum_{dead}.db").exists()
    os.kill(dead, signal.SIGKILL)
    deadline = time.monotonic() + 20
    while (directory / f"gauge_livesum_{dead}.db").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not (directory / f"gauge_livesum_{dead}.db").exists()
    server._wait_ready(20)
    assert_exact_counts(server)


def gone_pid() -> int:
    """The process id of a process that has exited."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_only_directories_of_servers_that_are_gone_and_unused_are_reclaimed(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    dead = gone_pid()
    stale = tmp_path / f"tracker-metrics-{dead}-aaaa"
    held = tmp_path / f"tracker-metrics-{dead}-bbbb"  # its server is gone, an orphan still runs
    live = tmp_path / f"tracker-metrics-{os.getpid()}-cccc"
    unnamed = tmp_path / "tracker-metrics-dddd"  # made by an older release: owner unknown
    for path in (stale, held, live, unnamed):
        path.mkdir()
        (path / "counter_1.db").write_bytes(b"x")
    lock = os.open(held, os.O_RDONLY | os.O_DIRECTORY)
    fcntl.flock(lock, fcntl.LOCK_SH)
    try:
        multiproc.reclaim_stale()
    finally:
        os.close(lock)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        p.name for p in (held, live, unnamed))


def test_the_last_orphan_out_removes_the_directory(tmp_path, monkeypatch):
    path = tmp_path / "tracker-metrics-1-eeee"
    path.mkdir()
    monkeypatch.setenv(multiproc.ENV, str(path))
    monkeypatch.setenv(multiproc.MADE_HERE_ENV, "1")
    first, second = multiproc.use(), multiproc.use()
    multiproc.leave(first, orphaned=True)
    assert path.exists()  # the second still uses it
    multiproc.leave(second, orphaned=True)
    assert not path.exists()


def test_a_directory_the_operator_named_is_never_removed(tmp_path, monkeypatch):
    monkeypatch.setenv(multiproc.ENV, str(tmp_path))
    monkeypatch.delenv(multiproc.MADE_HERE_ENV, raising=False)
    multiproc.leave(multiproc.use(), orphaned=True)
    assert tmp_path.exists()
