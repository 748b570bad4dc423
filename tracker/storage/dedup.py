"""eventId de-duplication decided before the answer, without a write per event.

An eventId is a duplicate when its shard has folded it (the shard's unique
index says so: a read) or when the log holds it unfolded. The second set is
kept in memory: every (userId, eventId) appended with its position, exact
across processes because each append transaction first reads the rows other
processes appended since this one last looked (under the log's write lock,
so nothing can slip in between), and rebuilt from the log the same way at
start-up. An entry stops counting once its shard has folded past it: then the
unique index decides, which also lets a user's erased eventId be sent again.
Entries below every shard's position are pruned.
"""

from __future__ import annotations

from collections import deque
from pathlib import Path

import apsw

from tracker.storage import log
from tracker.storage.connections import SMALL_CACHE_KIB, connect

Key = tuple[str, str]  # userId, eventId

HAS_EVENT = "SELECT 1 FROM movements WHERE userId = ? AND eventId = ?"
POSITION = "SELECT seq FROM fold_position"


class UnfoldedEventIds:
    """(userId, eventId) -> position of every logged row not yet known folded everywhere.

    Used by the log writer's thread only, except `prune_below`, a plain assignment.
    """

    def __init__(self) -> None:
        self._known: dict[Key, int] = {}
        self._order: deque[tuple[int, Key]] = deque()
        self._seen = 0  # rows up to here are in _known
        self._staged: dict[Key, int] = {}
        self._staged_seen = 0
        self._prune_to = 0

    def __len__(self) -> int:
        return len(self._known)

    @property
    def seen(self) -> int:
        """The log's head as of this process's last committed append (no query needed)."""
        return self._seen

    def begin(self) -> None:
        """A transaction starts: prune what every shard has folded, stage nothing yet."""
        while self._order and self._order[0][0] <= self._prune_to:
            seq, key = self._order.popleft()
            if self._known.get(key) == seq:
                del self._known[key]
        self._staged = {}
        self._staged_seen = self._seen

    def end(self, committed: bool) -> None:
        """Keep what the transaction staged only when it committed."""
        if committed:
            for key, seq in self._staged.items():
                self._known[key] = seq
                self._order.append((seq, key))
            self._seen = self._staged_seen
        self._staged = {}

    def prune_below(self, position: int) -> None:
        self._prune_to = max(self._prune_to, position)

    def catch_up(self, conn: apsw.Connection) -> None:
        """Stage the eventIds other processes appended since this one last looked."""
        after = self._staged_seen
        for seq, user_id, event_id in log.event_ids_after(conn, after):
            self._staged[(user_id, event_id)] = seq
        self._staged_seen = max(after, log.head(conn))

    def stage(self, keys: list[Key | None], last_seq: int) -> None:
        """Rows just appended, in order, the last at `last_seq` (None for rows without an eventId)."""
        first = last_seq - len(keys) + 1
        for offset, key in enumerate(keys):
            if key is not None:
                self._staged[key] = first + offset
        self._staged_seen = max(self._staged_seen, last_seq)

    def logged_at(self, key: Key) -> int | None:
        seq = self._staged.get(key)
        return self._known.get(key) if seq is None else seq


class FoldedProbe:
    """Read-only connections to every shard, for the log writer's thread."""

    def __init__(self, paths: list[Path]):
        self._paths = paths
        self._conns: dict[int, apsw.Connection] = {}

    def _conn(self, shard: int) -> apsw.Connection:
        conn = self._conns.get(shard)
        if conn is None:
            conn = self._conns[shard] = connect(self._paths[shard], cache_kib=SMALL_CACHE_KIB)
        return conn

    def stored(self, shard: int, key: Key) -> bool:
        return self._conn(shard).execute(HAS_EVENT, key).fetchone() is not None

    def stored_or_unfolded(self, shard: int, key: Key, seq: int) -> bool:
        """In one snapshot: the shard has not folded position `seq` yet, or stores the key."""
        conn = self._conn(shard)
        conn.execute("BEGIN")
        try:
            if conn.execute(POSITION).fetchone()[0] < seq:
                return True
            return conn.execute(HAS_EVENT, key).fetchone() is not None
        finally:
            conn.execute("COMMIT")

    def close(self) -> None:
        for conn in self._conns.values():
            conn.close()
        self._conns.clear()


def is_duplicate(shard: int, key: Key, unfolded: UnfoldedEventIds, probe: FoldedProbe) -> bool:
    seq = unfolded.logged_at(key)
    if seq is None:
        return probe.stored(shard, key)
    return probe.stored_or_unfolded(shard, key, seq)
