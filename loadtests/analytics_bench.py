"""Analytics benchmark: build a large data set through the store, then time GET /analytics.

    .venv/bin/python loadtests/analytics_bench.py --data-dir /tmp/tracker-bench

Builds --movements movements (default 10 million) for --users users over the
last 30 days in 16 shards, writing through the store's writers (the write
path of POST /track, without HTTP), unless the data directory already holds
them. Then starts the real service on 127.0.0.1 and measures p50/p99 latency
of each analytics query. With --retention-days N it then copies the data set
beside it, archives what that retention would (through the store, as the
alarm loop does) and times the same queries again: per-user answers and window
edges then read archive files. Finally it times ingest into a fresh directory
with rollups and with the same write path without them. Prints the tables.

    .venv/bin/python loadtests/analytics_bench.py --web --repeats 100

With --web the data set is a public web site's traffic with the contexts its
requests would have had (loadtests/web_dataset.py; in /tmp/tracker-web-bench
unless --data-dir says otherwise; an older data set without contexts is
refused), and GET /stats, GET /breakdown, GET /funnels and GET /retention are timed
first, each against its target p50 where it has one.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

import apsw
import httpx2 as httpx
import web_dataset

from tracker.config import Config
from tracker.enrich.sources import rederive_functions
from tracker.ingest import apply
from tracker.lifecycle import archiving
from tracker.storage import archives
from tracker.storage.rows import MovementRow
from tracker.storage.store import Store, prepare

DAY = 86_400_000
EVENTS = ("page_view", "page_view", "page_view", "click", "click", "scroll", "signup")
BATCH = 2_000
TOKEN = "bench-token"


def user_rows(user: int, count: int, now: int, rng: random.Random) -> list[MovementRow]:
    """One user's movements: visits of about ten movements, seconds apart, over 30 days."""
    rows: list[MovementRow] = []
    visit = 0
    while len(rows) < count:
        at = now - rng.randrange(30 * DAY - 3_600_000)
        for _ in range(min(count - len(rows), rng.randint(5, 15))):
            event = rng.choice(EVENTS)
            data = f'{{"path": "/page/{rng.randrange(50)}"}}' if event == "page_view" else "{}"
            rows.append(MovementRow(f"user-{user}", f"s-{user}-{visit}", at, event, data, None))
            at += rng.randrange(2_000, 120_000)
        visit += 1
    return rows


def generate(movements: int, users: int, now: int, seed: int = 1):
    """Batches of rows, users in random order."""
    rng = random.Random(seed)
    per_user = movements // users
    batch: list[MovementRow] = []
    for user in rng.sample(range(users), users):
        batch.extend(user_rows(user, per_user, now, rng))
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


async def write_all(config: Config, batches, job=apply.apply_movements) -> tuple[int, float]:
    """Write every batch through the shard writers, 8 batches in flight; (rows, seconds).

    A batch is a list of rows, or (rows, contexts) with the requests' contexts aligned with
    the rows (`encode_context` strings), which the job then gets as `contexts=`."""
    store = await open_store(config)
    written, started, in_flight = 0, time.perf_counter(), []
    for batch in batches:
        rows, contexts = batch if isinstance(batch, tuple) else (batch, None)
        in_flight.append(asyncio.ensure_future(submit(store, rows, job, contexts)))
        written += len(rows)
        if len(in_flight) >= 8:
            await in_flight.pop(0)
    await asyncio.gather(*in_flight)
    seconds = time.perf_counter() - started
    await close_store(store)
    return written, seconds


async def open_store(config: Config) -> Store:
    """The store as the service opens it, without the background folder: nothing goes
    through the log here, the jobs run on the shard writers directly."""
    return Store(await asyncio.to_thread(prepare, config, rederive_functions()), config, apply.apply_movements,
                 fold_in_background=False)


async def close_store(store: Store) -> None:
    """Close as the service does: drained first, so that no task still reads the shards."""
    await store.drain()
    await asyncio.to_thread(store.close)


async def submit(store: Store, rows: list[MovementRow], job,
                 contexts: list[str | None] | None = None) -> None:
    by_shard: dict[int, list[int]] = {}
    for index, row in enumerate(rows):
        by_shard.setdefault(store.shard_of(row.userId), []).append(index)
    jobs = []
    for shard, indexes in by_shard.items():
        work = partial(job, rows=[rows[i] for i in indexes])
        if contexts is not None:
            work = partial(work, contexts=[contexts[i] for i in indexes])
        jobs.append(store.shards.writers[shard].submit(work, len(indexes)))
    await asyncio.gather(*jobs)


