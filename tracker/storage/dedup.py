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
from collections.abc import Callable

import apsw

from tracker.storage import log
from tracker.storage.connections import UNREADABLE, Role, ShardUnreadable
from tracker.storage.shard_file import ShardFile, position

Key = tuple[str, str]  # userId, eventId

HAS_EVENT = "SELECT 1 FROM movements WHERE userId = ? AND eventId = ?"


class UnfoldedEventIds:
    """(userId, eventId) -> position of every logged row not yet known folded by its shard.

    Used by the log writer's thread only, except `prune_below`, a plain assignment.
    Entries are kept per shard, so a shard that cannot fold holds back only its own.
    """

    def __init__(self) -> None:
        self._known: dict[Key, int] = {}
        self._order: dict[int, deque[tuple[int, Key]]] = {}  # per shard, oldest first
        self._seen = 0  # rows up to here are in _known
        self._staged: dict[Key, tuple[int, int]] = {}  # key -> (shard, seq)
        self._staged_seen = 0
        self._prune_to: list[int] = []  # each shard's folded position, as last told

    def __len__(self) -> int:
        return len(self._known)

    @property
    def seen(self) -> int:
        """The log's head as of this process's last committed append (no query needed)."""
        return self._seen

    def begin(self) -> None:
        """A transaction starts: prune what the shards have folded, stage nothing yet."""
        for shard, folded in enumerate(self._prune_to):
            order = self._order.get(shard)
            while order and order[0][0] <= folded:
                seq, key = order.popleft()
                if self._known.get(key) == seq:
                    del self._known[key]
        self._staged = {}
        self._staged_seen = self._seen

    def end(self, committed: bool) -> None:
        """Keep what the transaction staged only when it committed."""
        if committed:
            for key, (shard, seq) in self._staged.items():
                self._known[key] = seq
                self._order.setdefault(shard, deque()).append((seq, key))
            self._seen = self._staged_seen
        self._staged = {}

    def prune_below(self, positions: list[int]) -> None:
        """Each shard has folded up to its position: its entries at or below it may go."""
        self._prune_to = list(positions)

    def catch_up(self, conn: apsw.Connection) -> None:
        """Stage the eventIds other processes appended since this one last looked."""
        after = self._staged_seen
        for seq, shard, user_id, event_id in log.event_ids_after(conn, after):
            self._staged[(user_id, event_id)] = (shard, seq)
        self._staged_seen = max(after, log.head(conn))

    def stage(self, appended: list[tuple[int, Key | None]], last_seq: int) -> None:
        """Rows just appended, in order, as (shard, key or None without an eventId), the
        last at `last_seq`."""
        first = last_seq - len(appended) + 1
        for offset, (shard, key) in enumerate(appended):
            if key is not None:
                self._staged[key] = (shard, first + offset)
        self._staged_seen = max(self._staged_seen, last_seq)

    def logged_at(self, key: Key) -> int | None:
        staged = self._staged.get(key)
        return self._known.get(key) if staged is None else staged[1]


class FoldedProbe:
    """Looks eventIds up in the shards, on the log writer's thread.

    A shard that cannot be read (gone, moved, damaged) raises ShardUnreadable:
    its users' events with an eventId cannot be checked, so they are refused
    with a 503 naming it while every other shard's are taken.
    """

    def __init__(self, shards: list[ShardFile]):
        self._shards = shards

    def stored(self, shard: int, key: Key) -> bool:
        return self._on(shard, lambda conn: conn.execute(HAS_EVENT, key).fetchone() is not None)

    def stored_or_unfolded(self, shard: int, key: Key, seq: int) -> bool:
        """In one snapshot: the shard has not folded position `seq` yet, or stores the key."""
        def look(conn: apsw.Connection) -> bool:
            conn.execute("BEGIN")
            try:
                if position(conn) < seq:
                    return True
                return conn.execute(HAS_EVENT, key).fetchone() is not None
            finally:
                conn.execute("COMMIT")

        return self._on(shard, look)

    def _on(self, shard: int, look: Callable[[apsw.Connection], bool]) -> bool:
        database = self._shards[shard]
        try:
            return look(database.connection(Role.LOOKUP))
        except UNREADABLE as error:
            database.forget(Role.LOOKUP)
            raise ShardUnreadable(shard, error) from error


def is_duplicate(shard: int, key: Key, unfolded: UnfoldedEventIds, probe: FoldedProbe) -> bool:
    seq = unfolded.logged_at(key)
    if seq is None:
        return probe.stored(shard, key)
    return probe.stored_or_unfolded(shard, key, seq)
