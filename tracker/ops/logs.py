"""Operator warnings that a flood must not turn into a flood of log lines.

Nothing logged here carries event data, device info or tokens: only shard
numbers, counts and durations.
"""

from __future__ import annotations

import logging
import threading
import time

from tracker.storage.group_commit import CommitStats

# A group commit normally takes milliseconds; one this slow means the disk is
# struggling or the transactions are far too large.
SLOW_COMMIT_SECONDS = 1.0
WARNING_INTERVAL_SECONDS = 10.0


class Throttled:
    """A warning logged at most once per interval; the next line says how many were held back."""

    def __init__(self, logger: logging.Logger, interval: float = WARNING_INTERVAL_SECONDS):
        self._logger = logger
        self._interval = interval
        self._next_at = 0.0
        self._held_back = 0
        self._lock = threading.Lock()

    def warning(self, message: str, *args: object) -> None:
        now = time.monotonic()
        with self._lock:
            if now < self._next_at:
                self._held_back += 1
                return
            held_back, self._held_back = self._held_back, 0
            self._next_at = now + self._interval
        if held_back:
            message = f"{message} (and {held_back} more since the last such warning)"
        self._logger.warning(message, *args)


slow_commits = Throttled(logging.getLogger("tracker.writer"))
full_queues = Throttled(logging.getLogger("tracker.writer"))


def warn_if_slow(commit: CommitStats) -> None:
    if commit.seconds >= SLOW_COMMIT_SECONDS:
        slow_commits.warning("shard %d: slow commit: %.2f s for %d rows in %d jobs",
                             commit.shard, commit.seconds, commit.events, commit.jobs)


def warn_queue_full() -> None:
    full_queues.warning("a shard writer's queue is full; answering 503 with Retry-After")


unreadable_shards = Throttled(logging.getLogger("tracker.store"))


def warn_shard_unreadable(error: Exception) -> None:
    unreadable_shards.warning("a read failed, answering 503: %s", error)
