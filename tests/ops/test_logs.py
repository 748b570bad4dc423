"""Log lines: throttled warnings and slow commits."""

from __future__ import annotations

import logging
import time

from helpers import logged
from tracker.ops import logs
from tracker.storage.group_commit import CommitStats


def test_throttled_warning_logs_once_per_interval_then_says_how_many():
    throttled = logs.Throttled(logging.getLogger("tracker.test"), interval=0.2)
    with logged("tracker.test") as lines:
        for _ in range(50):
            throttled.warning("queue full on shard %d", 3)
        time.sleep(0.25)
        throttled.warning("queue full on shard %d", 3)
    assert lines == [
        "queue full on shard 3", "queue full on shard 3 (and 49 more since the last such warning)"]


def test_slow_commit_warns_and_fast_commit_does_not(monkeypatch):
    monkeypatch.setattr(logs, "slow_commits", logs.Throttled(logging.getLogger("tracker.writer")))
    with logged("tracker.writer") as lines:
        logs.warn_if_slow(CommitStats(writer="2", jobs=3, events=40, seconds=0.01, ok=True))
        logs.warn_if_slow(CommitStats(writer="2", jobs=3, events=40, seconds=2.5, ok=True))
    assert lines == [
        "shard 2: slow commit: 2.50 s for 40 rows in 3 jobs"]
