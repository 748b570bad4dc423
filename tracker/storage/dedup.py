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

The shards are asked once per shard per transaction, for every eventId of
the transaction's appends together (`FoldedLookups`): one snapshot answers
both the shard's folded position and which of the ids it stores. Any moment
inside the transaction is as good as another, since the log's write lock
is held throughout; a row appended later in the same transaction lies past
every folded position, so it counts as unfolded whatever the snapshot says.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from typing import NamedTuple

import apsw
import msgspec

from tracker.storage import log
from tracker.storage.connections import UNREADABLE, Role, ShardUnreadable
from tracker.storage.shard_file import ShardFile, position

Key = tuple[str, str]  # userId, eventId
Entry = tuple[int, Key]  # the shard file's key in the log, and the event's key there

# The ids asked, as a JSON array of [userId, eventId] pairs: one index search each.
STORED_OF = """
SELECT m.userId, m.eventId FROM json_each(?) AS asked
JOIN movements AS m ON m.userId = asked.value ->> 0 AND m.eventId = asked.value ->> 1
"""


class UnfoldedEventIds:
    """(shard, (userId, eventId)) -> position of every logged row not yet known folded by its
    shard (a shard file's key in the log: ids are per site, and so per file).

    Used by the log writer's thread only, except `prune_below`, a plain assignment.
    Entries are kept per shard, so a shard that cannot fold holds back only its own.
    """

    def __init__(self) -> None:
        self._known: dict[Entry, int] = {}
        self._order: dict[int, deque[tuple[int, Key]]] = {}  # per shard, oldest first
        self._seen = 0  # rows up to here are in _known
        self._staged: dict[Entry, int] = {}  # -> seq
        self._staged_seen = 0
        self._prune_to: dict[int, int] = {}  # each shard's folded position, as last told

    def __len__(self) -> int:
        return len(self._known)

    @property
    def seen(self) -> int:
        """The log's head as of this process's last committed append (no query needed)."""
        return self._seen

    def begin(self) -> None:
        """A transaction starts: prune what the shards have folded, stage nothing yet."""
        for shard, folded in self._prune_to.items():
            order = self._order.get(shard)
            while order and order[0][0] <= folded:
                seq, key = order.popleft()
                if self._known.get((shard, key)) == seq:
                    del self._known[(shard, key)]
        self._staged = {}
        self._staged_seen = self._seen

    def end(self, committed: bool) -> None:
        """Keep what the transaction staged only when it committed."""
        if committed:
            for (shard, key), seq in self._staged.items():
                self._known[(shard, key)] = seq
                self._order.setdefault(shard, deque()).append((seq, key))
            self._seen = self._staged_seen
        self._staged = {}

    def prune_below(self, positions: dict[int, int]) -> None:
        """Each shard has folded up to its position: its entries at or below it may go."""
        self._prune_to = dict(positions)

    def catch_up(self, conn: apsw.Connection) -> None:
        """Stage the eventIds other processes appended since this one last looked."""
        after = self._staged_seen
        for seq, shard, user_id, event_id in log.event_ids_after(conn, after):
            self._staged[(shard, (user_id, event_id))] = seq
        self._staged_seen = max(after, log.head(conn))

    def stage(self, appended: list[tuple[int, Key | None]], last_seq: int) -> None:
        """Rows just appended, in order, as (shard, key or None without an eventId), the
        last at `last_seq`."""
        first = last_seq - len(appended) + 1
        for offset, (shard, key) in enumerate(appended):
            if key is not None:
                self._staged[(shard, key)] = first + offset
        self._staged_seen = max(self._staged_seen, last_seq)

    def logged_at(self, shard: int, key: Key) -> int | None:
        staged = self._staged.get((shard, key))
        return self._known.get((shard, key)) if staged is None else staged


class Folded(NamedTuple):
    """One shard in one snapshot: the log position it has folded up to, and which of the
    keys asked it stores."""

    position: int
    stored: frozenset[Key]


class FoldedProbe:
    """Looks eventIds up in the shards, on the log writer's thread.

    A shard that cannot be read (gone, moved, damaged) raises ShardUnreadable:
    its users' events with an eventId cannot be checked, so they are refused
    with a 503 naming it while every other shard's are taken.
    """

    def __init__(self, file_of: Callable[[int], ShardFile]):
        self._file_of = file_of

    def look(self, shard: int, keys: Iterable[Key]) -> Folded:
        """In one snapshot: the shard's folded position and which of `keys` it stores."""
        asked = msgspec.json.encode(list(keys)).decode()

        def look(conn: apsw.Connection) -> Folded:
            conn.execute("BEGIN")
            try:
                at = position(conn)
                return Folded(at, frozenset(conn.execute(STORED_OF, (asked,)).fetchall()))
            finally:
                conn.execute("COMMIT")

        return self._on(shard, look)

    def _on(self, shard: int, look: Callable[[apsw.Connection], Folded]) -> Folded:
        database = self._file_of(shard)
        try:
            return look(database.connection(Role.LOOKUP))
        except UNREADABLE as error:
            database.forget(Role.LOOKUP)
            raise ShardUnreadable(database.index, error) from error


class FoldedLookups:
    """The shards' answers for one transaction: each shard asked once, when first needed,
    for every key of the transaction in that shard. A shard that could not be read raises
    its ShardUnreadable each time it is needed in the transaction."""

    def __init__(self, probe: FoldedProbe, keys: dict[int, set[Key]]):
        self._probe = probe
        self._keys = keys
        self._answers: dict[int, Folded | ShardUnreadable] = {}

    def of(self, shard: int) -> Folded:
        answer = self._answers.get(shard)
        if answer is None:
            try:
                answer = self._probe.look(shard, self._keys.get(shard, ()))
            except ShardUnreadable as unreadable:
                answer = unreadable
            self._answers[shard] = answer
        if isinstance(answer, ShardUnreadable):
            raise ShardUnreadable(answer.shard, answer.cause) from answer.cause
        return answer


def is_duplicate(shard: int, key: Key, unfolded: UnfoldedEventIds,
                 lookups: FoldedLookups) -> bool:
    """Logged and not yet folded by its shard, or stored by it."""
    folded = lookups.of(shard)
    seq = unfolded.logged_at(shard, key)
    if seq is not None and folded.position < seq:
        return True
    return key in folded.stored
