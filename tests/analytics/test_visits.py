"""Visits: built from old files the same as kept by folding, and read through index searches."""

from __future__ import annotations

import json
import random
import re

from helpers import DAY, LARGE_TABLES, MINUTE, connect, now_ms
from tracker.analytics import spanning, visit_chains, visits, web
from tracker.analytics.filters import DRIVING, PASSES, Filters
from tracker.enrich.sources import rederive_functions
from tracker.ingest import apply
from tracker.storage import migrations
from tracker.storage.rows import Context, MovementRow, encode_context

# What migration 8 can know: everything but the request contexts and the referrer lists.
MOVEMENT_COLUMNS = "userId, sessionId, first, last, movements, pageviews, entryTime, entryPage, " \
                   "exitTime, exitPage"


def random_rows(count: int, seed: int) -> list[MovementRow]:
    """Few users and sessions, times that tie and run out of order, paths of every kind."""
    rng = random.Random(seed)
    now = now_ms()
    stamps = [now - rng.randrange(0, 3 * DAY, MINUTE) for _ in range(count // 4)]
    rows = []
    for _ in range(count):
        event = rng.choice(["page_view", "page_view", "click"])
        data = rng.choice(['{}', '{"path": "/a"}', '{"path": "/b"}', '{"path": 3}'])
        rows.append(MovementRow(rng.choice("abc"), rng.choice(["s1", "s2", "s3"]),
                                rng.choice(stamps), event, data, None))
    return rows


def dump(conn) -> dict[str, list]:
    return {
        "visits": sorted(conn.execute(f"SELECT {MOVEMENT_COLUMNS} FROM visits"), key=repr),
        # Visits tied on their first movement may swap prev between them; per user it is the same.
        "prev": sorted(conn.execute("SELECT userId, first, prev FROM visits"), key=repr),
        "pages": sorted(conn.execute(
            "SELECT userId, sessionId, path, p.first, p.last, n FROM visit_pages p "
            "JOIN visits ON visits.id = p.visit")),
        "events": sorted(conn.execute(
            "SELECT userId, sessionId, event, n FROM visit_events e JOIN visits ON visits.id = e.visit")),
        "partial": conn.execute("SELECT count(*) FROM visit_events_partial").fetchall(),
    }


def test_upgrade_builds_the_visits_folding_would_have_kept(tmp_path):
    for seed in range(5):
        rows = random_rows(300, seed)
        with connect(tmp_path / f"old{seed}.sqlite") as old, \
                connect(tmp_path / f"new{seed}.sqlite") as new:
            migrations.apply(old, upto=7)
            with old:
                apply.apply_movements(old, rows, derived=False)
            migrations.apply(old, functions=rederive_functions())
            migrations.apply(new, functions=rederive_functions())
            for start in range(0, len(rows), 23):  # in pieces and out of time order, as folds see them
                with new:
                    apply.apply_movements(new, rows[start:start + 23])
            assert dump(old) == dump(new)
            assert_chains_link_each_users_previous_visit_with_the_value(old)
            assert_chains_link_each_users_previous_visit_with_the_value(new)
            unknown = old.execute("SELECT count(*) FROM visits WHERE source IS NULL AND "
                                  "browser IS NULL AND country IS NULL").fetchone()[0]
            assert unknown == len(dump(old)["visits"]) > 0


def test_prev_is_the_start_of_the_users_previous_visit(tmp_path):
    rows = random_rows(400, seed=9)
    with connect(tmp_path / "shard.sqlite") as conn:
        migrations.apply(conn, functions=rederive_functions())
        for start in range(0, len(rows), 17):
            with conn:
                apply.apply_movements(conn, rows[start:start + 17])
        for user in "abc":
            found = conn.execute("SELECT first, prev FROM visits WHERE userId = ? ORDER BY first, id",
                                 (user,)).fetchall()
            starts = [first for first, _prev in found]
            assert [prev for _first, prev in found] == [None, *starts[:-1]]


def assert_chains_link_each_users_previous_visit_with_the_value(conn) -> None:
    """Each chained dimension's column holds, per visit, the first movement time of the same
    user's previous visit (in (first, id) order) with the same value, counted here in Python."""
    for dimension, column in visit_chains.CHAINED.items():
        previous: dict[tuple, int] = {}
        rows = conn.execute(f"SELECT userId, {dimension}, first, {column} FROM visits "
                            "ORDER BY first, id").fetchall()
        for user, value, first, stored in rows:
            assert stored == previous.get((user, value)), (dimension, user, value, first)
            previous[(user, value)] = first


CONTEXTS = [encode_context(Context(browser, None, device, country, None, None))
            for browser, device, country in [("Chrome", "desktop", "US"), ("Safari", "mobile", "DE"),
                                             ("Chrome", "desktop", None), (None, None, None)]]


def test_value_chains_follow_visits_whose_start_context_and_source_change(tmp_path):
    """Movements out of time order move visits' starts, with them their country and device,
    and earlier page views with another referrer change their source and channel: the chains
    stay those of the visits as they are after every fold."""
    for seed in range(4):
        rng = random.Random(seed)
        rows = [row._replace(data=rng.choice([row.data, '{"path": "/a", "referrer": "https://t.co/x"}',
                                              '{"path": "/b", "utm": {"source": "newsletter"}}']))
                for row in random_rows(300, seed)]
        contexts = [rng.choice(CONTEXTS) for _ in rows]
        with connect(tmp_path / f"shard{seed}.sqlite") as conn:
            migrations.apply(conn, functions=rederive_functions())
            for start in range(0, len(rows), 13):
                with conn:
                    apply.apply_movements(conn, rows[start:start + 13], contexts[start:start + 13])
                assert_chains_link_each_users_previous_visit_with_the_value(conn)
            assert conn.execute("SELECT count(DISTINCT country) FROM visits").fetchone()[0] > 1


def bindings_for(sql: str) -> dict | list:
    """Values for a statement's parameters: a JSON array where json_each reads it, else 1."""
    names = set(re.findall(r":(\w+)", sql))
    if names:
        return {name: "[[0, 1]]" if f"json_each(:{name})" in sql else 1 for name in names}
    numbered = set(re.findall(r"\?(\d+)", sql))
    count = len(numbered) if numbered else sql.count("?")
    return ["[[0, 1]]" if "json_each" in sql else 1] + [1] * (count - 1)


def test_web_queries_read_visits_through_index_searches(tmp_path):
    with connect(tmp_path / "shard.sqlite") as conn:
        migrations.apply(conn, functions=rederive_functions())
        with conn:
            apply.apply_movements(conn, random_rows(50, seed=1))
        statements = [visits.SELECT_VISIT, visits.PREVIOUS, visits.NEXT, visits.SET_PREV,
                      visits.PREV_OF, visits.ADD_PAGE, visits.ADD_EVENT, web.UNFILTERED_BUCKET,
                      spanning.VISIT_PAGE_VIEWS, web.VISIT_MOVEMENTS, visit_chains.RELINK,
                      *web.BY_CHAINED_DIMENSION.values()]
        for sql in statements:
            plan = " | ".join(row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}",
                                                             bindings_for(sql)))
            scanned = set(re.findall(r"\bSCAN (\w+)", plan)) & LARGE_TABLES
            assert not scanned, f"{sql.strip()}\n  plan: {plan}"


