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


@pytest.mark.slow
def test_no_read_misses_an_event_acknowledged_before_it_while_the_backlog_bound_refuses(
        tracker_server):
    """Posters race a reader while the folding process folds and the bound in seconds of folding
    answers 503: every read counts at least what was acknowledged before it was sent."""
    server = tracker_server(TRACKER_MAX_BACKLOG_SECONDS="0.01")
    lock = threading.Lock()
    acknowledged = [0]
    statuses: dict[int, int] = {}
    done = threading.Event()

    def post() -> None:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            sent = 0
            while sent < 60:
                answer = client.post("/track", json={"events": batch(50, users=5_000)})
                with lock:
                    statuses[answer.status_code] = statuses.get(answer.status_code, 0) + 1
                    if answer.status_code == 200:
                        acknowledged[0] += 50
                        sent += 1
                if answer.status_code == 503:
                    time.sleep(0.05)

    posters = [threading.Thread(target=post) for _ in range(4)]
    for poster in posters:
        poster.start()
    reads = []
    with server.client() as client:
        while any(poster.is_alive() for poster in posters) or not done.is_set():
            if not any(poster.is_alive() for poster in posters):
                done.set()  # one more read after the last acknowledgement
            with lock:
                before = acknowledged[0]
            counted = client.get("/analytics", params=window()).json()["totals"]["movements"]
            assert counted >= before
            reads.append((before, counted))
    for poster in posters:
        poster.join()
    assert set(statuses) <= {200, 503}
    assert reads[-1] == (4 * 60 * 50, 4 * 60 * 50) and len(reads) > 3
