"""Free space on the data directory's disk, and the reserve ingest leaves on it.

When the disk fills, SQLite fails whatever it writes next (an append, a
fold, a checkpoint), and a few megabytes freed are eaten by the next burst of
ingest at once. So ingest is refused early, with a 503 and nothing stored,
while less than TRACKER_MIN_FREE_MB is free, and taken again by itself once
there is: folds, checkpoints and exports keep the reserve to work in.
`/readyz` reports the same state, and `tracker check` tells a disk too full
to check a file apart from a damaged one.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

log = logging.getLogger("tracker.disk")

MB = 1024 * 1024
# Below this the disk counts as full whatever the reserve: SQLite needs room for
# a shared-memory index and a journal even to read a file it did not open before.
FULL_BYTES = 1 * MB
# Free space is looked up at most this often per process: ingest asks on every request.
LOOK_SECONDS = 0.5


def free_bytes(path: Path) -> int:
    """Bytes an unprivileged process may still write on the disk holding `path`."""
    stats = os.statvfs(path)
    return stats.f_bavail * stats.f_frsize


def is_full(path: Path) -> bool:
    return free_bytes(path) < FULL_BYTES


class FreeSpace:
    """Whether the data directory's disk holds less than the reserve, looked up now and then;
    the moments it goes under and comes back are logged, once each."""

    def __init__(self, data_dir: Path, reserve_mb: int):
        self.data_dir = data_dir
        self.reserve_mb = reserve_mb
        self._least = max(reserve_mb * MB, FULL_BYTES)
        self._looked_at = float("-inf")
        self._shortage: str | None = None

    def shortage(self, max_age: float = LOOK_SECONDS) -> str | None:
        """None while the reserve is free, else a sentence saying how little is; looked up
        afresh when the last look is older than `max_age` seconds."""
        now = time.monotonic()
        if now - self._looked_at >= max_age:
            self._looked_at = now
            self._update(free_bytes(self.data_dir))
        return self._shortage

    def _update(self, free: int) -> None:
        if free >= self._least:
            if self._shortage is not None:
                log.warning("%s has %d MB free again: ingest resumes", self.data_dir, free // MB)
            self._shortage = None
            return
        if free < FULL_BYTES:
            shortage = (f"the disk of {self.data_dir} is full ({free // 1024} KiB free): ingest "
                        "is refused until space is freed")
        else:
            shortage = (f"the disk of {self.data_dir} has {free // MB} MB free, under "
                        f"TRACKER_MIN_FREE_MB={self.reserve_mb}: ingest is refused until more is")
        if self._shortage is None:
            log.warning("%s", shortage)
        self._shortage = shortage
