"""eventId de-duplication (tracker/storage/dedup.py).

`UnfoldedEventIds` knows every (shard, userId, eventId) logged and not yet known folded: what
a transaction stages counts inside it, and afterwards only if it committed; `catch_up` stages
what other processes appended; entries at or below a shard's folded position are pruned at
the next transaction, per shard. `FoldedProbe` asks a shard file which of a set of ids it
stores, in one snapshot with its position, and names the shard when the file cannot be read;
`FoldedLookups` asks each shard once per transaction. `is_duplicate` puts the two together.
"""

from __future__ import annotations

import os

import pytest

from tracker.enrich.sources import rederive_functions
from tracker.ingest.apply import apply_movements
from tracker.storage import log
from tracker.storage.connections import Role, ShardUnreadable, transaction
from tracker.storage.dedup import FoldedLookups, FoldedProbe, UnfoldedEventIds, is_duplicate
from tracker.storage.log import LogFile
from tracker.storage.rows import MovementRow
from tracker.storage.shard_file import ShardFile, move_position

KEY = ("u1", "e1")


def staged_and_ended(ids: UnfoldedEventIds, appended, last_seq: int, committed: bool) -> None:
    ids.begin()
    ids.stage(appended, last_seq)
    ids.end(committed)


def test_a_staged_id_counts_inside_its_transaction():
    ids = UnfoldedEventIds()
    ids.begin()
    ids.stage([(0, KEY)], 7)
    assert ids.logged_at(0, KEY) == 7


def test_a_committed_id_is_kept_with_its_position():
    ids = UnfoldedEventIds()
    staged_and_ended(ids, [(0, ("u1", "a")), (0, None), (1, ("u1", "b"))], 12, committed=True)
    assert (ids.logged_at(0, ("u1", "a")), ids.logged_at(1, ("u1", "b"))) == (10, 12)
    assert ids.seen == 12
    assert len(ids) == 2


def test_a_rolled_back_transaction_leaves_nothing_behind():
    ids = UnfoldedEventIds()
    staged_and_ended(ids, [(0, KEY)], 3, committed=False)
    assert ids.logged_at(0, KEY) is None
    assert ids.seen == 0


def test_an_id_belongs_to_its_shard_file():
    ids = UnfoldedEventIds()
    staged_and_ended(ids, [(0, KEY)], 1, committed=True)
    assert ids.logged_at(4, KEY) is None


def test_ids_a_shard_has_folded_are_pruned_at_the_next_transaction_and_only_its_own():
    ids = UnfoldedEventIds()
    staged_and_ended(ids, [(0, ("u1", "a")), (1, ("u1", "b")), (0, ("u1", "c"))], 3, committed=True)
    ids.prune_below({0: 1, 1: 0})
    assert ids.logged_at(0, ("u1", "a")) == 1  # not before a transaction begins
    ids.begin()
    assert ids.logged_at(0, ("u1", "a")) is None
    assert ids.logged_at(1, ("u1", "b")) == 2
    assert ids.logged_at(0, ("u1", "c")) == 3


def test_an_id_logged_again_later_is_not_pruned_with_its_older_position():
    ids = UnfoldedEventIds()
    staged_and_ended(ids, [(0, KEY)], 1, committed=True)
    staged_and_ended(ids, [(0, KEY)], 5, committed=True)
    ids.prune_below({0: 1})
    ids.begin()
    assert ids.logged_at(0, KEY) == 5


@pytest.fixture
def log_file(tmp_path):
    file = LogFile(tmp_path / "log.sqlite")
    file.create(0)
    yield file
    file.close()


def append(log_file: LogFile, rows: list[tuple[int, str, str | None]]) -> int:
    """Append (shard, userId, eventId) rows as another process would; the last position."""
    with log_file.transaction() as conn:
        return log.append_rows(conn, [(shard, 0, user, "s1", 1, "click", "{}", event_id, None, None, None)
                                      for shard, user, event_id in rows])


def test_catch_up_stages_what_other_processes_appended(log_file):
    append(log_file, [(0, "u1", "e1"), (0, "u2", None), (1, "u3", "e3")])
    ids = UnfoldedEventIds()
    with log_file.transaction() as conn:
        ids.begin()
        ids.catch_up(conn)
        ids.end(True)
    assert (ids.logged_at(0, ("u1", "e1")), ids.logged_at(1, ("u3", "e3"))) == (1, 3)
    assert ids.seen == 3

    append(log_file, [(0, "u4", "e4")])
    with log_file.transaction() as conn:
        ids.begin()
        ids.catch_up(conn)
        ids.end(True)
    assert ids.logged_at(0, ("u4", "e4")) == 4 and len(ids) == 3


@pytest.fixture
def shard(tmp_path):
    file = ShardFile(0, 2, 4, tmp_path / "shard.sqlite")
    file.create_or_upgrade(rederive_functions())
    yield file
    file.close()


