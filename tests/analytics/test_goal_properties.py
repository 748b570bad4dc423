"""Goals, conversions and revenue: every answer equals goal_reference's brute-force count.

Random visits with page views of paths that page goals match or almost
match (GLOB's own `?` and `[` are plain characters in a goal), signups and
purchases carrying revenue in three currencies, are posted to a fresh
service with random goals; then /stats with goal filters (alone and beside
other filters, with the previous period), `by=goal` and visit-dimension
breakdowns under a goal filter are asked over windows that cut through
visits. Archived movements count the same as stored ones.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lifecycle.test_archiving import aging, run_archiving
from test_web import ask, difference, fresh_client, windows

import goal_reference as reference
from helpers import DAY, HOUR, MINUTE

USERS = ["alice", "bob", "carol", "dave", "erin"]
SESSIONS = ["s1", "s2", "s3"]
PATHS = ["/", "/pricing", "/pricing/", "/blog", "/blog/a", "/blog/ü", "/blog?x", "/blogx",
         "/docs[1]", "/docs1", 7, None]
GOALS = [
    {"name": "Signed up", "event": "signup"},
    {"name": "purchase", "event": "purchase"},
    {"name": "Blog", "page": "/blog/*"},
    {"name": "Pricing", "page": "/pricing"},
    {"name": "Odd", "page": "/blog?x"},
    {"name": "Docs", "page": "/docs[1]"},
    {"name": "Any b", "page": "/b*g*"},
    {"name": "Every page", "page": "*"},
    {"name": "page_view", "event": "page_view"},
]
REVENUES = st.sampled_from([
    {"amount": "19.90", "currency": "EUR"}, {"amount": 20.205, "currency": "EUR"},
    {"amount": "0.125", "currency": "EUR"}, {"amount": 1500.5, "currency": "JPY"},
    {"amount": "299", "currency": "JPY"}, {"amount": "1.2345", "currency": "BHD"},
    {"amount": "-5", "currency": "EUR"}])
DIMENSIONS = ["entryPage", "exitPage", "referrer", "source"]


def oldest(now: int) -> int:
    return now - 30 * DAY + 3 * HOUR


def movement_steps() -> st.SearchStrategy:
    page_view = st.tuples(st.just("page_view"), st.fixed_dictionaries({"path": st.sampled_from(PATHS)}, optional={
        "referrer": st.sampled_from(["https://www.google.com/", "https://t.co/x", "https://news.example/"])}),
        st.none())
    signup = st.tuples(st.just("signup"), st.just({}), st.none() | REVENUES)
    purchase = st.tuples(st.just("purchase"), st.just({}), REVENUES | st.none())
    viewed_with_revenue = st.tuples(st.just("page_view"),
                                    st.fixed_dictionaries({"path": st.sampled_from(PATHS)}), REVENUES)
    click = st.tuples(st.just("click"), st.just({}), st.none())
    return st.one_of(page_view, page_view, signup, purchase, viewed_with_revenue, click)


def visits(now: int) -> st.SearchStrategy:
    clusters = [now - 3 * DAY, now - 10 * DAY]
    starts = st.builds(lambda t, d: t + d, st.sampled_from(clusters), st.integers(-3 * HOUR, 3 * HOUR)) \
        | st.integers(oldest(now), now - 3 * HOUR)
    offsets = st.sampled_from([0, 1, MINUTE]) | st.integers(0, 2 * HOUR)

    def made(user, session, start, steps):
        found = []
        for offset, (event, data, revenue) in steps:
            movement = {"userId": user, "sessionId": session, "event": event,
                        "timestamp": start + offset, "data": data}
            if revenue is not None:
                movement["revenue"] = revenue
            found.append(movement)
        return found

    return st.builds(made, st.sampled_from(USERS), st.sampled_from(SESSIONS), starts,
                     st.lists(st.tuples(offsets, movement_steps()), min_size=1, max_size=5))


def goal_filters(goals: list[dict]) -> st.SearchStrategy:
    names = [goal["name"] for goal in goals]
    chosen = st.lists(st.sampled_from(names), min_size=1, max_size=2, unique=True)
    others = st.lists(st.sampled_from(["page:/", "page:/pricing", "entryPage:/", "source:Google",
                                       "referrer:t.co", "entryPage:/blog/a"]), max_size=1)
    return st.builds(lambda g, o: [f"goal:{name}" for name in g] + o, chosen, others)


def post_all(client, stored: list[dict]) -> None:
    for at in range(0, len(stored), 50):
        answer = client.post("/track", json={"events": stored[at:at + 50]})
        assert answer.status_code == 200, answer.text


def add_goals(client, goals: list[dict]) -> None:
    for goal in goals:
        answer = client.post("/sites/default/goals", json=goal)
        assert answer.status_code == 201, answer.text


def check(client, stored: list[dict], goals: list[dict], window: tuple[int, int], zone: str | None,
          filters: list[str], by: str) -> None:
    params = [("from", window[0]), ("to", window[1]), *([("tz", zone)] if zone else []),
              *[("filter", text) for text in filters]]
    expected = reference.stats(stored, *window, zone, filters, goals, compare=True)
    found = difference(ask(client, "/stats", [*params, ("compare", "previous")]), expected)
    assert found is None, f"/stats {params}: {found}"
    for dimension in ("goal", by):
        expected = reference.breakdown(stored, dimension, *window, filters, goals, limit=1000)
        answer = ask(client, "/breakdown", [*params, ("by", dimension), ("limit", 1000)])
        found = difference(answer, expected)
        assert found is None, f"/breakdown by={dimension} {params}: {found}"
    everything = reference.breakdown(stored, "goal", *window, [], goals, limit=1000)
    found = difference(ask(client, "/breakdown", [("from", window[0]), ("to", window[1]),
                                                  ("by", "goal"), ("limit", 1000)]), everything)
    assert found is None, f"/breakdown by=goal without filters: {found}"


def test_conversions_and_revenue_equal_a_brute_force_count(now):
    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(made=st.lists(visits(now), min_size=2, max_size=12), data=st.data())
    def conversions_equal_a_brute_force_count(made, data):
        stored = sorted((m for visit in made for m in visit), key=lambda m: m["timestamp"])
        goals = data.draw(st.lists(st.sampled_from(GOALS), min_size=1, max_size=5,
                                   unique_by=lambda g: g["name"]))
        moments = [m["timestamp"] for m in stored]
        queries = data.draw(st.lists(st.tuples(windows(moments, moments), goal_filters(goals),
                                               st.sampled_from([None, "Asia/Kolkata"]),
                                               st.sampled_from(DIMENSIONS)), min_size=1, max_size=3))
        with tempfile.TemporaryDirectory() as tmp, fresh_client(Path(tmp) / "data") as client:
            post_all(client, stored)
            add_goals(client, goals)
            for window, filters, zone, by in queries:
                check(client, stored, goals, window, zone, filters, by)

    conversions_equal_a_brute_force_count()


def test_archived_movements_convert_as_stored_ones_do(make_client, tmp_path, now):
    stored = []
    for day in range(6):
        at = now - day * DAY - 2 * HOUR
        user = f"u{day % 3}"
        stored += [
            {"userId": user, "sessionId": f"s{day}", "event": "page_view", "timestamp": at,
             "data": {"path": "/blog/a"}, "revenue": {"amount": "1.005", "currency": "EUR"}},
            {"userId": user, "sessionId": f"s{day}", "event": "purchase", "timestamp": at + MINUTE,
             "revenue": {"amount": str(10 + day), "currency": "EUR"}},
            {"userId": f"v{day}", "sessionId": "s", "event": "page_view", "timestamp": at,
             "data": {"path": "/"}}]
    goals = [{"name": "purchase", "event": "purchase"}, {"name": "Blog", "page": "/blog/*"}]
    kept = make_client(TRACKER_DATA_DIR=str(tmp_path / "kept"))
    aged = aging(make_client, TRACKER_RETENTION_DAYS="2")
    for client in (kept, aged):
        post_all(client, stored)
        add_goals(client, goals)
    assert run_archiving(aged) > 0
    window = (now - 7 * DAY, now)
    for filters in (["goal:purchase"], ["goal:Blog"], ["goal:Blog", "entryPage:/blog/a"]):
        for client in (kept, aged):
            check(client, stored, goals, window, None, filters, "entryPage")


def test_an_unknown_goal_is_422(client, now):
    client.post("/sites/default/goals", json={"event": "signup"})
    for path, params in (("/stats", []), ("/breakdown", [("by", "source")]),
                         ("/breakdown", [("by", "goal")]), ("/funnels", [("step", "a"), ("step", "b")])):
        answer = client.get(path, params=[*params, ("filter", "goal:nope")])
        assert answer.status_code == 422, answer.text
        assert answer.json()["error"] == "invalid_field" and "goal `nope`" in answer.json()["detail"]
    with pytest.raises(reference.UnknownGoal):
        reference.stats([], now - DAY, now, None, ["goal:nope"], [{"name": "signup", "event": "signup"}])


def test_a_goal_filter_keeps_the_visits_of_converted_visitors(client, now):
    visit = [{"userId": "u1", "sessionId": "s1", "event": "page_view", "timestamp": now - 2 * HOUR,
              "data": {"path": "/"}},
             {"userId": "u1", "sessionId": "s2", "event": "page_view", "timestamp": now - HOUR,
              "data": {"path": "/pricing"}},
             {"userId": "u1", "sessionId": "s2", "event": "purchase", "timestamp": now - HOUR + 1,
              "revenue": {"amount": "20.205", "currency": "EUR"}},
             {"userId": "u1", "sessionId": "s2", "event": "purchase", "timestamp": now - HOUR + 2,
              "revenue": {"amount": "20.20", "currency": "EUR"}},
             {"userId": "u2", "sessionId": "s3", "event": "page_view", "timestamp": now - HOUR,
              "data": {"path": "/"}}]
    post_all(client, visit)
    add_goals(client, [{"name": "purchase", "event": "purchase"}])
    totals = ask(client, "/stats", [("from", now - DAY), ("to", now), ("filter", "goal:purchase")])["totals"]
    assert totals == {"visitors": 1, "visits": 2, "pageviews": 2, "bounceRate": 0.5,
                      "visitDuration": 0.001, "conversions": 1, "events": 2, "conversionRate": 0.5,
                      "revenue": {"EUR": {"total": "40.40", "average": "20.20"}}}
