"""A shard failing every transaction (disk full, file gone) logs a line per 10 s, not per try.

Ingest appends to the log, so the shard's transactions are the folds that
every read of it runs first.
"""

from __future__ import annotations

import os
import time

from helpers import movement
from tracker.storage import manifest


def test_failing_transactions_are_logged_once_per_interval(tracker_server, data_dir):
    server = tracker_server()
    user = "u1"
    path = data_dir / f"shard-{manifest.shard_of(user, 4):04d}.sqlite"
    started = time.monotonic()
    os.rename(path, path.with_suffix(".aside"))
    path.mkdir()  # root ignores permissions; a directory in its place fails for anyone
    with server.client() as client:
        assert client.post("/track", json=movement(user=user)).status_code == 200
        statuses = [client.get("/movements", params={"userId": user}).status_code
                    for _ in range(300)]
    assert statuses == [503] * 300
    failures = [line for line in server.output().splitlines() if "transaction failed" in line]
    assert 1 <= len(failures) <= 1 + (time.monotonic() - started) // 10
    assert f"shard {manifest.shard_of(user, 4)}: " in failures[0]
