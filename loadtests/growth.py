"""Growth: ingest many movements through the store (not HTTP) and print the rate of each million.

Through the store directly, so that ten million take minutes rather than an
hour on this 2-core machine; the store path is the same log, folds,
transactions and indexes that HTTP requests use, so a slowdown as the shard
files grow shows here just as it would there. Each million counts until the
aggregates see it: appended to the log, then folded (by the store's folder
thread, and the rest on demand at the end of the million).
"""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
import uuid
from pathlib import Path

from tracker.config import Config
from tracker.enrich.sources import rederive_functions
from tracker.ingest import apply
from tracker.storage.group_commit import QueueFull
from tracker.storage.rows import MovementRow
from tracker.storage.store import Store, prepare

USERS = 100_000
IN_FLIGHT = 64
MILLION = 1_000_000
# A refused batch waits this long before it is sent again (the folder needs the time).
RETRY_SECONDS = 0.2


def random_batch(size: int, now: int) -> list[MovementRow]:
    rows = []
    for _ in range(size):
        user = random.randrange(USERS)
        rows.append(MovementRow(f"user-{user}", f"s-{user}-{now // 1_800_000}", now,
                        random.choice(("page_view", "click", "scroll")),
                        f'{{"path":"/p/{random.randrange(50)}"}}', uuid.uuid4().hex))
    return rows


async def ingest(store: Store, total: int, batch: int) -> None:
    """Each million is timed until the aggregates count it: appended, then folded. Ends with
    the last million's rate against the first's (the issue's "tenth million against the
    first" for ten million)."""
    started = time.perf_counter()
    rates = []
    for million in range(1, total // MILLION + 1):
        began = time.perf_counter()
        await append_million(store, batch)
        await store.caught_up(store.live_files())
        now = time.perf_counter()
        rates.append(MILLION / (now - began))
        print(f"million {million:>3}: {rates[-1]:>9,.0f} movements/s "
              f"(total {million * MILLION:,} in {now - started:,.0f} s)", flush=True)
    if len(rates) > 1:
        print(f"growth: million {len(rates)} at {rates[-1] / rates[0]:.0%} of the first's rate", flush=True)


async def append_million(store: Store, batch: int) -> None:
    """Append a million movements with IN_FLIGHT batches in flight, waiting out 503s."""
    pending: set[asyncio.Task] = set()
    sent = 0
    while sent < MILLION or pending:
        while len(pending) < IN_FLIGHT and sent < MILLION:
            pending.add(asyncio.create_task(append_batch(store, batch)))
            sent += batch
        _finished, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)


async def append_batch(store: Store, batch: int) -> None:
    rows = random_batch(batch, int(time.time() * 1000))
    while True:
        try:
            await store.append([(0, row) for row in rows])
            return
        except QueueFull:  # the backlog is at its bound: as a client would, wait and retry
            await asyncio.sleep(RETRY_SECONDS)


def run_growth(movements: int, batch: int) -> int:
    with tempfile.TemporaryDirectory(prefix="tracker-growth-") as temp:
        config = Config.from_env({"TRACKER_DATA_DIR": str(Path(temp) / "data"),
                                  "TRACKER_SHARDS": "16", "TRACKER_SYNC": "full"})
        layout = prepare(config, rederive_functions())
        print(f"ingesting {movements:,} movements in batches of {batch} for {USERS:,} random users "
              f"into {config.shards} shards ({config.data_dir}), through the store: appended to the log, "
              f"then folded")

        async def main() -> None:
            store = Store(layout, config, apply.apply_movements)
            try:
                await ingest(store, movements, batch)
            finally:
                store.close()

        asyncio.run(main())
        size = sum(p.stat().st_size for p in config.data_dir.glob("shard-*"))
        print(f"shard files: {size / 2**20:,.0f} MiB")
    return 0
