"""Metrics of the real service with two workers: counts summed exactly, dead workers' gauges dropped."""

from __future__ import annotations

import os
import re
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx2 as httpx
from prometheus_client.multiprocess import MultiProcessCollector

from helpers import TLS, metric_samples, movement

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
        client.get("/analytics")  # folds the log: sessions are counted as they are made
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
