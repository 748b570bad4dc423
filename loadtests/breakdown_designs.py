"""Breakdowns by a visit dimension, without filters: one shard's read time by each design.

    .venv/bin/python loadtests/breakdown_designs.py /path/to/shard-0003.sqlite [--days 30]

Copies the shard file (it is not changed), brings the copy to this release's schema,
adds the indexes the other design needs, then times each design's query on the same
visits, for the dimensions the dashboard shows first, and checks they give the same rows:

- `distinct`: the query before per-value chains, `count(DISTINCT userId)` per value over
  the window's visits (the table's range, the filters' condition, a sort by value and a
  set of user ids per value);
- `index`: a covering index (value, userId, first, movements, last, pageviews), read in
  its order, each user's visits of a value added up first, then its users counted: no
  sort, no distinct set, no change to the fold, but the index is read whole;
- `chain`: the per-value chains (`tracker/analytics/visit_chains.py`), a sum over the
  index of migration 0013, as the service reads it now.

The fold's cost of each design's upkeep is `write_cost.py` (with `--sql` for the index
of `index`).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import apsw

from tracker.analytics import web
from tracker.analytics.filters import Filters
from tracker.enrich.sources import rederive_functions
from tracker.storage import migrations

DAY = 86_400_000
DIMENSIONS = ("source", "channel", "country", "device")


def index_design(dimension: str) -> tuple[str, str]:
    """The covering index of the `index` design, and its query."""
    create = (f"CREATE INDEX IF NOT EXISTS idx_design_{dimension} "
              f"ON visits({dimension}, userId, first, movements, last, pageviews)")
    query = f"""
SELECT value, count(*), sum(visits), sum(pageviews), sum(bounces), sum(duration) FROM (
  SELECT v.{dimension} AS value, count(*) AS visits, sum(iif(v.last < :end, v.pageviews, 0)) AS pageviews,
         sum(v.movements = 1) AS bounces, sum(v.last - v.first) AS duration
  FROM visits v INDEXED BY idx_design_{dimension} WHERE v.first >= :start AND v.first < :end
  GROUP BY v.{dimension}, v.userId)
GROUP BY value
"""
    return create, query


def timed(conn: apsw.Connection, sql: str, params: dict, repeats: int) -> tuple[float, list]:
    """The fastest of `repeats` runs in milliseconds (the least disturbed by other work on
    the machine), and the rows (sorted)."""
    times, rows = [], []
    for _ in range(repeats):
        started = time.perf_counter()
        rows = conn.execute(sql, params).fetchall()
        times.append((time.perf_counter() - started) * 1000)
    return min(times), sorted(rows, key=repr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("shard", type=Path)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tracker-designs-") as temp:
        copy = Path(temp) / "shard.sqlite"
        source = apsw.Connection(str(args.shard), flags=apsw.SQLITE_OPEN_READONLY)
        with apsw.Connection(str(copy)) as target:  # a consistent copy, WAL included
            with target.backup("main", source, "main") as backup:
                backup.step()
        source.close()
        conn = apsw.Connection(str(copy))
        started = time.perf_counter()
        migrations.apply(conn, functions=rederive_functions())
        print(f"{args.shard}: upgraded the copy in {time.perf_counter() - started:.1f} s")
        end = conn.execute("SELECT max(first) + 1 FROM visits").fetchone()[0]
        params = {**Filters().params(), "start": end - args.days * DAY, "end": end}
        visits = conn.execute("SELECT count(*) FROM visits WHERE first >= ?", (params["start"],)).fetchone()[0]
        print(f"{visits:,} visits in the {args.days}-day window, fastest of {args.repeats} runs\n")
        print("| dimension | values | distinct ms | index ms | chain ms |\n|---|---|---|---|---|")
        for dimension in DIMENSIONS:
            create, index_query = index_design(dimension)
            conn.execute(create)
            before, expected = timed(conn, web.BY_VISIT_DIMENSION[dimension][None], params, args.repeats)
            indexed, by_index = timed(conn, index_query, params, args.repeats)
            chained, by_chain = timed(conn, web.BY_CHAINED_DIMENSION[dimension], params, args.repeats)
            assert by_index == expected and by_chain == expected, dimension
            print(f"| {dimension} | {len(expected)} | {before:.1f} | {indexed:.1f} | {chained:.1f} |")
        conn.close()
    shutil.rmtree(temp, ignore_errors=True)


if __name__ == "__main__":
    main()
