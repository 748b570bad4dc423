"""GET /retention: every answer equals the brute-force count of retention_reference.

Random users' movements (crowded around local midnights, where periods cut,
and spread over the 30 days ingest accepts), some of them anonymous, are
posted, then asked by day and by week over windows that cut through periods,
in zones with half-hour offsets and daylight saving, with and without an
event filter, of identified users (the default) or of every user.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

import retention_reference as reference
from helpers import DAY, HOUR, MINUTE, TOKEN, movement, service_env
from tracker.analytics import cohorts, zones
from tracker.app import create_app
from tracker.config import Config

ZONES = [None, "Asia/Kolkata", "America/New_York"]
ANONYMOUS = None  # a run of movements without ids: the service derives the visitor's
USERS = ["alice", "bob", "carol", "dave", "erin", "frank", ANONYMOUS]
# Every anonymous movement of a test is posted from one address with one User-Agent on one
# day, so the service gives them one visitor id; the brute force needs only its prefix.
ANONYMOUS_ID = "anon:client"
BROWSER = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
                         "Chrome/124.0.0.0 Safari/537.36"}
EVENTS = ["page_view", "click", "signup"]


def oldest(now: int) -> int:
    return now - 30 * DAY + HOUR  # ingest refuses movements more than 30 days old


def midnights(now: int) -> list[int]:
    """Every tested zone's local midnights over the days ingest accepts."""
    found = []
    for zone in ZONES:
        clock = ZoneInfo(zone or "UTC")
        day = datetime.fromtimestamp(oldest(now) / 1000, clock).date()
        for _ in range(32):
            midnight = datetime(day.year, day.month, day.day, tzinfo=clock)
            found.append(int(midnight.timestamp() * 1000))
            day += timedelta(days=1)
    return sorted(t for t in found if oldest(now) + 2 * HOUR < t < now - 2 * HOUR)


def instants(now: int, cuts: list[int]) -> st.SearchStrategy:
    near_cut = st.builds(lambda t, d: t + d, st.sampled_from(cuts),
                         st.integers(-2 * HOUR, 2 * HOUR))
    return st.one_of(near_cut, st.integers(oldest(now), now - MINUTE))


def runs(now: int, cuts: list[int]) -> st.SearchStrategy:
    """One user's movements from one instant: a few, under and over an hour apart."""
    steps = st.tuples(st.sampled_from([0, MINUTE, 50 * MINUTE, 61 * MINUTE, 5 * HOUR]),
                      st.sampled_from(EVENTS))
    return st.builds(
        lambda user, start, taken: [
            posted(user, event, timestamp=min(start + offset, now - 1)) for offset, event in taken],
        st.sampled_from(USERS), instants(now, cuts), st.lists(steps, min_size=1, max_size=4))


def posted(user: str | None, event: str, timestamp: int) -> dict:
    if user is ANONYMOUS:
        return {"event": event, "timestamp": timestamp}
    return movement(user, f"{user}-s", event, timestamp=timestamp)


def as_stored(movements: list[dict]) -> list[dict]:
    return [{"userId": ANONYMOUS_ID, **m} if "userId" not in m else m for m in movements]


def windows(now: int, cuts: list[int]) -> st.SearchStrategy:
    edge = st.one_of(instants(now, cuts), st.sampled_from(cuts),
                     st.integers(now - 40 * DAY, now + DAY))
    return st.tuples(edge, edge).filter(lambda w: w[0] != w[1]).map(sorted)


