"""The read anchor: a 30-day breakdown with exact distinct visitors, SQLite shards against DuckDB.

    .venv/bin/python loadtests/engine_anchor.py --data-dir /tmp/tracker-web-bench [--by source]

Reads the visits of a web data set (`analytics_bench.py --web` builds one) from its shard
files, read-only, and times the same answer three ways, each on 2 threads:

- SQLite, distinct: every shard file's `count(DISTINCT userId)` per value over the
  window's visits (the way breakdowns read before per-value chains), the shards on a
  pool of 2 threads, their rows added up in Python;
- SQLite, chains: the service's own query for an unfiltered breakdown (per-value chains
  where the dimension has them), the same way;
- DuckDB: the same visits loaded once into an in-memory table (through a CSV file,
  not timed), `count(DISTINCT userId)` per value with `threads=2`.

All three must give the same rows. DuckDB is in the `load` extra only: a yardstick
for what a column store does with the same visits, not a dependency of the service.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import apsw
import duckdb

from tracker.analytics import web
from tracker.analytics.filters import Filters
from tracker.analytics.visit_chains import CHAINED

DAY = 86_400_000
COLUMNS = ("first", "userId", "movements", "last", "pageviews")


def shard_files(data_dir: Path) -> list[Path]:
    return sorted(data_dir.glob("**/shard-*.sqlite"))


def read_only(path: Path) -> apsw.Connection:
    return apsw.Connection(str(path), flags=apsw.SQLITE_OPEN_READONLY)


def sqlite_breakdown(connections: list[apsw.Connection], sql: str, params: dict,
                     pool: ThreadPoolExecutor) -> dict:
    """Each shard's rows on the pool, added up per value: (visitors, visits, pageviews)."""
    def one(conn: apsw.Connection) -> list[tuple]:
        return conn.execute(sql, params).fetchall()

    totals: dict = {}
    for rows in pool.map(one, connections):
        for value, visitors, visits, pageviews, *_rest in rows:
            found = totals.setdefault(value, Counter())
            found.update(visitors=visitors, visits=visits, pageviews=pageviews)
    return {value: (c["visitors"], c["visits"], c["pageviews"]) for value, c in totals.items()}


def load_duckdb(connections: list[apsw.Connection], by: str) -> duckdb.DuckDBPyConnection:
    """Every shard's visits in one DuckDB table, through a CSV file."""
    duck = duckdb.connect(config={"threads": 2})
    with tempfile.TemporaryDirectory(prefix="tracker-anchor-") as temp:
        path = Path(temp) / "visits.csv"
        with path.open("w", newline="") as out:
            writer = csv.writer(out)
            writer.writerow([*COLUMNS, "value", "null_value"])
            for conn in connections:
                for row in conn.execute(f"SELECT {', '.join(COLUMNS)}, {by} FROM visits"):
                    writer.writerow([*row[:-1], row[-1] or "", row[-1] is None])
        duck.execute(f"""CREATE TABLE visits AS SELECT first, userId, movements, last, pageviews,
                         CASE WHEN null_value THEN NULL ELSE value END AS value
                         FROM read_csv('{path}', header = true, all_varchar = false,
                                       types = {{'value': 'VARCHAR', 'userId': 'VARCHAR'}})""")
    return duck


DUCK_QUERY = """
SELECT value, count(DISTINCT userId), count(*), sum(CASE WHEN last < $end THEN pageviews ELSE 0 END)
FROM visits WHERE first >= $start AND first < $end GROUP BY value
"""


def timed(run, repeats: int) -> tuple[list[float], object]:
    times, answer = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        answer = run()
        times.append((time.perf_counter() - started) * 1000)
    return times, answer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/tracker-web-bench"))
    parser.add_argument("--by", default="source", choices=sorted(CHAINED))
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    connections = [read_only(path) for path in shard_files(args.data_dir)]
    if not connections:
        raise SystemExit(f"{args.data_dir} holds no shard files")
    end = max(conn.execute("SELECT coalesce(max(first), 0) + 1 FROM visits").fetchone()[0]
              for conn in connections)
    params = {**Filters().params(), "start": end - args.days * DAY, "end": end}
    started = time.perf_counter()
    duck = load_duckdb(connections, args.by)
    visits = duck.execute("SELECT count(*) FROM visits").fetchone()[0]
    print(f"{args.data_dir}: {len(connections)} shard files, {visits:,} visits "
          f"(loaded into DuckDB {duckdb.__version__} in {time.perf_counter() - started:.0f} s); "
          f"{args.days}-day breakdown by {args.by}, {args.repeats} runs each, 2 threads\n")

    def duck_run() -> dict:
        rows = duck.execute(DUCK_QUERY, {"start": params["start"], "end": params["end"]}).fetchall()
        return {value: tuple(counts) for value, *counts in rows}

    with ThreadPoolExecutor(2) as pool:
        runs = {
            "SQLite shards, count(DISTINCT)": lambda: sqlite_breakdown(
                connections, web.BY_VISIT_DIMENSION[args.by][None], params, pool),
            "SQLite shards, per-value chains": lambda: sqlite_breakdown(
                connections, web.BY_CHAINED_DIMENSION[args.by], params, pool),
            "DuckDB, one table": duck_run,
        }
        results = {name: timed(run, args.repeats) for name, run in runs.items()}
    answers = [answer for _times, answer in results.values()]
    assert all(answer == answers[0] for answer in answers), "the engines disagree"
    print("| engine | fastest ms | median ms |\n|---|---|---|")
    for name, (times, _answer) in results.items():
        print(f"| {name} | {min(times):.0f} | {statistics.median(times):.0f} |")


if __name__ == "__main__":
    main()
