"""The ingest log's file and its operations (tracker/storage/log.py).

Positions only grow: `create` makes the next one greater than the floor it is given (the
shards' fold positions, so a lost or older log never reuses one) and never lowers it, and
deleted rows leave their positions unused. `read_rows` gives one shard's rows in a range, in
order; `tail` the rows of a range of shard files, of one user or event when asked; `unfolded`
and `backlog` count what a shard has not folded; `retained_from` is the oldest position the
live feed may still replay; `acknowledge` deletes a shard's rows up to a position.
"""

from __future__ import annotations

import pytest

from tracker.storage import log
from tracker.storage.connections import Role
from tracker.storage.log import RETAIN_MS, LogFile
from tracker.storage.rows import MovementRow

NOW = 1_790_000_000_000


@pytest.fixture
def log_file(tmp_path):
    file = LogFile(tmp_path / "log.sqlite")
    file.create(0)
    yield file
    file.close()


def append(log_file: LogFile, *rows: tuple[int, str, str, int], context: str | None = None) -> int:
    """Append (shard, userId, event, loggedAt) rows; the last position."""
    with log_file.transaction() as conn:
        return log.append_rows(conn, [(shard, logged_at, user, "s1", 1, event, "{}", None, None, None, context)
                                      for shard, user, event, logged_at in rows])


def reader(log_file: LogFile):
    return log_file.connection(Role.READER)


def test_an_empty_log_is_at_position_0(log_file):
    assert log.head(reader(log_file)) == 0


def test_the_first_position_is_above_the_floor(tmp_path):
    file = LogFile(tmp_path / "log.sqlite")
    file.create(41)
    try:
        assert append(file, (0, "u1", "click", NOW)) == 42
    finally:
        file.close()


def test_creating_again_raises_the_floor_but_never_lowers_it(log_file):
    append(log_file, (0, "u1", "click", NOW))
    with log_file.transaction() as conn:
        log.acknowledge(conn, 0, 1)  # no row left to tell the position
    log_file.create(0)
    assert append(log_file, (0, "u1", "click", NOW)) == 2
    log_file.create(100)
    assert log.head(reader(log_file)) == 100
    assert append(log_file, (0, "u1", "click", NOW)) == 101


def test_positions_are_not_reused_after_their_rows_are_deleted(log_file):
    append(log_file, (0, "u1", "click", NOW), (0, "u2", "click", NOW))
    with log_file.transaction() as conn:
        assert log.acknowledge(conn, 0, 2) == 2
    assert log.head(reader(log_file)) == 2
    assert append(log_file, (0, "u3", "click", NOW)) == 3


def test_read_rows_gives_one_shards_rows_in_a_range_in_order(log_file):
    append(log_file, (0, "a", "click", NOW), (1, "b", "click", NOW), (0, "c", "click", NOW),
           (0, "d", "click", NOW), (0, "e", "click", NOW), context='["Firefox"]')
    rows = log.read_rows(reader(log_file), 0, 1, 5, 2)
    assert [(r.seq, r.movement.userId, r.context) for r in rows] == [(3, "c", '["Firefox"]'),
                                                                      (4, "d", '["Firefox"]')]
    assert rows[0].movement == MovementRow("c", "s1", 1, "click", "{}", None)
    assert [r.seq for r in log.read_rows(reader(log_file), 0, 0, 4, 100)] == [1, 3, 4]


def test_acknowledge_deletes_only_that_shards_rows_up_to_the_position(log_file):
    append(log_file, (0, "a", "click", NOW), (1, "b", "click", NOW), (0, "c", "click", NOW))
    with log_file.transaction() as conn:
        assert log.acknowledge(conn, 0, 2) == 1
    assert [r.seq for r in log.read_rows(reader(log_file), 0, 0, 10, 10)] == [3]
    assert [r.seq for r in log.read_rows(reader(log_file), 1, 0, 10, 10)] == [2]


def test_tail_gives_the_rows_of_a_range_of_shard_files_of_a_user_and_event(log_file):
    append(log_file, (0, "u1", "click", NOW), (4, "u1", "click", NOW), (5, "u2", "view", NOW),
           (5, "u1", "view", NOW), (8, "u1", "click", NOW))
    conn = reader(log_file)
    site_1 = range(4, 8)
    assert [(r[0], r[1]) for r in log.tail(conn, 0, 10, 10, site_1)] == [(2, 4), (3, 5), (4, 5)]
    assert [r[0] for r in log.tail(conn, 0, 10, 10, site_1, user_id="u1")] == [2, 4]
    assert [r[0] for r in log.tail(conn, 0, 10, 10, site_1, event="view")] == [3, 4]
    assert [r[0] for r in log.tail(conn, 2, 3, 10, site_1)] == [3]
    assert [r[0] for r in log.tail(conn, 0, 10, 1, site_1)] == [2]
    assert log.tail(conn, 0, 10, 1, site_1)[0] == (2, 4, "u1", "s1", 1, "click", "{}", None)


def test_unfolded_counts_a_shards_rows_after_a_position_up_to_a_limit(log_file):
    append(log_file, (0, "a", "click", NOW + 3), (0, "b", "click", NOW + 1), (1, "c", "click", NOW),
           (0, "d", "click", NOW + 2))
    conn = reader(log_file)
    assert log.unfolded(conn, 0, 0, 10, 100) == (3, NOW + 1)
    assert log.unfolded(conn, 0, 0, 10, 2) == (2, NOW + 1)
    assert log.unfolded(conn, 0, 1, 2, 100) == (1, NOW + 1)
    assert log.unfolded(conn, 2, 0, 10, 100) == (0, None)


def test_backlog_counts_what_a_shard_has_not_folded_and_when_the_oldest_came(log_file):
    append(log_file, (0, "a", "click", NOW), (0, "b", "click", NOW + 7), (1, "c", "click", NOW))
    conn = reader(log_file)
    assert log.backlog(conn, 0, 0) == (2, NOW)
    assert log.backlog(conn, 0, 1) == (1, NOW + 7)
    assert log.backlog(conn, 0, 2) == (0, None)


def test_retained_from_is_the_oldest_position_the_live_feed_may_replay(log_file):
    append(log_file, (0, "a", "click", NOW - RETAIN_MS - 1), (0, "b", "click", NOW - RETAIN_MS),
           (0, "c", "click", NOW))
    conn = reader(log_file)
    assert log.retained_from(conn, NOW) == 2
    assert log.retained_from(conn, NOW + RETAIN_MS + 1) == 4  # every row older: head + 1


def test_user_rows_are_a_users_positions_in_one_shard_up_to_a_position(log_file):
    append(log_file, (0, "u1", "click", NOW), (1, "u1", "click", NOW), (0, "u2", "click", NOW),
           (0, "u1", "click", NOW), (0, "u1", "click", NOW))
    conn = reader(log_file)
    assert log.user_rows(conn, 0, "u1", 4) == [1, 4]


def test_forget_rows_counts_only_the_rows_still_there(log_file):
    append(log_file, (0, "a", "click", NOW), (0, "b", "click", NOW))
    with log_file.transaction() as conn:
        assert log.forget_rows(conn, [1, 2, 99]) == 2


def test_forget_shards_deletes_the_shard_files_of_a_range(log_file):
    append(log_file, (3, "a", "click", NOW), (4, "b", "click", NOW), (7, "c", "click", NOW),
           (8, "d", "click", NOW))
    with log_file.transaction() as conn:
        assert log.forget_shards(conn, 4, 8) == 2
    assert [r[1] for r in log.tail(reader(log_file), 0, 10, 10, range(0, 100))] == [3, 8]
