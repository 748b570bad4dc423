"""Retention shares: periods found in SQL, and cohorts read through index searches."""

from __future__ import annotations

import re

from helpers import DAY, LARGE_TABLES, connect
from tracker.analytics import cohorts
from tracker.enrich.sources import rederive_functions
from tracker.storage import migrations

CUTS = [10 * DAY, 11 * DAY, 12 * DAY - 1, 13 * DAY, 20 * DAY]


def cut_params(cuts: list[int]) -> dict[str, int]:
    return {f"cut{i}": cut for i, cut in enumerate(cuts)}


def test_period_of_is_the_index_of_the_period_holding_the_time(tmp_path):
    with connect(tmp_path / "shard.sqlite") as conn:
        for cuts in (CUTS[:2], CUTS[:3], CUTS):
            for at in {cut + d for cut in cuts for d in (-1, 0, 1)}:
                sql = f"SELECT {cohorts.period_of(':at', len(cuts))}"
                found = conn.execute(sql, {"at": at, **cut_params(cuts)}).fetchone()[0]
                expected = sum(cut <= at for cut in cuts) - 1
                assert found == expected, (cuts, at)


def test_cohorts_are_read_through_index_searches(tmp_path):
    with connect(tmp_path / "shard.sqlite") as conn:
        migrations.apply(conn, functions=rederive_functions())
        sql = cohorts.cohort_counts(len(CUTS))
        params = {"low": CUTS[0], "high": CUTS[-1], "event": "", "anonymous": False,
                  **cut_params(CUTS)}
        plan = " | ".join(row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params))
        scanned = set(re.findall(r"\bSCAN (\w+)", plan)) & {*LARGE_TABLES, "s", "g"}
        assert not scanned, plan
        assert "SEARCH s USING PRIMARY KEY" in plan and "SEARCH g USING PRIMARY KEY" in plan, plan
