"""An idle shard's large write-ahead log is checkpointed and truncated by a background job."""

from __future__ import annotations

import os
import time

from helpers import fold_all, movement
from tracker.storage import checkpoints
from tracker.storage.connections import JOURNAL_SIZE_LIMIT_BYTES


def wal_sizes(data_dir) -> list[int]:
    return [os.stat(f"{path}-wal").st_size for path in sorted(data_dir.glob("shard-*.sqlite"))
            if os.path.exists(f"{path}-wal")]


def post_until_a_wal_exceeds_the_limit(client) -> None:
    padding = "x" * 8_000
    for _ in range(200):
        events = [movement(user="u1", data={"pad": padding}) for _ in range(100)]
        assert client.post("/track", json={"events": events}).status_code == 200
        fold_all(client)  # the shard's WAL grows when the log is folded into it
        if max(wal_sizes(client.app.state.store.layout.data_dir)) > JOURNAL_SIZE_LIMIT_BYTES:
            return
    raise AssertionError("the WAL never grew past the limit")


def age_wals(data_dir, seconds: float) -> None:
    past = time.time() - seconds
    for path in data_dir.glob("shard-*.sqlite-wal"):
        os.utime(path, (past, past))


def test_an_idle_large_wal_is_truncated_and_a_busy_one_is_left(make_client, data_dir):
    client = make_client(TRACKER_SHARDS="1")
    client.portal.call(client.app.state.jobs.stop)
    post_until_a_wal_exceeds_the_limit(client)

    assert client.portal.call(client.app.state.jobs.run, "truncate_wal") == 0  # written just now

    age_wals(data_dir, checkpoints.IDLE_SECONDS + 1)
    assert client.portal.call(client.app.state.jobs.run, "truncate_wal") == 1
    assert wal_sizes(data_dir) == [0]
    assert client.get("/analytics", params={"userId": "u1"}).json()["totals"]["movements"] > 0


def test_a_small_wal_is_left_alone(make_client, data_dir):
    client = make_client(TRACKER_SHARDS="1")
    client.portal.call(client.app.state.jobs.stop)
    client.post("/track", json=movement())
    age_wals(data_dir, checkpoints.IDLE_SECONDS + 1)
    assert client.portal.call(client.app.state.jobs.run, "truncate_wal") == 0
