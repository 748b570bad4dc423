"""Operator warnings that a flood must not turn into a flood of log lines.

Nothing logged here carries event data, device info or tokens: only shard
numbers, counts and durations.
"""

from __future__ import annotations

import logging

from tracker.storage.group_commit import LOG_LABEL, CommitStats
from tracker.throttle import Throttled

__all__ = ["Throttled", "warn_if_slow", "warn_queue_full"]

# A group commit normally takes milliseconds; one this slow means the disk is
# struggling or the transactions are far too large.
SLOW_COMMIT_SECONDS = 1.0

slow_commits = Throttled(logging.getLogger("tracker.writer"))
full_queues = Throttled(logging.getLogger("tracker.writer"))


def warn_if_slow(commit: CommitStats) -> None:
    if commit.seconds >= SLOW_COMMIT_SECONDS:
        writer = "the log" if commit.writer == LOG_LABEL else f"shard {commit.writer}"
        slow_commits.warning("%s: slow commit: %.2f s for %d rows in %d jobs",
                             writer, commit.seconds, commit.events, commit.jobs)


def warn_queue_full() -> None:
    full_queues.warning("a shard writer's queue is full; answering 503 with Retry-After")


unreadable_shards = Throttled(logging.getLogger("tracker.store"))


def warn_shard_unreadable(error: Exception) -> None:
    unreadable_shards.warning("a read failed, answering 503: %s", error)