@contextlib.contextmanager
def fresh_client(data_dir: Path) -> Iterator[TestClient]:
    config = Config.from_env(service_env(data_dir))
    with TestClient(create_app(config), headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        yield client


def ask(client: TestClient, params: dict) -> dict:
    response = client.get("/retention", params={k: v for k, v in params.items() if v is not None})
    assert response.status_code == 200, f"{params}: {response.status_code} {response.text}"
    return response.json()


def test_retention_equals_a_brute_force_count(now):
    cuts = midnights(now)  # drawn once: Hypothesis needs the same strategies for every example

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(made=st.lists(runs(now, cuts), min_size=1, max_size=12),
           asked=st.lists(st.tuples(windows(now, cuts), st.sampled_from(["day", "week"]),
                                    st.sampled_from(ZONES), st.sampled_from([None, *EVENTS]),
                                    st.sampled_from([None, "true", "false"])),
                          min_size=1, max_size=4))
    def retention_equals_a_brute_force_count(made, asked):
        sent = [m for run in made for m in run]
        with tempfile.TemporaryDirectory() as tmp, fresh_client(Path(tmp) / "data") as client:
            answer = client.post("/track", json={"events": sent}, headers=BROWSER)
            assert answer.status_code == 200 and answer.json()["accepted"] == len(sent)
            for (start, end), period, zone, event, identified in asked:
                params = {"period": period, "from": start, "to": end, "tz": zone, "event": event,
                          "identified": identified}
                expected = reference.retention(as_stored(sent), period, start, end, zone, event,
                                               identified != "false")
                assert ask(client, params) == expected, params

    retention_equals_a_brute_force_count()


@settings(max_examples=200, deadline=None)
@given(start=st.integers(1_700_000_000_000, 1_800_000_000_000), days=st.integers(1, 120),
       period=st.sampled_from(["day", "week"]), zone=st.sampled_from(ZONES))
def test_periods_start_at_local_midnights_across_daylight_saving(start, days, period, zone):
    end = start + days * DAY
    cuts = cohorts.period_cuts(period, zone and zones.zone_named(zone), start, end)
    listed = reference.listed_periods(period, zone, start, end)
    assert cuts[:-1] == [t for _name, t in listed]
    following = reference.listed_periods(period, zone, end, end + 9 * DAY)[0][1]
    assert cuts[-1] == following


# Worked examples of the spec's rules, end to end.

def utc_midnight(now: int, days_ago: int) -> int:
    return now - now % DAY - days_ago * DAY


def test_archived_movements_still_make_cohorts_and_returns(make_client, now):
    client = make_client(TRACKER_RETENTION_DAYS="2")
    client.portal.call(client.app.state.jobs.stop)  # the archiver runs when the test says
    joined, back = utc_midnight(now, 6) + HOUR, utc_midnight(now, 4) + HOUR
    events = [movement("old", "s", "signup", timestamp=joined),
              movement("old", "s", "click", timestamp=back)]
    assert client.post("/track", json={"events": events}).status_code == 200
    params = {"period": "day", "from": utc_midnight(now, 6), "to": utc_midnight(now, 3)}
    before = ask(client, params)
    assert client.portal.call(client.app.state.jobs.run, "archive_movements") == 2
    assert ask(client, params) == before
    assert before["cohorts"][0] == {"t": params["from"], "users": 1, "returned": [1, 0, 1]}
    assert ask(client, {**params, "event": "click"})["cohorts"][0]["returned"] == [0, 0, 1]


def test_an_erased_user_leaves_the_cohorts(client, now):
    day = utc_midnight(now, 2)
    events = [movement(user, "s", "click", timestamp=day + HOUR) for user in ("stays", "goes")]
    assert client.post("/track", json={"events": events}).status_code == 200
    params = {"period": "day", "from": day, "to": day + DAY}
    assert ask(client, params)["cohorts"] == [{"t": day, "users": 2, "returned": [2]}]
    assert client.delete("/users/goes").status_code == 200
    assert ask(client, params)["cohorts"] == [{"t": day, "users": 1, "returned": [1]}]


def test_anonymous_visitors_make_cohorts_only_when_asked(client, now):
    day = utc_midnight(now, 2)
    events = [movement("known", "s", "click", timestamp=day + HOUR),
              {"event": "click", "timestamp": day + 2 * HOUR}]
    answer = client.post("/track", json={"events": events}, headers=BROWSER)
    assert answer.json()["accepted"] == 2
    params = {"period": "day", "from": day, "to": day + DAY}
    assert ask(client, params)["cohorts"] == [{"t": day, "users": 1, "returned": [1]}]
    assert ask(client, {**params, "identified": "false"})["cohorts"] \
        == [{"t": day, "users": 2, "returned": [2]}]
    assert client.get("/retention", params={**params, "identified": "yes"}).status_code == 422


def test_a_week_starts_on_monday_in_the_zone(client, now):
    answer = ask(client, {"period": "week", "timeRange": "30d", "tz": "Asia/Kolkata"})
    kolkata = ZoneInfo("Asia/Kolkata")
    starts = [datetime.fromtimestamp(c["t"] / 1000, kolkata) for c in answer["cohorts"]]
    assert starts and all(t.weekday() == 0 and t.hour == t.minute == 0 for t in starts)
    assert [len(c["returned"]) for c in answer["cohorts"]] == list(range(len(starts), 0, -1))
