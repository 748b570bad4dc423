"""Breakdown reads side by side: p50/p99 of GET /breakdown from two checkouts at once.

    .venv/bin/python loadtests/breakdown_bench.py --data-dir /tmp/tracker-web-bench \\
        [--before /tmp/base-checkout --before-data-dir /tmp/tracker-web-bench-base] [--rounds 3]

Starts the real service of this checkout over --data-dir, and with --before the service
of another checkout (its package first on PYTHONPATH) over --before-data-dir, a copy of
the same data set (each release upgrades its own copy, and neither sees the other's
indexes). The two take turns in blocks: one service runs alone and answers every query of
the issue's table --per-block times (after a warm-up request each), then it stops and the
other takes its turn, --rounds times; so whatever else the machine does falls on both
alike, and neither's reads compete with the other's. Prints p50/p99 per query and the
ratio. Data sets are those
of `analytics_bench.py --web`, which builds them.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import httpx2 as httpx
from analytics_bench import FILTER, TOKEN, latencies, percentile, start_service

QUERIES = [
    ("by=source", {"by": "source"}),
    ("by=country", {"by": "country"}),
    ("by=channel", {"by": "channel"}),
    ("by=device", {"by": "device"}),
    ("by=page", {"by": "page"}),
    (f"by=page filter={FILTER}", {"by": "page", "filter": FILTER}),
    (f"by=source filter={FILTER}", {"by": "source", "filter": FILTER}),
    ("by=country filter=device:mobile", {"by": "country", "filter": "device:mobile"}),
]
TARGET_MS = 250


def serve(checkout: Path | None, data_dir: Path, port: int):
    """This checkout's service, or another's: started from inside that checkout with it on
    PYTHONPATH (`python -m` puts the working directory first on the path, before
    PYTHONPATH, so the working directory decides which package runs)."""
    here = Path.cwd()
    previous = os.environ.get("PYTHONPATH")
    root = (checkout or Path(__file__).resolve().parent.parent).resolve()
    os.environ["PYTHONPATH"] = str(root)
    os.chdir(root)
    try:
        return start_service(data_dir.resolve(), None, port)
    finally:
        os.chdir(here)
        if previous is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = previous


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--before", type=Path, help="another checkout to compare with")
    parser.add_argument("--before-data-dir", type=Path, help="its copy of the data set")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--per-block", type=int, default=4, help="requests of each query per turn")
    parser.add_argument("--port", type=int, default=8771)
    args = parser.parse_args()
    services = {"after": (None, args.data_dir)}
    if args.before:
        services = {"before": (args.before, args.before_data_dir or args.data_dir), **services}
    timings: dict[tuple[str, str], list[float]] = {}
    for _round in range(args.rounds):
        for name, (checkout, data_dir) in services.items():
            service = serve(checkout, data_dir, args.port)
            try:
                client = httpx.Client(base_url=f"http://127.0.0.1:{args.port}", timeout=300,
                                      headers={"Authorization": f"Bearer {TOKEN}"})
                for label, params in QUERIES:
                    def ask(i, params=params):
                        return {"timeRange": "30d", **params}
                    latencies(client, ask, 1, "/breakdown")  # warm-up
                    timings.setdefault((label, name), []).extend(
                        latencies(client, ask, args.per_block, "/breakdown"))
            finally:
                service.terminate()
                service.wait(60)
    repeats = args.rounds * args.per_block
    names = list(services)
    print(f"/breakdown 30d, {args.data_dir}, {repeats} requests each, load average at the end {os.getloadavg()[0]:.0f}")
    print("| query | " + " | ".join(f"{n} p50 ms | {n} p99 ms" for n in names)
          + (" | after/before p50" if len(names) == 2 else "") + f" | target {TARGET_MS} ms met |")
    print("|---" * (2 * len(names) + 1 + (len(names) == 2) + 1) + "|")
    for label, _params in QUERIES:
        cells, p50s = [], []
        for name in names:
            times = timings[(label, name)]
            p50s.append(percentile(times, 0.5))
            cells.append(f"{p50s[-1]:.0f} | {percentile(times, 0.99):.0f}")
        ratio = f" | {p50s[1] / p50s[0]:.2f}" if len(names) == 2 else ""
        print(f"| {label} | {' | '.join(cells)}{ratio} | {'yes' if p50s[-1] <= TARGET_MS else 'no'} |")


if __name__ == "__main__":
    main()
