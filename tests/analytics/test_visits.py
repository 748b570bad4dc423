"""Visits: built from old files the same as kept by folding, and read through index searches."""

from __future__ import annotations

import json
import random
import re

import apsw
import pytest

from helpers import DAY, LARGE_TABLES, MINUTE, connect, now_ms
from tracker.analytics import visits, web
from tracker.enrich.sources import rederive_functions
from tracker.ingest import writes
from tracker.storage import migrations
from tracker.storage.rows import MovementRow

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
                writes.insert_movements(old, rows)
            migrations.apply(old, functions=rederive_functions())
            migrations.apply(new, functions=rederive_functions())
            for start in range(0, len(rows), 23):  # in pieces and out of time order, as folds see them
                with new:
                    writes.store_movements(new, rows[start:start + 23])
            assert dump(old) == dump(new)
            unknown = old.execute("SELECT count(*) FROM visits WHERE source IS NULL AND "
                                  "browser IS NULL AND country IS NULL").fetchone()[0]
            assert unknown == len(dump(old)["visits"]) > 0


def test_prev_is_the_start_of_the_users_previous_visit(tmp_path):
    rows = random_rows(400, seed=9)
    with connect(tmp_path / "shard.sqlite") as conn:
        migrations.apply(conn, functions=rederive_functions())
        for start in range(0, len(rows), 17):
            with conn:
                writes.store_movements(conn, rows[start:start + 17])
        for user in "abc":
            found = conn.execute("SELECT first, prev FROM visits WHERE userId = ? ORDER BY first, id",
                                 (user,)).fetchall()
            starts = [first for first, _prev in found]
            assert [prev for _first, prev in found] == [None, *starts[:-1]]


def test_web_queries_read_visits_through_index_searches(tmp_path):
    with connect(tmp_path / "shard.sqlite") as conn:
        migrations.apply(conn, functions=rederive_functions())
        with conn:
            writes.store_movements(conn, random_rows(50, seed=1))
        statements = [visits.SELECT_VISIT, visits.PREVIOUS, visits.NEXT, visits.SET_PREV,
                      visits.PREV_OF, visits.ADD_PAGE, visits.ADD_EVENT, web.UNFILTERED_BUCKET,
                      web.VISIT_PAGE_VIEWS, web.VISIT_MOVEMENTS]
        for sql in statements:
            bindings = ["[[0, 1]]" if "json_each" in sql else 1] + [1] * (sql.count("?") + 3)
            names = set(re.findall(r"\?(\d+)", sql))
            count = len(names) if names else sql.count("?")
            plan = " | ".join(row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}",
                                                             bindings[:count]))
            scanned = set(re.findall(r"\bSCAN (\w+)", plan)) & LARGE_TABLES
            assert not scanned, f"{sql.strip()}\n  plan: {plan}"


def test_visits_that_lost_movements_before_the_upgrade_are_counted_from_their_movements(tmp_path):
    """Movements gone from the table before migration 10 (archived, or erased by a job cut
    short) leave visits whose per-event counts it cannot know: those are marked partial,
    and an event breakdown counts what is left of them where it lies."""
    rows = random_rows(300, seed=3)
    with connect(tmp_path / "shard.sqlite") as conn:
        migrations.apply(conn, upto=7)
        with conn:
            writes.insert_movements(conn, rows)
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
        for filters in [web.Filters(pages=("/a",)), web.Filters(visits=(("entryPage", ("/a", "/b")),)),
                        web.Filters(visits=(("exitPage", ("/a", "/b")),), pages=("/b",))]:
            found = web.breakdown_share(conn, "event", span, filters, None)
            where, params = filters.where()
            expected = {}
            for user, session, event, data in conn.execute(
                    f"SELECT m.userId, m.sessionId, m.event, m.data FROM movements m JOIN visits v "
                    f"ON v.userId = m.userId AND v.sessionId = m.sessionId WHERE {where}", params):
                if event == "page_view" and not filters.counts_page(visits.page_of(json.loads(data))):
                    continue
                row = expected.setdefault(event, [set(), set(), 0])
                row[0].add(user)
                row[1].add((user, session))
                row[2] += 1
            assert {event: (row.visitors, row.visits, row.events) for event, row in found.rows.items()} \
                == {event: (len(u), len(s), n) for event, (u, s, n) in expected.items()}


# (entry page view data, source and channel as stored under the rules before migration 11,
#  source and channel under GA4's, worked out by hand from the spec)
STORED_UNDER_OLD_RULES = [
    ({"referrer": "https://yandex.com.tr/search"}, ("yandex.com.tr", "Referral"), ("Yandex", "Organic Search")),
    ({"referrer": "https://docs.google.com/d/1"}, ("Google", "Organic Search"), ("docs.google.com", "Referral")),
    ({"referrer": "https://t.me/news"}, ("t.me", "Referral"), ("Telegram", "Organic Social")),
    ({"referrer": "https://www.amazon.com/"}, ("Amazon", "Organic Search"), ("Amazon", "Organic Shopping")),
    ({"referrer": "https://chatgpt.com/"}, ("chatgpt.com", "Referral"), ("ChatGPT", "AI Assistants")),
    ({"utm": {"source": "foo"}}, ("foo", "Other"), ("foo", "Unassigned")),
    ({"utm": {"source": "partner", "medium": "cpc"}}, ("partner", "Paid Search"), ("partner", "Paid Other")),
    ({"utm": {"source": "google", "medium": "cpc"}}, ("google", "Paid Search"), ("google", "Paid Search")),
    ({"referrer": "https://www.google.de/"}, ("Google", "Organic Search"), ("Google", "Organic Search")),
    ({}, ("Direct", "Direct"), ("Direct", "Direct")),
]


def test_migration_11_rederives_stored_visits_by_the_ga4_rules(tmp_path):
    now = now_ms()
    rows = [MovementRow("u", f"s{i}", now - i * MINUTE, "page_view",
                        json.dumps({"path": "/", "host": "shop.example", **data}), None)
            for i, (data, _old, _new) in enumerate(STORED_UNDER_OLD_RULES)]
    rows.append(MovementRow("u", "from-0008", now, "click", "{}", None))
    with connect(tmp_path / "shard.sqlite") as conn:
        migrations.apply(conn, upto=10)
        with conn:
            writes.store_movements(conn, rows)
            for i, (_data, (source, channel), _new) in enumerate(STORED_UNDER_OLD_RULES):
                conn.execute("UPDATE visits SET source = ?, channel = ? WHERE sessionId = ?",
                             (source, channel, f"s{i}"))
            # What migration 8 built from movements stored before visits existed: no acquisition.
            conn.execute("UPDATE visits SET source = NULL, channel = NULL WHERE sessionId = 'from-0008'")
        assert [m.version for m in migrations.apply(conn, functions=rederive_functions())] == [11]
        found = dict(((session, (source, channel)) for session, source, channel in
                      conn.execute("SELECT sessionId, source, channel FROM visits")))
    assert found == {"from-0008": (None, None),
                     **{f"s{i}": new for i, (_data, _old, new) in enumerate(STORED_UNDER_OLD_RULES)}}


def test_migration_11_needs_the_rules_from_its_caller(tmp_path):
    with connect(tmp_path / "shard.sqlite") as conn:
        migrations.apply(conn, upto=10)
        with pytest.raises(apsw.SQLError, match="visit_source"):
            migrations.apply(conn)
        assert migrations.current_version(conn) == 10
