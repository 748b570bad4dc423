"""One shard's share of GET /analytics: every field checked against a brute-force count."""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

import analytics_reference as reference
from helpers import DAY, HOUR, TOKEN, movement, service_env
from tracker.app import create_app
from tracker.config import Config

ZONES = [None, "Asia/Kolkata", "Asia/Kathmandu", "Australia/Lord_Howe", "America/New_York",
         "Europe/London"]
USERS = ["alice", "bob", "carol", "dave", "erin"]
EVENTS = ["page_view", "click", "signup"]


def oldest(now: int) -> int:
    return now - 30 * DAY + HOUR  # ingest refuses movements more than 30 days old


def boundaries_before(now: int) -> list[int]:
    """UTC hours and every tested zone's midnights over the 30 days before `now`."""
    first = oldest(now)
    found = list(range(first - first % HOUR + HOUR, now, HOUR))
    for name in ZONES[1:]:
        day = datetime.fromtimestamp(first / 1000, ZoneInfo(name)).date()
        while (midnight := int(datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(name))
                               .timestamp() * 1000)) < now:
            found.append(midnight)
            day = day.fromordinal(day.toordinal() + 1)
    return [t for t in found if first < t < now - 1000]


def timestamps(now: int, boundaries: list[int]) -> st.SearchStrategy:
    clusters = [now - 3 * DAY, now - 10 * DAY + 7, now - 29 * DAY]  # several visits close together
    return st.one_of(
        st.integers(oldest(now), now),
        st.builds(lambda t, d: t + d, st.sampled_from(clusters),
                  st.integers(-40 * 60_000, 40 * 60_000)),
        st.builds(lambda t, d: t + d, st.sampled_from(boundaries), st.integers(-2, 2)),
        st.integers(now - 2 * HOUR, now),
    )


def movements(now: int, boundaries: list[int]) -> st.SearchStrategy:
    return st.builds(
        lambda user, session, event, ts, path: {
            "userId": user, "sessionId": session, "event": event, "timestamp": ts,
            **({"data": {"path": path}} if path is not None else {}),
        },
        st.sampled_from(USERS), st.sampled_from(["s1", "s2", "s3"]), st.sampled_from(EVENTS),
        timestamps(now, boundaries), st.sampled_from([None, "/", "/a", "/b", 7]),
    )


LENGTHS = [1, 59_999, HOUR - 1, HOUR, HOUR + 1, 5 * HOUR, 6 * HOUR + 40 * 60_000,
           6 * HOUR + 41 * 60_000, DAY + 7, 3 * DAY, 16 * DAY + 16 * HOUR, 16 * DAY + 17 * HOUR,
           31 * DAY, 400 * DAY]


def queries(anchors: list[int]) -> st.SearchStrategy:
    """Windows of every range, and explicit ones starting near movements and boundaries."""
    explicit = st.builds(lambda anchor, shift, length: (anchor + shift, anchor + shift + length),
                         st.sampled_from(anchors),
                         st.integers(-2 * HOUR, 2 * HOUR) | st.integers(-20 * 60_000, 20 * 60_000),
                         st.sampled_from(LENGTHS))
    return st.fixed_dictionaries({
        "window": st.one_of(st.sampled_from(["1h", "24h", "7d", "30d"]), explicit, explicit),
        "user": st.one_of(st.none(), st.none(), st.sampled_from(USERS)),
        "event": st.sampled_from([None, None, "page_view", "click"]),
        "zone": st.sampled_from(ZONES),
    })


def fresh_client(data_dir: Path) -> TestClient:
    config = Config.from_env(service_env(data_dir))
    return TestClient(create_app(config), headers={"Authorization": f"Bearer {TOKEN}"})


