"""A filter on one value of a chained dimension: one shard's /stats read, both ways.

    .venv/bin/python loadtests/chained_filter.py /path/to/shard-0003.sqlite [--filter channel:Direct]

Opens the shard read-only and times, on the window's daily buckets of its last 30 days,
the two ways `/stats` counts the visitors of the visits that pass the filter, and checks
they give the same figures:

- `distinct`: `count(DISTINCT userId)` over the passing visits of each bucket and of the
  window (the table's range of the window, the filters' condition, a set of user ids);
- `chain`: a sum over the value's chain, one range of its covering index per bucket, as
  the service reads a filter on one chained dimension alone.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import apsw

from tracker.analytics import web
from tracker.analytics.filters import Filters

DAY = 86_400_000


def distinct(conn: apsw.Connection, cuts: list[int], filters: Filters) -> tuple[list, int]:
    params = filters.params()
    buckets = [tuple(conn.execute(web.FILTERED_BUCKET[filters.driving],
                                  {**params, "low": low, "high": high}).fetchone())
               for low, high in zip(cuts, cuts[1:])]
    visitors = conn.execute(web.FILTERED_VISITORS[filters.driving],
                            {**params, "low": cuts[0], "high": cuts[-1]}).fetchone()[0]
    return buckets, visitors


def chain(conn: apsw.Connection, cuts: list[int], filters: Filters) -> tuple[list, int]:
    dimension, (value,) = filters.visits[0]
    query = web.CHAINED_FILTER_BUCKET[dimension]
    buckets = [tuple(conn.execute(query, {"value": value, "low": low, "high": high}).fetchone())
               for low, high in zip(cuts, cuts[1:])]
    visitors = conn.execute(query, {"value": value, "low": cuts[0], "high": cuts[-1]}).fetchone()[1]
    return buckets, visitors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("shard", type=Path)
    parser.add_argument("--filter", default="channel:Direct", help="DIM:VALUE, DIM chained")
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    dimension, value = args.filter.split(":", 1)
    filters = Filters(visits=((dimension, (value,)),))
    conn = apsw.Connection(str(args.shard), flags=apsw.SQLITE_OPEN_READONLY)
    end = conn.execute("SELECT max(first) FROM visits").fetchone()[0] + 1
    cuts = [end - 30 * DAY + day * DAY for day in range(31)]
    assert distinct(conn, cuts, filters) == chain(conn, cuts, filters), "the two ways differ"
    times: dict[str, list[float]] = {"distinct": [], "chain": []}
    for _ in range(args.repeats):
        for name, read in (("distinct", distinct), ("chain", chain)):
            started = time.perf_counter()
            read(conn, cuts, filters)
            times[name].append((time.perf_counter() - started) * 1000)
    for name, found in times.items():
        print(f"{name:>8}: median {statistics.median(found):6.1f} ms, fastest {min(found):6.1f} ms "
              f"({args.repeats} alternating runs, {args.filter}, 30 daily buckets)")


if __name__ == "__main__":
    main()
