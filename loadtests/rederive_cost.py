"""How long migration 0011 takes to re-derive the source and channel of stored visits.

    .venv/bin/python loadtests/rederive_cost.py [--visits 1014767] [--changed 1.0]

Builds one shard file at schema version 10 whose visits table holds `--visits`
visits (the web data set of `analytics_bench.py --web` has 1,014,767 in 16
shards) with the referrers and UTM tags of `web_dataset.py`, stores the share
`--changed` of them with a source and channel that the new rules change (1.0:
every row is rewritten, the worst case), then applies migration 0011 as
start-up does and prints the time, the distinct (referrer, UTM) keys and the
rows written. The file is made in a temporary directory and removed.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

import apsw
from web_dataset import HOST, acquisition

from tracker.enrich import sources
from tracker.storage import migrations

INSERT = """
INSERT INTO visits(first, id, userId, sessionId, last, movements, pageviews, referrer, utmSource,
  utmMedium, utmCampaign, utmTerm, utmContent, source, channel)
VALUES (?, ?, ?, ?, ?, 1, 1, ?, ?, ?, ?, ?, ?, ?, ?)
"""


def visit_rows(count: int, changed: float, seed: int = 1):
    rng = random.Random(seed)
    start = int(time.time() * 1000) - 30 * 86_400_000
    for visit in range(1, count + 1):
        referrer, utm = acquisition(rng)
        found = sources.visit_source({"referrer": referrer, "host": HOST, "utm": utm})
        stale = rng.random() < changed
        source = f"stale {found.source}" if stale else found.source
        first = start + visit * 2500
        yield (first, visit, f"u{rng.randrange(100_000)}", f"s{visit}", first + 60_000, found.referrer,
               found.utmSource, found.utmMedium, found.utmCampaign, found.utmTerm, found.utmContent,
               source, found.channel)


def build(path: Path, count: int, changed: float) -> None:
    conn = apsw.Connection(str(path))
    conn.execute("PRAGMA journal_mode=WAL")
    migrations.apply(conn, upto=10)
    with conn:
        conn.executemany(INSERT, visit_rows(count, changed))
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def measure(path: Path) -> None:
    conn = apsw.Connection(str(path))
    conn.execute("PRAGMA journal_mode=WAL")
    sources.acquisition.cache_clear()
    keys = conn.execute("SELECT count(*) FROM (SELECT DISTINCT referrer, utmSource, utmMedium, "
                        "utmCampaign FROM visits)").fetchone()[0]
    before = conn.total_changes()
    started = time.perf_counter()
    done = migrations.apply(conn, functions=sources.rederive_functions())
    seconds = time.perf_counter() - started
    written = conn.total_changes() - before - len(done)  # less the schema_migrations rows
    visits = conn.execute("SELECT count(*) FROM visits").fetchone()[0]
    wal = path.with_name(path.name + "-wal").stat().st_size
    print(f"migration {[m.version for m in done]}: {visits:,} visits, {keys:,} distinct referrer/UTM keys, "
          f"{written:,} rows written in {seconds:.2f} s ({visits / seconds:,.0f} visits/s), "
          f"WAL {wal / 2**20:.0f} MiB")
    for channel, count in conn.execute("SELECT channel, count(*) FROM visits GROUP BY 1 ORDER BY 2 DESC"):
        print(f"  {channel:28} {count:9,}")
    conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=1_014_767)
    parser.add_argument("--changed", type=float, default=1.0, help="share of visits the rules change")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "shard-0000.sqlite"
        started = time.perf_counter()
        build(path, args.visits, args.changed)
        print(f"built {args.visits:,} visits at schema 10 in {time.perf_counter() - started:.0f} s "
              f"({path.stat().st_size / 2**20:.0f} MiB)")
        measure(path)


if __name__ == "__main__":
    main()
