"""Session expiry: sessions idle longer than the TTL are deleted; their movements stay."""

from __future__ import annotations

from functools import partial

import apsw

from tracker.storage.store import Store

# At most this many sessions go per transaction, so that a large backlog
# never holds a shard's lock for long.
EXPIRE_CHUNK = 5_000

EXPIRE_SESSIONS = """
DELETE FROM sessions WHERE id IN (
  SELECT id FROM sessions WHERE lastActivity < ? ORDER BY lastActivity LIMIT ?
)
"""


def expire_some(conn: apsw.Connection, cutoff: int, limit: int) -> int:
    """A write job: delete up to `limit` sessions whose last activity is before `cutoff`."""
    conn.execute(EXPIRE_SESSIONS, (cutoff, limit))
    return conn.changes()


async def expire_everywhere(store: Store, cutoff: int) -> int:
    """Delete every session idle since before `cutoff`, in every shard."""
    work = partial(expire_some, cutoff=cutoff, limit=EXPIRE_CHUNK)
    return await store.run_everywhere(lambda _file: work, again=lambda count: count == EXPIRE_CHUNK)
