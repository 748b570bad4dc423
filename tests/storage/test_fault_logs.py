"""A shard failing every transaction (a full disk, a file gone) logs a line per 10 s, not per try."""

from __future__ import annotations

import logging
import os

from helpers import movement, same_shard_user
from tracker.ops.throttle import Throttled
from tracker.storage import group_commit


def test_failing_transactions_are_logged_once_per_interval(make_client, data_dir, monkeypatch):
    writer_log = logging.getLogger("tracker.writer")
    monkeypatch.setattr(group_commit, "failed_transactions", Throttled(writer_log, interval=60))
    client = make_client()
    store = client.app.state.store
    path = data_dir / f"shard-{store.shard_of('u1'):04d}.sqlite"
    os.rename(path, path.with_suffix(".aside"))
    path.mkdir()  # root ignores permissions; a directory in its place fails for anyone
    lines: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(record.getMessage())  # type: ignore[method-assign]
    writer_log.addHandler(handler)
    try:
        users = ["u1", same_shard_user(store, "u1")]
        statuses = [client.post("/track", json=movement(user=users[i % 2])).status_code
                    for i in range(200)]
    finally:
        writer_log.removeHandler(handler)
    assert statuses == [503] * 200
    failures = [line for line in lines if "transaction failed" in line]
    assert len(failures) == 1 and failures[0].startswith(f"shard {store.shard_of('u1')}: ")
