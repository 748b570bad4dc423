"""Sessions of anonymous visitors (tracker/ingest/anonymous_sessions.py).

Rows with a session id pass through untouched. An anonymous row (empty session id) joins its
visitor's latest session when that session's last movement is less than the TTL before it,
whether the session is in the shard already or began earlier in the batch; otherwise it
starts a new one. Each visitor's sessions are their own.
"""

from __future__ import annotations

from helpers import MINUTE
from tracker.ingest.anonymous_sessions import UNASSIGNED, in_sessions
from tracker.storage.rows import MovementRow

T = 1_790_000_000_000
TTL = 30 * MINUTE




def anonymous(at: int, visitor: str = "anon:v1") -> MovementRow:
    return MovementRow(visitor, UNASSIGNED, at, "page_view", "{}", None)


def stored_session(conn, visitor: str, session: str, start: int, last: int) -> None:
    conn.execute("INSERT INTO sessions(userId, sessionId, startTime, lastActivity) VALUES (?, ?, ?, ?)",
                 (visitor, session, start, last))


def sessions_of(rows: list[MovementRow]) -> list[str]:
    return [row.sessionId for row in rows]


def test_rows_with_a_session_id_pass_through(shard):
    rows = [MovementRow("u1", "s1", T, "click", "{}", None)]
    assert in_sessions(shard, rows, TTL) is rows


def test_a_new_visitors_rows_within_the_ttl_of_each_other_share_a_new_session(shard):
    placed = in_sessions(shard, [anonymous(T), anonymous(T + TTL - 1), anonymous(T + 2 * TTL - 2)], TTL)
    assert len(set(sessions_of(placed))) == 1
    assert placed[0].sessionId.startswith("anon:")
    assert [row._replace(sessionId=UNASSIGNED) for row in placed] == [
        anonymous(T), anonymous(T + TTL - 1), anonymous(T + 2 * TTL - 2)]


def test_a_gap_of_the_ttl_starts_a_new_session(shard):
    first, second = sessions_of(in_sessions(shard, [anonymous(T), anonymous(T + TTL)], TTL))
    assert first != second


def test_a_row_joins_the_visitors_latest_session_in_the_shard(shard):
    stored_session(shard, "anon:v1", "anon:older", T - 3 * TTL, T - 2 * TTL)
    stored_session(shard, "anon:v1", "anon:latest", T - TTL, T - 1)
    assert sessions_of(in_sessions(shard, [anonymous(T + TTL - 2)], TTL)) == ["anon:latest"]


def test_a_session_in_the_shard_ended_a_ttl_ago_is_not_joined(shard):
    stored_session(shard, "anon:v1", "anon:old", T - TTL, T - TTL)
    (session,) = sessions_of(in_sessions(shard, [anonymous(T)], TTL))
    assert session not in ("anon:old", UNASSIGNED)


def test_each_visitor_has_sessions_of_their_own(shard):
    stored_session(shard, "anon:a", "anon:of-a", T, T)
    placed = in_sessions(shard, [anonymous(T + 1, "anon:a"), anonymous(T + 1, "anon:b"),
                                 MovementRow("u1", "s1", T, "click", "{}", None)], TTL)
    assert placed[0].sessionId == "anon:of-a"
    assert placed[1].sessionId not in ("anon:of-a", UNASSIGNED)
    assert placed[2].sessionId == "s1"