async def archive_old(config: Config, retention_days: int) -> tuple[int, float]:
    """Archive what the alarm loop would with this retention; (movements, seconds)."""
    store = await open_store(config)
    started = time.perf_counter()
    archived = await archiving.archive_everywhere(store, archiving.cutoff(int(time.time() * 1000), retention_days))
    seconds = time.perf_counter() - started
    await close_store(store)
    return archived, seconds


def retained_copy(data_dir: Path, shards: int, retention_days: int) -> Path:
    """A copy of the data set with movements older than the retention archived (made once)."""
    copy = data_dir.with_name(f"{data_dir.name}-retention-{retention_days}")
    if not (copy / "manifest.json").exists():
        shutil.copytree(data_dir, copy, ignore=shutil.ignore_patterns("service.lock"))
        archived, seconds = asyncio.run(archive_old(config_for(copy, shards), retention_days))
        print(f"archived {archived:,} movements older than {retention_days} days in {seconds:,.0f} s "
              f"({archived / seconds:,.0f} movements/s) into {copy / archives.ARCHIVE_DIR}")
    return copy


def print_queries(title: str, rows: list[tuple]) -> None:
    print(f"| {title} | requests | p50 ms | p99 ms |\n|---|---|---|---|")
    for name, count, p50, p99 in rows:
        print(f"| {name} | {count} | {p50:.1f} | {p99:.1f} |")


def config_for(data_dir: Path, shards: int) -> Config:
    return Config.from_env({"TRACKER_DATA_DIR": str(data_dir), "TRACKER_SHARDS": str(shards),
                            "TRACKER_SYNC": "normal", "TRACKER_READ_TOKEN": TOKEN,
                            "TRACKER_QUEUE_LIMIT": "1000000"})


def start_service(data_dir: Path, shards: int | None, port: int, workers: int = 1) -> subprocess.Popen:
    """The service on 127.0.0.1 over the data set (`shards` None: as its manifest says)."""
    env = {**os.environ, "TRACKER_DATA_DIR": str(data_dir), "TRACKER_READ_TOKEN": TOKEN,
           "TRACKER_ALARM_INTERVAL_SECONDS": "3600"}
    if shards is not None:
        env["TRACKER_SHARDS"] = str(shards)
    service = subprocess.Popen([sys.executable, "-m", "tracker", "serve", "--host", "127.0.0.1",
                                "--port", str(port), "--workers", str(workers)],
                               env=env, stderr=subprocess.DEVNULL)
    for _ in range(600):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return service
        except httpx.TransportError:
            time.sleep(0.1)
    service.kill()
    raise SystemExit("service did not start")


def latencies(client: httpx.Client, params_of, repeats: int, path: str = "/analytics") -> list[float]:
    timings = []
    for i in range(repeats):
        started = time.perf_counter()
        response = client.get(path, params=params_of(i))
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.text
    return timings


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def measure_queries(data_dir: Path, shards: int, users: int, repeats: int, port: int) -> list[tuple]:
    service = start_service(data_dir, shards, port)
    try:
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60,
                              headers={"Authorization": f"Bearer {TOKEN}"})
        rng = random.Random(2)
        day_back = int(time.time() * 1000) - 20 * DAY

        def one_user(time_range: str):
            return lambda i: {"timeRange": time_range, "userId": f"user-{rng.randrange(users)}"}

        cases = [
            ("per-user 30d", one_user("30d"), repeats),
            ("per-user 24h", one_user("24h"), repeats),
            ("global 1h", lambda i: {"timeRange": "1h"}, repeats),
            ("global 24h", lambda i: {"timeRange": "24h"}, repeats),
            ("global 30d", lambda i: {"timeRange": "30d"}, repeats),
            ("global 30d tz=Asia/Kolkata", lambda i: {"timeRange": "30d", "tz": "Asia/Kolkata"},
             repeats),
            ("global one day, 20 days back", lambda i: {"from": day_back, "to": day_back + DAY},
             repeats),
        ]
        latencies(client, cases[4][1], 3)  # warm the reader connections and page cache
        rows = []
        for name, params_of, count in cases:
            timings = latencies(client, params_of, count)
            rows.append((name, count, percentile(timings, 0.5), percentile(timings, 0.99)))
        return rows
    finally:
        service.terminate()
        service.wait(60)


