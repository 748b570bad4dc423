"""Shrinking idle write-ahead logs.

A busy shard's WAL grows to about WAL_AUTOCHECKPOINT_PAGES pages between
checkpoints, and `journal_size_limit` cuts it back only at the next write.
A shard that then goes quiet would keep that file, so once a shard has seen
no write for IDLE_SECONDS its WAL is checkpointed and truncated to nothing.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import apsw

from tracker.storage.connections import JOURNAL_SIZE_LIMIT_BYTES, Role, connect
from tracker.storage.store import Store

IDLE_SECONDS = 30

# A writer arriving mid-checkpoint waits at most this long; a checkpoint that
# would have to wait longer for one is skipped until the next run.
CHECKPOINT_BUSY_MS = 50


def truncate_if_idle(path: Path, now: float) -> bool:
    """Checkpoint and truncate the shard's WAL when it is large and untouched for a while."""
    wal = Path(f"{path}-wal")
    try:
        status = os.stat(wal)
    except FileNotFoundError:
        return False
    if status.st_size <= JOURNAL_SIZE_LIMIT_BYTES or now - status.st_mtime < IDLE_SECONDS:
        return False
    conn = connect(path, Role.WRITER)
    try:
        conn.set_busy_timeout(CHECKPOINT_BUSY_MS)
        conn.wal_checkpoint(mode=apsw.SQLITE_CHECKPOINT_TRUNCATE)
        return True
    except apsw.BusyError:
        return False
    finally:
        conn.close()


async def truncate_idle(store: Store) -> int:
    """Truncate every idle shard's large WAL; returns how many were truncated."""
    def sweep() -> int:
        now = time.time()
        return sum(truncate_if_idle(file.path, now) for file in store.live_files())

    return await store.pool.run(sweep)
