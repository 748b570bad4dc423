"""Retention: movements older than TRACKER_RETENTION_DAYS move into archive files.

Each job archives one UTC day's chunk of one shard inside the shard's write
transaction. A file is written and fsynced first, then recorded in the
transaction that deletes its movements: a crash before that commit leaves the
movements in place and the file unrecorded, and the next pass sweeps
unrecorded files before archiving the movements again, so nothing is lost or
duplicated. Rollups keep counting archived movements.
"""

from __future__ import annotations

from functools import partial

import apsw
import msgspec

from tracker.analytics.rollups import DAY
from tracker.lifecycle.user_data import DELETE_MOVEMENT
from tracker.schemas import ExportedMovement, encode
from tracker.storage import archives
from tracker.storage.queries import revenue_of
from tracker.storage.store import Store

ARCHIVE_CHUNK = 10_000

OLDEST_MOVEMENT = "SELECT min(timestamp) FROM movements"

ARCHIVABLE = """
SELECT id, userId, sessionId, timestamp, event, data, eventId, revenue, currency FROM movements
WHERE timestamp >= ? AND timestamp < ? ORDER BY timestamp, id LIMIT ?
"""



def cutoff(now_ms: int, retention_days: int) -> int:
    """Movements before this instant are archived: whole UTC days older than the retention."""
    oldest_kept = now_ms - retention_days * DAY
    return oldest_kept - oldest_kept % DAY


def archive_some(conn: apsw.Connection, shard: int, before: int, limit: int = ARCHIVE_CHUNK) -> int:
    """Move up to `limit` movements older than `before`, all of one UTC day, into a new file.

    A write job: returns how many movements it archived (0 once none are left).
    """
    oldest = conn.execute(OLDEST_MOVEMENT).fetchone()[0]
    if oldest is None or oldest >= before:
        return 0
    day = oldest - oldest % DAY
    rows = conn.execute(ARCHIVABLE, (day, min(before, day + DAY), limit)).fetchall()
    lines = [encode(ExportedMovement(user, session, stamp, event, msgspec.Raw(data or "{}"), event_id,
                                     revenue_of(amount, currency)))
             for _id, user, session, stamp, event, data, event_id, amount, currency in rows]
    written = archives.write(archives.data_dir_of(conn), shard, day, [row[3] for row in rows], lines)
    archive_id = archives.record(conn, written)
    archives.record_users(conn, archive_id, [row[1] for row in rows])
    conn.executemany(DELETE_MOVEMENT, [(row[0],) for row in rows])
    return len(rows)


def sweep(conn: apsw.Connection, shard: int) -> int:
    """Delete this shard's archive files that no committed transaction recorded.

    A write job: while it holds the write lock no other process can be
    between writing a file and recording it, so an unrecorded file is the
    leftover of a transaction that never committed.
    """
    data_dir = archives.data_dir_of(conn)
    recorded = {path for (path,) in conn.execute(archives.RECORDED_PATHS)}
    swept = 0
    for path in archives.files_of(data_dir, shard):
        if str(path.relative_to(data_dir)) not in recorded:
            path.unlink(missing_ok=True)
            swept += 1
    return swept


async def sweep_everywhere(store: Store) -> int:
    """Delete archive files no shard records (left by a transaction that never committed)."""
    return await store.run_everywhere(
        lambda file: partial(sweep, shard=file.index)
        if (file.path.parent / archives.ARCHIVE_DIR).is_dir() else _nothing)


def _nothing(conn: apsw.Connection) -> int:
    return 0


async def archive_everywhere(store: Store, before: int) -> int:
    """Move every movement older than `before` into archive files, in every shard."""
    # Each job archives at most one day's chunk, so a shard is done once a job finds nothing.
    return await store.run_everywhere(
        lambda file: partial(archive_some, shard=file.index, before=before),
        again=lambda count: count > 0)
