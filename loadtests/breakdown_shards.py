"""The breakdowns' shard work alone: every shard's share on 2 threads, no HTTP, no service.

    .venv/bin/python loadtests/breakdown_shards.py --data-dir /tmp/tracker-web-bench \\
        [--before /tmp/base-checkout --before-data-dir /tmp/tracker-web-bench-base]

Opens every shard file of a web data set read-only and computes each of the issue's
breakdowns (`breakdown_bench.QUERIES`, 30 days, but by=page without filters, which
reads the rollups per path) the way `GET /breakdown` does
(`web.breakdown_share` per shard on a pool of 2 threads, the shares merged and
ranked), fastest and median of --repeats. With --before it runs itself again with
another checkout's package first on the path over that checkout's copy of the data set,
the two taking turns per query, and prints both with the ratio.

On a machine shared with other work, the fastest of several runs is the figure that
other work disturbs least; the service's own latency is `breakdown_bench.py`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from functools import reduce
from pathlib import Path

import apsw
from breakdown_bench import QUERIES

from tracker.analytics import web, web_reads
from tracker.analytics.filters import Filters

DAY = 86_400_000


def filters_of(params: dict) -> Filters:
    if "filter" not in params:
        return Filters()
    dimension, _, value = params["filter"].partition(":")
    return Filters(visits=((dimension, (value,)),))


def top(merged: web.BreakdownShare) -> list:
    """The ten rows shown (a checkout from before `ranked` took the limit ranks them all)."""
    try:
        return web_reads.ranked(merged, 10)
    except TypeError:
        return web_reads.ranked(merged)[:10]  # type: ignore[call-arg]


def measure(data_dir: Path, label: str, repeats: int) -> list[float]:
    """Milliseconds of each run of one query over every shard."""
    params = dict(QUERIES)[label]
    connections = [apsw.Connection(str(path), flags=apsw.SQLITE_OPEN_READONLY)
                   for path in sorted(data_dir.glob("**/shard-*.sqlite"))]
    end = max(conn.execute("SELECT coalesce(max(first), 0) + 1 FROM visits").fetchone()[0]
              for conn in connections)
    span = web.Span((end - 30 * DAY, end))
    filters = filters_of(params)
    times = []
    with ThreadPoolExecutor(2) as pool:
        for _ in range(repeats + 1):  # the first run warms the caches
            started = time.perf_counter()
            shares = list(pool.map(lambda conn: web.breakdown_share(
                conn, params["by"], span, filters, None), connections))
            top(reduce(web.BreakdownShare.add, shares, web.BreakdownShare()))
            times.append((time.perf_counter() - started) * 1000)
    for conn in connections:
        conn.close()
    return times[1:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--before", type=Path)
    parser.add_argument("--before-data-dir", type=Path)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--one", help=argparse.SUPPRESS)  # a single query, as JSON timings
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.data_dir, args.one, args.repeats)))
        return
    labels = [label for label, params in QUERIES if not (params["by"] == "page" and "filter" not in params)]
    sides = {"after": (None, args.data_dir)}
    if args.before:
        sides = {"before": (args.before, args.before_data_dir or args.data_dir), **sides}
    found: dict[tuple[str, str], list[float]] = {}
    for label in labels:
        for name, (checkout, data_dir) in sides.items():
            env = dict(os.environ)
            if checkout is not None:
                env["PYTHONPATH"] = str(checkout.resolve())
            out = subprocess.run([sys.executable, __file__, "--data-dir", str(data_dir), "--one", label,
                                  "--repeats", str(args.repeats)], env=env, check=True,
                                 capture_output=True, text=True).stdout
            found[(label, name)] = json.loads(out.splitlines()[-1])
    names = list(sides)
    print(f"shard work of /breakdown 30d, {args.data_dir}, 2 threads, {args.repeats} runs, "
          f"load average at the end {os.getloadavg()[0]:.0f}")
    print("| query | " + " | ".join(f"{n} fastest ms | {n} median ms" for n in names)
          + (" | after/before fastest |" if len(names) == 2 else " |"))
    print("|---" * (2 * len(names) + 1 + (len(names) == 2)) + "|")
    for label in labels:
        cells = [f"{min(found[(label, n)]):.0f} | {statistics.median(found[(label, n)]):.0f}" for n in names]
        ratio = (f" | {min(found[(label, 'after')]) / min(found[(label, 'before')]):.2f}"
                 if len(names) == 2 else "")
        print(f"| {label} | {' | '.join(cells)}{ratio} |")


if __name__ == "__main__":
    main()