# GET /stats, /breakdown, /funnels and /retention: (name, path, parameters, target p50 in ms or None).
# A filter on a mid-sized value; by=country gets one on another dimension.
FILTER = "country:DE"
COUNTRY_FILTER = "browser:Safari"
FUNNEL = ["page:/", "page:/pricing", "signup"]
WEB_QUERIES = [
    ("stats 30d", "/stats", {"timeRange": "30d"}, 150),
    ("stats 30d compare=previous", "/stats", {"timeRange": "30d", "compare": "previous"}, None),
    ("stats 24h", "/stats", {"timeRange": "24h"}, None),
    ("stats 30d filter=device:mobile", "/stats", {"timeRange": "30d", "filter": "device:mobile"}, None),
    ("breakdown 30d by=source", "/breakdown", {"timeRange": "30d", "by": "source"}, 250),
    (f"breakdown 30d by=source filter={FILTER}", "/breakdown",
     {"timeRange": "30d", "by": "source", "filter": FILTER}, 250),
    ("breakdown 30d by=page", "/breakdown", {"timeRange": "30d", "by": "page"}, 250),
    (f"breakdown 30d by=page filter={FILTER}", "/breakdown",
     {"timeRange": "30d", "by": "page", "filter": FILTER}, 250),
    ("breakdown 30d by=country", "/breakdown", {"timeRange": "30d", "by": "country"}, 250),
    (f"breakdown 30d by=country filter={COUNTRY_FILTER}", "/breakdown",
     {"timeRange": "30d", "by": "country", "filter": COUNTRY_FILTER}, 250),
    ("breakdown 30d by=event", "/breakdown", {"timeRange": "30d", "by": "event"}, None),
    (f"funnels 30d {' > '.join(FUNNEL)} by=user", "/funnels",
     {"timeRange": "30d", "step": FUNNEL}, None),
    (f"funnels 30d {' > '.join(FUNNEL)} by=visit", "/funnels",
     {"timeRange": "30d", "step": FUNNEL, "by": "visit"}, None),
    ("retention 30d by day", "/retention", {"timeRange": "30d", "period": "day"}, None),
    ("retention 30d by day event=add_to_cart", "/retention",
     {"timeRange": "30d", "period": "day", "event": "add_to_cart"}, None),
    ("retention 30d by week", "/retention", {"timeRange": "30d", "period": "week"}, None),
]


def measure_web(data_dir: Path, shards: int, repeats: int, port: int) -> list[tuple]:
    """p50/p99 of each web query over one keep-alive connection. After a warm-up of three
    requests each, the queries take turns (one of each per round), so that whatever else
    the machine does falls on all of them alike."""
    service = start_service(data_dir, shards, port)
    try:
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120,
                              headers={"Authorization": f"Bearer {TOKEN}"})
        for _name, path, params, _target in WEB_QUERIES:
            latencies(client, lambda i, params=params: params, 3, path)
        describe_web(client)
        timings: list[list[float]] = [[] for _ in WEB_QUERIES]
        for _ in range(repeats):
            for (_name, path, params, _target), times in zip(WEB_QUERIES, timings):
                times += latencies(client, lambda i, params=params: params, 1, path)
        return [(name, len(times), percentile(times, 0.5), percentile(times, 0.99), target)
                for (name, _path, _params, target), times in zip(WEB_QUERIES, timings)]
    finally:
        service.terminate()
        service.wait(60)


def describe_web(client: httpx.Client) -> None:
    """The 30-day totals, and the share of visits each filter keeps."""
    def totals(*filters: str) -> dict:
        return client.get("/stats", params={"timeRange": "30d", "filter": list(filters)}).json()["totals"]

    everything = totals()
    print(f"30d totals: {everything['visits']:,} visits, {everything['visitors']:,} visitors, "
          f"{everything['pageviews']:,} page views, bounce rate {everything['bounceRate']:.2f}, "
          f"mean visit {everything['visitDuration']:.0f} s")
    for chosen in (FILTER, COUNTRY_FILTER, "device:mobile"):
        kept = totals(chosen)["visits"]
        print(f"filter={chosen}: {kept:,} visits, {kept / max(1, everything['visits']):.1%} of all")
    print()


