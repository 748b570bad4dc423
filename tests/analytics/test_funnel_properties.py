"""GET /funnels: every answer equals the exhaustive search of funnel_reference.

Few users and sessions, times crowded onto a few instants (so that ties are
common), steps that repeat or match the same movement (`page_view` and
`page:/`), windows that cut through the movements, filters by country and page.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_web import ask, batches, difference, fresh_client, post, stored_of

import funnel_reference as reference
from helpers import HOUR, MINUTE

USERS = ["alice", "bob", "carol"]
SESSIONS = ["s1", "s2"]
STEPS = ["page_view", "page:/", "page:/pricing", "click", "signup"]
OFFSETS = [0, 0, 1, 2, MINUTE, MINUTE + 1, 5 * MINUTE]
WITHIN = [1, 2, MINUTE, MINUTE + 1, 5 * MINUTE, 3 * MINUTE]

events = st.one_of(
    st.tuples(st.just("page_view"), st.sampled_from([{"path": "/"}, {"path": "/pricing"},
                                                     {"path": 7}, {}])),
    st.tuples(st.sampled_from(["click", "signup"]), st.just({})),
)


def movements(base: int) -> st.SearchStrategy:
    return st.builds(
        lambda user, session, offset, event: {
            "userId": user, "sessionId": session, "event": event[0],
            "timestamp": base + offset, "data": event[1]},
        st.sampled_from(USERS), st.sampled_from(SESSIONS), st.sampled_from(OFFSETS), events)


def filters(stored: list[dict]) -> st.SearchStrategy:
    paths = sorted({m["data"]["path"] for m in stored if isinstance(m["data"].get("path"), str)})
    countries = sorted({m["country"] for m in stored if m["country"]})
    one = st.sampled_from([f"country:{c}" for c in countries] + ["country:FR"]) | \
        st.sampled_from([f"page:{p}" for p in paths] + ["page:/nope"])
    return st.just([]) | st.just([]) | st.lists(one, min_size=1, max_size=2)


def queries(base: int, stored: list[dict]) -> st.SearchStrategy:
    return st.fixed_dictionaries({
        "steps": st.lists(st.sampled_from(STEPS), min_size=2, max_size=4)
        | st.sampled_from([["click", "signup", "click"], ["page_view", "page:/"],
                           ["page:/", "page_view", "page:/"]]),
        "by": st.sampled_from(["user", "visit"]),
        "within": st.none() | st.sampled_from(WITHIN),
        "window": st.sampled_from([(base - HOUR, base + HOUR), (base + 1, base + HOUR),
                                   (base, base + MINUTE + 1), (base - HOUR, base + 2)]),
        "filters": filters(stored),
    })


def funnel_params(query: dict) -> list[tuple[str, object]]:
    params: list[tuple[str, object]] = [("step", step) for step in query["steps"]]
    params += [("by", query["by"]), ("from", query["window"][0]), ("to", query["window"][1])]
    params += [("within", query["within"])] if query["within"] is not None else []
    return params + [("filter", text) for text in query["filters"]]


def test_funnels_equal_an_exhaustive_search(now):
    base = now - 3 * HOUR

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(made=st.lists(movements(base), min_size=1, max_size=14), data=st.data())
    def funnels_equal_an_exhaustive_search(made, data):
        posted = data.draw(batches(made))
        stored = stored_of(posted)
        asked = data.draw(st.lists(queries(base, stored), min_size=1, max_size=4))
        with tempfile.TemporaryDirectory() as tmp, fresh_client(Path(tmp) / "data") as client:
            for agent, address, batch in posted:
                post(client, agent, address, batch)
            for query in asked:
                expected = reference.funnel(stored, query["steps"], *query["window"], query["by"],
                                            query["within"], query["filters"])
                params = funnel_params(query)
                found = difference(ask(client, "/funnels", params), expected)
                assert found is None, f"/funnels {params}: {found}"

    funnels_equal_an_exhaustive_search()


# Worked examples and errors.


def test_a_step_repeated_needs_two_movements(web_client, now):
    at = now - HOUR
    post(web_client, "TotallyUnknownAgent/1.0", "8.8.8.8", [
        {"userId": "u1", "sessionId": "s", "event": "click", "timestamp": at},
        {"userId": "u1", "sessionId": "s", "event": "signup", "timestamp": at},
        {"userId": "u2", "sessionId": "s2", "event": "click", "timestamp": at},
        {"userId": "u2", "sessionId": "s2", "event": "signup", "timestamp": at + 1}])
    params = [("step", "click"), ("step", "signup"), ("step", "click"), ("timeRange", "24h")]
    answer = ask(web_client, "/funnels", params)
    assert [(s["count"], s["conversion"], s["dropOff"]) for s in answer["steps"]] == [
        (2, 1.0, 0), (2, 1.0, 0), (0, 0.0, 2)]
