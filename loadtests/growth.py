"""Growth: ingest many movements through the store (not HTTP) and print the rate of each million.

Through the store directly because HTTP on this 2-core machine would take an
hour for ten million; the store path is the same group-commit writers,
transactions and indexes that HTTP requests use, so a slowdown as the shard
files grow shows here just as it would there.
"""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
import uuid
from pathlib import Path

from tracker.config import Config
from tracker.storage.store import Store, prepare
from tracker.ingest import writes
from tracker.storage.rows import MovementRow

USERS = 100_000
IN_FLIGHT = 64
MILLION = 1_000_000


def random_batch(size: int, now: int) -> list[MovementRow]:
    rows = []
    for _ in range(size):
        user = random.randrange(USERS)
        rows.append(MovementRow(f"user-{user}", f"s-{user}-{now // 1_800_000}", now,
                        random.choice(("page_view", "click", "scroll")),
                        f'{{"path":"/p/{random.randrange(50)}"}}', uuid.uuid4().hex))
    return rows


async def ingest(store: Store, total: int, batch: int) -> None:
    done = 0
    started = last = time.perf_counter()
    pending: set[asyncio.Task] = set()
    while done < total:
        while len(pending) < IN_FLIGHT and done + len(pending) * batch < total:
            pending.add(asyncio.create_task(writes.track(store, random_batch(batch, int(time.time() * 1000)))))
        finished, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        for task in finished:
            task.result()
            before = done
            done += batch
            if done // MILLION > before // MILLION:
                now = time.perf_counter()
                print(f"million {done // MILLION:>3}: {MILLION / (now - last):>9,.0f} movements/s "
                      f"(total {done:,} in {now - started:,.0f} s)", flush=True)
                last = now


def run_growth(movements: int, batch: int) -> int:
    with tempfile.TemporaryDirectory(prefix="tracker-growth-") as temp:
        config = Config.from_env({"TRACKER_DATA_DIR": str(Path(temp) / "data"),
                                  "TRACKER_SHARDS": "16", "TRACKER_SYNC": "full"})
        layout = prepare(config)
        print(f"ingesting {movements:,} movements in batches of {batch} for {USERS:,} random users "
              f"into {config.shards} shards ({config.data_dir}), through the store")

        async def main() -> None:
            store = Store(layout, config)
            try:
                await ingest(store, movements, batch)
            finally:
                store.close()

        asyncio.run(main())
        size = sum(p.stat().st_size for p in config.data_dir.glob("shard-*"))
        print(f"shard files: {size / 2**20:,.0f} MiB")
    return 0