def ask(client: TestClient, query: dict) -> dict:
    window = query["window"]
    params = {"timeRange": window} if isinstance(window, str) else {"from": window[0], "to": window[1]}
    for key, name in (("userId", "user"), ("event", "event"), ("tz", "zone")):
        if query[name] is not None:
            params[key] = query[name]
    response = client.get("/analytics", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_every_answer_equals_a_brute_force_count(now):
    # Hypothesis needs the same strategies for every example, so the clock is read once.
    boundaries = boundaries_before(now)

    @settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(stored=st.lists(movements(now, boundaries), max_size=80), data=st.data())
    def every_answer_equals_a_brute_force_count(stored, data):
        anchors = boundaries + [m["timestamp"] for m in stored]
        asked = data.draw(st.lists(queries(anchors), min_size=1, max_size=6))
        with tempfile.TemporaryDirectory() as tmp, fresh_client(Path(tmp) / "data") as client:
            for start in range(0, len(stored), 25):  # several commits: rollups updated in steps
                answer = client.post("/track", json={"events": stored[start:start + 25]})
                assert answer.status_code == 200
            for query in [*asked, {"window": "30d", "user": None, "event": None, "zone": None}]:
                answer = ask(client, query)
                if not isinstance(query["window"], str):
                    assert answer["bucket"] == reference.expected_bucket(query["zone"],
                                                                         *query["window"])
                assert answer == reference.analytics(stored, answer, query["user"],
                                                     query["event"], query["zone"])

    every_answer_equals_a_brute_force_count()


@pytest.mark.parametrize("offsets", [
    (-3 * DAY, -2 * DAY),  # long: the user's gap of four days covers it
    (-DAY + 60_000, -DAY + 120_000),  # short: between two movements 10 minutes apart
])
def test_user_seen_around_a_window_but_not_in_it_is_not_counted(client, now, offsets):
    window = (now + offsets[0], now + offsets[1])
    stored = [movement(user="alice", timestamp=t) for t in
              (now - 5 * DAY, now - DAY, now - DAY + 600_000, now - HOUR)]
    stored.append(movement(user="bob", session="s2", timestamp=(window[0] + window[1]) // 2))
    client.post("/track", json={"events": stored})
    answer = client.get("/analytics", params={"from": window[0], "to": window[1]}).json()
    assert answer["totals"] == {"movements": 1, "pageViews": 0, "sessions": 1, "users": 1}
    assert answer == reference.analytics(stored, answer, None, None, None)


def test_sessions_are_still_counted_after_they_expire(make_client, now):
    client = make_client(TRACKER_SESSION_TTL_SECONDS="60")
    client.post("/track", json={"events": [movement(session="old", timestamp=now - 2 * HOUR),
                                           movement(session="old", timestamp=now - HOUR)]})
    assert client.portal.call(client.app.state.jobs.run, "expire_sessions") == 1
    assert client.get("/session", params={"sessionId": "old"}).status_code == 404
    for params in ({}, {"userId": "u1"}, {"timeRange": "30d", "tz": "Asia/Kathmandu"}):
        totals = client.get("/analytics", params=params).json()["totals"]
        assert totals == {"movements": 2, "pageViews": 0, "sessions": 1, "users": 1}


def test_a_piece_counted_as_its_minute_less_the_rest_is_exact(client, now):
    """Raw pieces longer than the rest of their minute are the minute's rollup less that rest:
    movements in the rest, before and after the piece, must not count."""
    minute = now - now % 60_000 - 2 * HOUR
    window = (minute - 2 * HOUR - 50_000, minute + 45_000)
    stamps = [window[0] - 5_000, window[0], window[0] + 30_000,  # the first piece and before it
              minute, minute + 44_999, minute + 45_000, minute + 59_999]  # the last and after it
    stored = [movement(user=f"u{n % 3}", session=f"s{n % 2}", event=event, timestamp=t,
                       data={"path": f"/{n % 2}"})
              for n, t in enumerate(stamps) for event in ("page_view", "click")]
    assert client.post("/track", json={"events": stored}).status_code == 200
    store = client.app.state.store
    client.portal.call(store.caught_up, store.live_files())  # counted from the rollups
    for event in (None, "page_view"):
        params = {"from": window[0], "to": window[1], **({"event": event} if event else {})}
        answer = client.get("/analytics", params=params).json()
        assert answer == reference.analytics(stored, answer, None, event, None)
