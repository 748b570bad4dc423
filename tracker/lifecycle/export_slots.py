"""Places for exports in flight, shared by every worker: at most `limit` at once.

Each export is spooled whole to the data's disk before it is sent, and its
file lives as long as its client takes to read it; with no bound, clients
that stall could fill the disk with spooled answers. A place is a lock file,
`<data dir>/export-slots/slot-N.lock`, held (flock) from the first read of
the export to the end of its answer: the workers share the places without
talking to each other, and a process that dies gives its places back with it.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

SLOTS_DIR = "export-slots"


class ExportSlots:
    def __init__(self, data_dir: Path, limit: int):
        self.limit = limit
        self._directory = data_dir / SLOTS_DIR

    def take(self) -> int | None:
        """A place (a descriptor to give back), or None when all `limit` are taken."""
        self._directory.mkdir(exist_ok=True)
        for index in range(self.limit):
            fd = os.open(self._directory / f"slot-{index}.lock", os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            return fd
        return None

    @staticmethod
    def give_back(place: int) -> None:
        os.close(place)  # closing the descriptor releases its lock