def print_web(rows: list[tuple]) -> None:
    print("| web query | requests | p50 ms | p99 ms | target p50 ms | met |\n|---|---|---|---|---|---|")
    for name, count, p50, p99, target in rows:
        verdict = "" if target is None else ("yes" if p50 <= target else f"no, {p50 / target:.1f}x")
        print(f"| {name} | {count} | {p50:.1f} | {p99:.1f} | {target or ''} | {verdict} |")


def has_contexts(data_dir: Path) -> bool:
    """Whether the data set's visits know their country (a web data set, not an older one)."""
    conn = apsw.Connection(str(next(data_dir.glob("shard-*.sqlite"))), flags=apsw.SQLITE_OPEN_READONLY)
    try:
        return conn.execute("SELECT EXISTS (SELECT 1 FROM visits WHERE country IS NOT NULL)").fetchone()[0]
    except apsw.SQLError:  # no visits table: older than web analytics
        return False
    finally:
        conn.close()


def measure_ingest(movements: int, users: int, shards: int, now: int, web: bool) -> list[tuple]:
    results = []
    movements_only = partial(apply.apply_movements, derived=False)
    for name, job in (("with rollups and visits", apply.apply_movements),
                      ("movements and sessions only", movements_only)):
        if web:
            batches = web_dataset.generate(movements, users, now, BATCH, seed=3)
        else:
            batches = generate(movements, users, now, seed=3)
        with tempfile.TemporaryDirectory(prefix="tracker-ingest-") as tmp:
            written, seconds = asyncio.run(write_all(config_for(Path(tmp), shards), batches, job))
        results.append((name, written, seconds))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--web", action="store_true",
                        help="a web site's data set with request contexts (its own default "
                             "directory), and time GET /stats, /breakdown, /funnels and /retention too")
    parser.add_argument("--data-dir", type=Path,
                        help="default /tmp/tracker-bench, with --web /tmp/tracker-web-bench")
    parser.add_argument("--movements", type=int, default=10_000_000)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--shards", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=200, help="requests per query kind")
    parser.add_argument("--ingest-sample", type=int, default=200_000,
                        help="movements written with and without rollups to compare ingest")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--retention-days", type=int,
                        help="also time the queries on a copy with older movements archived")
    args = parser.parse_args()
    args.data_dir = args.data_dir or Path("/tmp/tracker-web-bench" if args.web else "/tmp/tracker-bench")
    now = int(time.time() * 1000)

    if not (args.data_dir / "manifest.json").exists():
        batches = (web_dataset.generate(args.movements, args.users, now, BATCH) if args.web
                   else generate(args.movements, args.users, now))
        written, seconds = asyncio.run(write_all(config_for(args.data_dir, args.shards), batches))
        print(f"built {written:,} movements for {args.users:,} users in {args.shards} shards "
              f"in {seconds:,.0f} s ({written / seconds:,.0f} movements/s)")
    elif args.web and not has_contexts(args.data_dir):
        raise SystemExit(f"{args.data_dir} holds a data set without request contexts; "
                         "give --web another --data-dir")
    size = sum(f.stat().st_size for f in args.data_dir.glob("shard-*"))
    print(f"data set: {args.data_dir} ({size / 2**30:.1f} GiB)\n")

    if args.web:
        print_web(measure_web(args.data_dir, args.shards, args.repeats, args.port))
        print()
    print_queries("query", measure_queries(args.data_dir, args.shards, args.users, args.repeats,
                                           args.port))
    if args.retention_days is not None:
        retained = retained_copy(args.data_dir, args.shards, args.retention_days)
        print()
        print_queries(f"query, {args.retention_days}-day retention",
                      measure_queries(retained, args.shards, args.users, args.repeats, args.port))

    if not args.ingest_sample:
        return
    print(f"\n| ingest ({args.ingest_sample:,} movements, {args.shards} shards, store writers) "
          f"| seconds | movements/s |\n|---|---|---|")
    for name, written, seconds in measure_ingest(args.ingest_sample, args.ingest_sample // 100,
                                                 args.shards, now, args.web):
        print(f"| {name} | {seconds:.1f} | {written / seconds:,.0f} |")


if __name__ == "__main__":
    main()
