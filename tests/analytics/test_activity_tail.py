"""GET /analytics over shards with an unfolded tail: folding is held back after part of the
data, so every answer counts the folded tables plus the log's rows past them, and must equal
a brute force over every movement."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient
from test_activity import ask, boundaries_before, fresh_client, movements, queries

import analytics_reference as reference
from helpers import DAY, HOUR, connect, movement, same_shard_user
from tracker.analytics import activity_tail
from tracker.analytics.rollups import ALL_EVENTS, USERS

ALL = {"window": "30d", "user": None, "event": None, "zone": None}


def hold_folding(client: TestClient) -> None:
    """Fold everything acknowledged so far, then stop the app's background folding."""
    store = client.app.state.store
    client.portal.call(store.caught_up, store.live_files())
    store.follower.stop_folding()


def unfolded_rows(client: TestClient) -> int:
    store = client.app.state.store
    return sum(rows for rows, _age in client.portal.call(store.pool.run, store.backlog).values())


def fold_all(client: TestClient) -> None:
    store = client.app.state.store
    client.portal.call(store.caught_up, store.live_files())


def post(client: TestClient, stored: list[dict]) -> None:
    for start in range(0, len(stored), 25):  # several commits
        answer = client.post("/track", json={"events": stored[start:start + 25]})
        assert answer.status_code == 200, answer.text


def test_answers_with_an_unfolded_tail_equal_a_brute_force_count(now):
    boundaries = boundaries_before(now)

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(stored=st.lists(movements(now, boundaries), min_size=1, max_size=80), data=st.data())
    def with_an_unfolded_tail(stored, data):
        folded_count = data.draw(st.integers(0, len(stored) - 1))
        anchors = boundaries + [m["timestamp"] for m in stored]
        asked = [*data.draw(st.lists(queries(anchors), min_size=1, max_size=6)), ALL]
        with tempfile.TemporaryDirectory() as tmp, fresh_client(Path(tmp) / "data") as client:
            post(client, stored[:folded_count])
            hold_folding(client)
            post(client, stored[folded_count:])
            assert unfolded_rows(client) == len(stored) - folded_count
            for query in asked:
                answer = ask(client, query)
                assert answer == reference.analytics(stored, answer, query["user"], query["event"],
                                                     query["zone"])
            assert unfolded_rows(client) == len(stored) - folded_count  # the reads folded nothing

    with_an_unfolded_tail()


def test_a_tail_user_already_counted_in_the_folded_window_counts_once(client, now):
    earlier = [movement(user="alice", session="s1", timestamp=now - 2 * HOUR),
               movement(user="bob", session="s1", timestamp=now - 3 * DAY)]
    post(client, earlier)
    hold_folding(client)
    later = [movement(user="alice", session="s1", timestamp=now - HOUR),  # folded in the window
             movement(user="alice", session="s2", timestamp=now - HOUR),  # a new session
             movement(user="bob", session="s1", timestamp=now - HOUR)]  # folded before it only
    post(client, later)
    assert unfolded_rows(client) == 3
    totals = client.get("/analytics", params={"timeRange": "24h"}).json()["totals"]
    assert totals == {"movements": 4, "pageViews": 0, "sessions": 3, "users": 2}


def test_anonymous_visits_in_the_tail_are_the_sessions_a_fold_makes(make_client, now):
    client = make_client(peer="127.0.0.1", TRACKER_TRUSTED_PROXIES="127.0.0.1",
                         TRACKER_SESSION_TTL_SECONDS="600")
    headers = {"X-Forwarded-For": "203.0.113.9", "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) "
               "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"}

    def visit(minutes_ago: int) -> None:
        answer = client.post("/track", headers=headers, json={
            "event": "page_view", "timestamp": now - minutes_ago * 60_000,
            "data": {"path": "/", "host": "example.com"}})
        assert answer.status_code == 200, answer.text

    visit(60)
    hold_folding(client)
    for minutes_ago in (55, 50, 30, 5):  # the first two continue the folded visit
        visit(minutes_ago)
    assert unfolded_rows(client) == 4
    window = {"from": now - DAY, "to": now}
    before = client.get("/analytics", params=window).json()
    assert before["totals"] == {"movements": 5, "pageViews": 5, "sessions": 3, "users": 1}
    fold_all(client)
    assert client.get("/analytics", params=window).json() == before


def test_an_erased_user_is_not_counted_from_the_tail(client, now):
    store = client.app.state.store
    other = same_shard_user(store, "gone")
    post(client, [movement(user="gone", timestamp=now - 2 * HOUR)])
    hold_folding(client)
    post(client, [movement(user="gone", timestamp=now - HOUR, data={"path": "/a"}, event="page_view"),
                  movement(user=other, timestamp=now - HOUR)])
    answer = client.delete("/users/gone")
    assert answer.status_code == 200, answer.text
    post(client, [movement(user=other, timestamp=now - 30 * 60_000)])
    assert unfolded_rows(client) == 1
    for params in ({"timeRange": "24h"}, {"timeRange": "1h"}, {"timeRange": "24h", "userId": "gone"}):
        answer = client.get("/analytics", params=params).json()
        assert [page["path"] for page in answer["topPages"]] == []
        expected = 0 if "userId" in params else 1
        assert answer["totals"]["users"] == expected, params


def test_the_tail_probe_searches_each_entity_by_its_key(client, data_dir, now):
    """Spans that end in the window are nearly every entity under ingest: the probe must not
    walk them, whatever the planner would rather do."""
    post(client, [movement(user=f"u{n}", timestamp=now - HOUR) for n in range(200)])
    fold_all(client)
    with connect(data_dir / "shard-0000.sqlite") as conn:
        plan = [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {activity_tail.FOLDED_ACTIVE}",
                                               ('[["u1", ""]]', USERS, ALL_EVENTS, now - DAY, now))]
    assert plan[0].startswith("SCAN json_each"), plan
    assert "SEARCH span USING PRIMARY KEY (userId=? AND sessionId=? AND kind=? AND event=?)" in plan
