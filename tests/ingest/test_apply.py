"""Applying logged movements to a shard (tracker/ingest/apply.py).

`apply_movements` stores each movement once (a (userId, eventId) the shard holds is skipped,
and only what was stored counts), creates or extends the sessions of what it stored, a
session staying with the user who first used its id, and keeps the rollups and visits in the
same transaction unless told not to; it returns what it stored and created. Anonymous
movements are put in sessions first (tests/ingest/test_anonymous_sessions.py has the rule):
here, that the sessions they make are stored and found again by the next batch.
"""

from __future__ import annotations

import apsw
import pytest

from helpers import MINUTE
from tracker.ingest.anonymous_sessions import UNASSIGNED
from tracker.ingest.apply import applier, apply_movements
from tracker.storage.connections import transaction
from tracker.storage.fold import Applied
from tracker.storage.rows import MovementRow

T = 1_790_000_000_000
TTL = 30 * MINUTE


def movement(user="u1", session="s1", at=T, event="page_view", data='{"path":"/a"}',
             event_id=None) -> MovementRow:
    return MovementRow(user, session, at, event, data, event_id)




def applied(conn: apsw.Connection, rows, **options) -> Applied:
    with transaction(conn):
        return apply_movements(conn, rows, **options)


def movements(conn: apsw.Connection) -> list[tuple]:
    return conn.execute("SELECT userId, sessionId, timestamp, eventId FROM movements ORDER BY id").fetchall()


def sessions(conn: apsw.Connection) -> list[tuple]:
    return conn.execute("SELECT userId, sessionId, startTime, lastActivity FROM sessions ORDER BY id").fetchall()


def count(conn: apsw.Connection, table: str) -> int:
    return conn.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]


def test_movements_are_stored_with_their_sessions(shard):
    result = applied(shard, [movement(at=T + 5), movement(at=T), movement("u2", "s2", T + 1)])
    assert result == Applied(movements=3, sessions_created=2)
    assert movements(shard) == [("u1", "s1", T + 5, None), ("u1", "s1", T, None), ("u2", "s2", T + 1, None)]
    assert sessions(shard) == [("u1", "s1", T, T + 5), ("u2", "s2", T + 1, T + 1)]


def test_a_later_batch_extends_its_session_both_ways(shard):
    applied(shard, [movement(at=T)])
    result = applied(shard, [movement(at=T + 10), movement(at=T - 10)])
    assert result == Applied(2, 0)
    assert sessions(shard) == [("u1", "s1", T - 10, T + 10)]


def test_an_event_id_the_shard_holds_is_not_stored_again_nor_counted(shard):
    applied(shard, [movement(event_id="e1")])
    result = applied(shard, [movement(at=T + 1, event_id="e2"), movement(at=T + 99, event_id="e1"),
                             movement(at=T + 2)])
    assert result == Applied(2, 0)
    assert [row[3] for row in movements(shard)] == ["e1", "e2", None]
    assert sessions(shard) == [("u1", "s1", T, T + 2)]  # the duplicate's time extends nothing


def test_an_event_id_repeated_within_a_batch_is_stored_once(shard):
    assert applied(shard, [movement(event_id="e1"), movement(at=T + 1, event_id="e1")]).movements == 1


def test_a_session_stays_with_the_user_who_first_used_its_id(shard):
    applied(shard, [movement("u1", "shared", T)])
    result = applied(shard, [movement("u2", "shared", T + 50)])
    assert result == Applied(1, 0)
    assert movements(shard)[-1][:2] == ("u2", "shared")  # stored all the same
    assert sessions(shard) == [("u1", "shared", T, T)]


def test_rollups_and_visits_are_kept_in_the_same_transaction(shard):
    applied(shard, [movement(), movement(at=T + 1, event="click", data="{}")],
            contexts=['["Firefox","Linux","desktop","FR",null,null]', None])
    assert count(shard, "visits") == 1
    assert count(shard, "rollup_pages") > 0 and count(shard, "rollup_events") > 0


def test_without_derived_only_movements_and_sessions_are_stored(shard):
    assert applied(shard, [movement()], derived=False) == Applied(1, 1)
    assert count(shard, "visits") == count(shard, "rollup_pages") == count(shard, "rollup_events") == 0


def test_a_failure_inside_the_fold_leaves_nothing(shard):
    with pytest.raises(RuntimeError):
        with transaction(shard):
            apply_movements(shard, [movement(event_id="e1")])
            raise RuntimeError("the fold failed")
    assert count(shard, "movements") == count(shard, "sessions") == count(shard, "visits") == 0


def anonymous(at: int, visitor: str = "anon:v1") -> MovementRow:
    return movement(visitor, UNASSIGNED, at)


def test_a_gap_of_the_ttl_starts_a_new_session_even_across_batches(shard):
    applied(shard, [anonymous(T)], session_ttl_ms=TTL)
    result = applied(shard, [anonymous(T + TTL), anonymous(T + TTL + 5)], session_ttl_ms=TTL)
    assert result.sessions_created == 1
    assert [(start, last) for _u, _s, start, last in sessions(shard)] == [(T, T), (T + TTL, T + TTL + 5)]


def test_a_later_batch_joins_the_visitors_latest_session(shard):
    applied(shard, [anonymous(T)], session_ttl_ms=TTL)
    assert applied(shard, [anonymous(T + TTL - 1)], session_ttl_ms=TTL).sessions_created == 0
    assert len(sessions(shard)) == 1


def test_an_expired_session_is_not_joined(shard):
    applied(shard, [anonymous(T)], session_ttl_ms=TTL)
    shard.execute("DELETE FROM sessions")  # the alarm loop expired it
    assert applied(shard, [anonymous(T + 1)], session_ttl_ms=TTL).sessions_created == 1


def test_the_stores_apply_uses_the_configured_ttl_in_seconds(shard):
    apply = applier(60)
    with transaction(shard):
        apply(shard, [anonymous(T), anonymous(T + 60_000)], [None, None])
    assert len(sessions(shard)) == 2