def test_a_filter_on_a_dimension_with_an_index_reads_only_its_values_visits(tmp_path):
    with connect(tmp_path / "shard.sqlite") as conn:
        migrations.apply(conn, functions=rederive_functions())
        for dimension in DRIVING:
            for sql in (web.FILTERED_BUCKET[dimension], web.FILTERED_VISITORS[dimension],
                        web.BY_PAGE[dimension], web.BY_EVENT[dimension],
                        web.BY_VISIT_DIMENSION["browser"][dimension]):
                plan = " | ".join(row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}",
                                                                 bindings_for(sql)))
                assert f"SEARCH v USING INDEX idx_visits_{dimension} ({dimension}=? AND first>" in plan, plan


def test_visits_that_lost_movements_before_the_upgrade_are_counted_from_their_movements(tmp_path):
    """Movements gone from the table before migration 10 (archived, or erased by a job cut
    short) leave visits whose per-event counts it cannot know: those are marked partial,
    and an event breakdown counts what is left of them where it lies."""
    rows = random_rows(300, seed=3)
    with connect(tmp_path / "shard.sqlite") as conn:
        migrations.apply(conn, upto=7)
        with conn:
            apply.apply_movements(conn, rows, derived=False)
        migrations.apply(conn, upto=8)
        with conn:
            gone = conn.execute("SELECT id FROM movements WHERE userId = 'a' AND sessionId = 's2' "
                                "ORDER BY timestamp LIMIT 5").fetchall()
            conn.executemany("DELETE FROM movements WHERE id = ?", gone)
        migrations.apply(conn, functions=rederive_functions())
        partial = conn.execute("SELECT userId, sessionId FROM visit_events_partial "
                               "JOIN visits ON visits.id = visit").fetchall()
        assert partial == [("a", "s2")]
        now = now_ms()
        span = web.Span((now - 4 * DAY, now + DAY))
        for filters in [Filters(pages=("/a",)), Filters(visits=(("entryPage", ("/a", "/b")),)),
                        Filters(visits=(("exitPage", ("/a", "/b")),), pages=("/b",))]:
            found = web.breakdown_share(conn, "event", span, filters, None)
            expected = {}
            for user, session, event, data in conn.execute(
                    f"SELECT m.userId, m.sessionId, m.event, m.data FROM movements m JOIN visits v "
                    f"ON v.userId = m.userId AND v.sessionId = m.sessionId WHERE {PASSES}",
                    filters.params()):
                if event == "page_view" and not filters.counts_page(visits.page_of(json.loads(data))):
                    continue
                row = expected.setdefault(event, [set(), set(), 0])
                row[0].add(user)
                row[1].add((user, session))
                row[2] += 1
            assert {event: (row.visitors, row.visits, row.events) for event, row in found.rows.items()} \
                == {event: (len(u), len(s), n) for event, (u, s, n) in expected.items()}