def store(shard: ShardFile, user: str, event_id: str, folded_to: int) -> None:
    with shard.transaction() as conn:
        apply_movements(conn, [MovementRow(user, "s1", 1, "click", "{}", event_id)])
        move_position(conn, folded_to)


def test_the_probe_finds_ids_the_shard_stores(shard):
    store(shard, "u1", "e1", folded_to=1)
    store(shard, "u2", "e2", folded_to=1)
    probe = FoldedProbe({shard.key: shard}.__getitem__)
    asked = [("u1", "e1"), ("u1", "e2"), ("u2", "e1"), ("u2", "e2"), ("u3", "e3")]
    assert probe.look(shard.key, asked) == (1, frozenset({("u1", "e1"), ("u2", "e2")}))
    assert probe.look(shard.key, []) == (1, frozenset())


def test_the_probe_takes_ids_of_any_text(shard):
    odd = ("u\"1]", "e,\u00e9\\")
    store(shard, *odd, folded_to=1)
    probe = FoldedProbe({shard.key: shard}.__getitem__)
    assert probe.look(shard.key, [odd, ("u", "e")]).stored == {odd}


def lookups_of(shard: ShardFile, *keys) -> FoldedLookups:
    probe = FoldedProbe({shard.key: shard}.__getitem__)
    return FoldedLookups(probe, {shard.key: set(keys)})


def test_an_id_logged_past_the_shards_position_counts_as_stored(shard):
    store(shard, "u1", "other", folded_to=4)
    ids = UnfoldedEventIds()
    staged_and_ended(ids, [(shard.key, KEY)], 5, committed=True)
    assert is_duplicate(shard.key, KEY, ids, lookups_of(shard, KEY))  # not folded yet
    store(shard, "u1", "other", folded_to=5)
    assert not is_duplicate(shard.key, KEY, ids, lookups_of(shard, KEY))  # folded, not there


def test_is_duplicate_asks_the_shard_when_the_log_does_not_hold_the_id(shard):
    store(shard, "u1", "e1", folded_to=1)
    ids = UnfoldedEventIds()
    lookups = lookups_of(shard, KEY, ("u1", "new"))
    assert is_duplicate(shard.key, KEY, ids, lookups)
    assert not is_duplicate(shard.key, ("u1", "new"), ids, lookups)
    staged_and_ended(ids, [(shard.key, ("u1", "new"))], 2, committed=True)
    assert is_duplicate(shard.key, ("u1", "new"), ids, lookups)


def test_each_shard_is_asked_once_per_transaction(shard):
    lookups = lookups_of(shard, KEY)
    assert not is_duplicate(shard.key, KEY, UnfoldedEventIds(), lookups)
    store(shard, *KEY, folded_to=1)  # after the snapshot: this transaction does not see it
    assert not is_duplicate(shard.key, KEY, UnfoldedEventIds(), lookups)
    assert is_duplicate(shard.key, KEY, UnfoldedEventIds(), lookups_of(shard, KEY))


def test_a_shard_that_cannot_be_read_is_named(shard):
    shard.connection(Role.LOOKUP)
    os.remove(shard.path)
    probe = FoldedProbe({shard.key: shard}.__getitem__)
    with pytest.raises(ShardUnreadable) as unreadable:
        probe.look(shard.key, [KEY])
    assert unreadable.value.shard == shard.index == 2


def test_an_unreadable_shard_is_named_each_time_it_is_needed_in_the_transaction(shard):
    shard.connection(Role.LOOKUP)
    os.remove(shard.path)
    lookups = lookups_of(shard, KEY)
    for _ in range(2):
        with pytest.raises(ShardUnreadable) as unreadable:
            is_duplicate(shard.key, KEY, UnfoldedEventIds(), lookups)
        assert unreadable.value.shard == 2


def test_the_probe_answers_again_once_a_damaged_shard_is_repaired(shard):
    store(shard, "u1", "e1", folded_to=1)
    shard.close()
    intact = shard.path.read_bytes()
    probe = FoldedProbe({shard.key: shard}.__getitem__)
    shard.path.write_bytes(b"not a database, " * 512)  # the same file, overwritten in place
    with pytest.raises(ShardUnreadable):
        probe.look(shard.key, [KEY])
    shard.path.write_bytes(intact)
    assert probe.look(shard.key, [KEY]).stored == {KEY}


def test_the_probe_sees_only_what_the_shard_committed(shard):
    writer = shard.connection(Role.WRITER)
    probe = FoldedProbe({shard.key: shard}.__getitem__)
    with transaction(writer):
        move_position(writer, 9)  # not committed: the probe does not wait for it, nor see it
        apply_movements(writer, [MovementRow(*KEY[:1], "s1", 1, "click", "{}", KEY[1])])
        assert probe.look(shard.key, [KEY]) == (0, frozenset())
    assert probe.look(shard.key, [KEY]) == (9, frozenset({KEY}))
