"""Rollups: built from old files the same as kept by ingest, and read only through index searches."""

from __future__ import annotations

import random
import re

import apsw

from helpers import DAY, LARGE_TABLES, MINUTE, ROLLUP_TABLES, connect, movement, now_ms
from tracker.analytics import activity, activity_tail, rollups
from tracker.enrich.sources import rederive_functions
from tracker.ingest import apply
from tracker.storage import migrations, queries
from tracker.storage.rows import MovementRow


def random_rows(count: int) -> list[MovementRow]:
    rng = random.Random(7)
    now = now_ms()
    rows = []
    for i in range(count):
        event = rng.choice(["page_view", "click", "signup"])
        data = rng.choice(['{}', '{"path": "/a"}', '{"path": "/b"}', '{"path": 3}'])
        rows.append(MovementRow(rng.choice("abcd"), rng.choice(["s1", "s2"]),
                               now - rng.randrange(0, 30 * DAY, 997), event, data,
                               f"e{i}" if i % 3 else None))
    return rows


def dump(conn: apsw.Connection) -> dict[str, list]:
    return {table: sorted(conn.execute(f"SELECT * FROM {table}").fetchall())
            for table in ROLLUP_TABLES}


def test_upgrade_builds_the_rollups_ingest_would_have_kept(tmp_path):
    rows = random_rows(400)
    with connect(tmp_path / "old.sqlite") as old, connect(tmp_path / "new.sqlite") as new:
        migrations.apply(old, upto=2)
        with old:
            apply.apply_movements(old, rows, derived=False)
        migrations.apply(old, functions=rederive_functions())

        migrations.apply(new, functions=rederive_functions())
        for start in range(0, len(rows), 37):  # in pieces and out of time order, as ingest sees them
            with new:
                apply.apply_movements(new, rows[start:start + 37])

        assert dump(old) == dump(new)
        assert len(dump(new)["activity_gaps"]) > 10


def test_every_select_is_an_index_search(make_client, data_dir):
    statements: dict[str, tuple] = {}

    def trace(cursor: apsw.Cursor, sql: str, bindings) -> bool:
        if sql.lstrip().upper().startswith(("SELECT", "WITH")):
            statements[sql] = bindings
        return True

    def hook(conn: apsw.Connection) -> None:
        conn.exec_trace = trace

    apsw.connection_hooks.append(hook)
    try:
        exercise(make_client())
    finally:
        apsw.connection_hooks.remove(hook)

    issued = {" ".join(sql.split()) for sql in statements}
    for name in ("USER_MOVEMENTS", "WINDOW_MOVEMENTS", "SLOT_TOTALS", "EVENT_TOTALS", "PAGE_TOTALS",
                 "ENTITIES", "GAP_BOUNDS", "RAW_EVENTS", "RAW_PAGE_DATA"):
        assert " ".join(getattr(activity, name).split()) in issued, name
    for counts in (activity.SPAN_BOUNDS, activity.SPANS_BEFORE, activity.SPANS_FROM,
                   activity.GAPS_ACROSS):
        for sql in counts.values():
            assert " ".join(sql.split()) in issued, sql
    for sql in (queries.LIST_MOVEMENTS, rollups.SELECT_SPAN, rollups.GAP_BEFORE,
                activity_tail.FOLDED_ACTIVE):
        assert " ".join(sql.split()) in issued

    # Migrations run once per file at upgrade; building rollups from every movement is their job.
    upgrades = " ".join(" ".join(m.sql.split()) for m in migrations.MIGRATIONS)
    with connect(data_dir / "shard-0000.sqlite") as conn, connect(data_dir / "log.sqlite") as log_conn, \
            connect(data_dir / "sites.sqlite") as sites_conn:
        for sql, bindings in statements.items():
            if " ".join(sql.split()) in upgrades:
                continue
            on_log = re.search(r"\bFROM (log|sqlite_sequence)\b", sql)
            on_registry = re.search(r"\bFROM (sites|site_domains|site_keys|shares|share_failures)\b", sql)
            target = log_conn if on_log else sites_conn if on_registry else conn
            plan = " | ".join(row[3] for row in target.execute(f"EXPLAIN QUERY PLAN {sql}", bindings))
            scanned = set(re.findall(r"\bSCAN (\w+)", plan)) & LARGE_TABLES
            assert not scanned, f"{sql.strip()}\n  plan: {plan}"


def exercise(client) -> None:
    """Every kind of analytics and movements request, over data with gaps to split."""
    now = now_ms()
    stamps = [now - 20 * DAY, now - 2 * DAY, now - 10 * DAY, now - 30 * MINUTE]
    client.post("/track", json={"events": [
        movement(user=user, event=event, timestamp=t, data={"path": "/x"})
        for user in ("a", "b", "c") for event in ("page_view", "click") for t in stamps]})
    store = client.app.state.store
    client.portal.call(store.caught_up, store.live_files())  # folded apart from what follows
    client.post("/track", json=movement(user="a", timestamp=now - 15 * DAY))  # inside a gap
    client.post("/track", json=movement(user="d", timestamp=now - 25 * DAY))  # long gone
    client.portal.call(store.caught_up, store.live_files())
    store.follower.stop_folding()
    client.post("/track", json=movement(user="a", timestamp=now - 10 * MINUTE))  # an unfolded tail
    for params in ({"timeRange": "1h"}, {"timeRange": "24h"}, {"timeRange": "30d", "tz": "Asia/Kolkata"},
                   {"timeRange": "7d", "event": "page_view"}, {"timeRange": "30d", "userId": "a"},
                   {"from": now - 3 * DAY + 12_345, "to": now - 12_345, "tz": "Australia/Lord_Howe"},
                   {"from": now - 20 * MINUTE, "to": now}, {"from": now - 29 * DAY, "to": now - 28 * DAY}):
        assert client.get("/analytics", params=params).status_code == 200
    page = client.get("/movements", params={"userId": "a", "limit": 2}).json()
    client.get("/movements", params={"userId": "a", "cursor": page["nextCursor"], "event": "click"})
