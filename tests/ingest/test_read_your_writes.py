"""Reads never lag ingest: whatever was acknowledged is in the next read, in any worker."""

from __future__ import annotations

import queue
import threading
import time
import uuid

import httpx2 as httpx
import pytest

from helpers import movement

DAY = 86_400_000


def window() -> dict:
    now = int(time.time() * 1000)
    return {"from": now - DAY, "to": now + 3_600_000}


def batch(size: int, users: int = 200) -> list[dict]:
    return [movement(user=f"user-{uuid.uuid4().int % users}", eventId=uuid.uuid4().hex)
            for _ in range(size)]


@pytest.mark.slow
def test_every_acknowledged_batch_is_counted_by_the_next_analytics_call(tracker_server):
    server = tracker_server()
    answered: queue.Queue = queue.Queue()

    def post() -> None:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            for _ in range(150):
                events = batch(50)
                assert client.post("/track", json={"events": events}).status_code == 200
                answered.put(len(events))
        answered.put(None)

    poster = threading.Thread(target=post)
    poster.start()
    acknowledged = reads = 0
    with server.client() as client:
        while (count := answered.get(timeout=60)) is not None:
            acknowledged += count
            totals = client.get("/analytics", params=window()).json()["totals"]
            assert totals["movements"] >= acknowledged
            reads += 1
    poster.join()
    assert reads == 150 and acknowledged == 150 * 50


def test_two_workers_both_append_and_either_reads_everything(tracker_server):
    server = tracker_server(workers=2)
    posted = []
    for _ in range(12):  # a new connection each time: the kernel spreads them over the workers
        with httpx.Client(base_url=server.url, timeout=30) as client:
            events = batch(40, users=30)
            assert client.post("/track", json={"events": events}).status_code == 200
            posted += events
            again = client.post("/track", json={"events": events[:5]})  # duplicates across workers
            assert again.json()["duplicates"] == 5
    for _ in range(8):
        with server.client() as client:
            totals = client.get("/analytics", params=window()).json()["totals"]
            assert totals["movements"] == len(posted)
            assert totals["users"] == len({e["userId"] for e in posted})
    metrics = httpx.get(f"{server.url}/metrics").text
    assert "tracker_fold_rows_count" in metrics
