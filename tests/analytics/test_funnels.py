"""Funnel shares: the earliest-chain query counts what the walk counts, through index searches."""

from __future__ import annotations

import random
import re

import pytest

from helpers import MINUTE, connect, now_ms
from tracker.analytics import funnels
from tracker.analytics.filters import Filters
from tracker.analytics.funnels import Funnel, Step
from tracker.enrich.sources import rederive_functions
from tracker.ingest import apply
from tracker.storage import migrations
from tracker.storage.rows import MovementRow

# Steps no movement matches two of, the funnels the earliest chain answers.
DISJOINT = [["page:/a", "click", "signup"], ["click", "page:/b"],
            ["signup", "page:/a", "page:/b", "click"], ["page:/b", "page:/a", "page:/b/"]]
FILTERS = [Filters(), Filters(pages=("/a",)), Filters(visits=(("entryPage", ("/a", "/b")),))]


def random_rows(count: int, seed: int) -> list[MovementRow]:
    """Few users and sessions, times crowded onto few instants, paths of every kind."""
    rng = random.Random(seed)
    base = now_ms() - 60 * MINUTE
    stamps = [base + rng.randrange(0, 30) * MINUTE for _ in range(count // 5)]
    rows = []
    for _ in range(count):
        event = rng.choice(["page_view", "page_view", "page_view", "click", "click", "signup"])
        data = rng.choice(['{}', '{"path": "/a"}', '{"path": "/b"}', '{"path": 3}'])
        rows.append(MovementRow(rng.choice("abcdefghijkl"), rng.choice(["s1", "s2", "s3", "s4"]),
                                rng.choice(stamps), event, data, None))
    return rows


@pytest.fixture
def shard(tmp_path):
    with connect(tmp_path / "shard.sqlite") as conn:
        migrations.apply(conn, functions=rederive_functions())
        for seed in range(3):
            with conn:
                apply.apply_movements(conn, random_rows(100, seed))
        yield conn


@pytest.mark.parametrize("steps", DISJOINT, ids=" > ".join)
def test_the_earliest_chains_count_what_the_walk_counts(shard, steps):
    now = now_ms()
    for by_visit in (False, True):
        funnel = Funnel(tuple(map(Step.parse, steps)), None, by_visit)
        assert funnel.earliest_chain_suffices()
        for start, end in ((now - 2 * 60 * MINUTE, now), (now - 40 * MINUTE, now - 20 * MINUTE)):
            for filters in FILTERS:
                with shard:
                    chains = funnels._earliest_chains(shard, funnel, start, end, filters)
                    walked = funnels._walked(shard, funnel, start, end, filters)
                assert chains == walked, (by_visit, start, end, filters)


@pytest.mark.parametrize("steps, within", [(["page:/a", "click"], None),
                                           (["page:/a", "click"], MINUTE),
                                           (["page_view", "page:/a", "click"], None)])
def test_funnels_read_movements_through_the_steps_index(shard, steps, within):
    """Both ways, the movements are searched in idx_movements_steps alone, never scanned."""
    plans = []

    def explain(cursor, sql, bindings):
        if not sql.startswith("EXPLAIN"):
            plans.append(" | ".join(row[3] for row in shard.execute(f"EXPLAIN QUERY PLAN {sql}",
                                                                    bindings)))
        return True

    for by_visit in (False, True):
        funnel = Funnel(tuple(map(Step.parse, steps)), within, by_visit)
        shard.exec_trace = explain
        try:
            funnels.funnel_share(shard, funnel, 0, now_ms(), FILTERS[2])
        finally:
            shard.exec_trace = None
    read = [plan for plan in plans if " m " in f"{plan} "]
    assert read
    for plan in read:
        assert not re.search(r"\bSCAN m\b", plan), plan
        assert all("COVERING INDEX idx_movements_steps" in part
                   for part in plan.split(" | ") if re.match(r"SEARCH m\b", part)), plan
