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

from bench import stored_movements

from tracker.config import Config
from tracker.enrich.sources import rederive_functions
from tracker.ingest import apply
from tracker.storage import connections
from tracker.storage.group_commit import QueueFull
from tracker.storage.rows import MovementRow
from tracker.storage.store import Store, prepare

USERS = 100_000
IN_FLIGHT = 64
MILLION = 1_000_000
# A refused batch waits this long before it is sent again (the folder needs the time).
RETRY_SECONDS = 0.2


def random_batch(size: int, now: int, users: int = USERS) -> list[MovementRow]:
    rows = []
    for _ in range(size):
        user = random.randrange(users)
        rows.append(MovementRow(f"user-{user}", f"s-{user}-{now // 1_800_000}", now,
                        random.choice(("page_view", "click", "scroll")),
                        f'{{"path":"/p/{random.randrange(50)}"}}', uuid.uuid4().hex))
    return rows


async def ingest(store: Store, total: int, batch: int, step: int, users: int) -> int:
    """Each step (a million by default) is timed until the aggregates count it: appended, then
    folded. Ends with the last step's rate against the first's (the issue's "tenth million
    against the first" for ten million); returns the movements acknowledged as new."""
    started = time.perf_counter()
    rates = []
    acknowledged = 0
    for number in range(1, total // step + 1):
        began = time.perf_counter()
        acknowledged += await append_step(store, batch, step, users)
        await store.caught_up(store.live_files())
        now = time.perf_counter()
        rates.append(step / (now - began))
        print(f"{'million' if step == MILLION else 'step'} {number:>3}: {rates[-1]:>9,.0f} "
              f"movements/s (total {number * step:,} in {now - started:,.0f} s)", flush=True)
    if len(rates) > 1:
        print(f"growth: step {len(rates)} at {rates[-1] / rates[0]:.0%} of the first's rate",
              flush=True)
    return acknowledged


async def append_step(store: Store, batch: int, step: int, users: int) -> int:
    """Append `step` movements with IN_FLIGHT batches in flight, waiting out refusals; how many
    were acknowledged as new."""
    pending: set[asyncio.Task] = set()
    sent = acknowledged = 0
    while sent < step or pending:
        while len(pending) < IN_FLIGHT and sent < step:
            pending.add(asyncio.create_task(append_batch(store, batch, users)))
            sent += batch
        finished, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        acknowledged += sum(task.result() for task in finished)
    return acknowledged


async def append_batch(store: Store, batch: int, users: int) -> int:
    rows = random_batch(batch, int(time.time() * 1000), users)
    while True:
        try:
            return await store.append([(0, row) for row in rows])
        except QueueFull:  # the backlog is at its bound: as a client would, wait and retry
            await asyncio.sleep(RETRY_SECONDS)


def run_growth(movements: int, batch: int, shards: int = 16, step: int = MILLION,
               users: int = USERS) -> int:
    """Print the rate of each step; 1 (and the count) if an acknowledged movement is missing.
    One shard with a tenth of the movements grows its file as large as sixteen shards with all
    of them, but its folds then wait on each other (the folder's and those on demand): on a
    busy machine a fold can time out on the lock and be tried again, which the rate shows.
    Two shards with an eighth of the movements and of the users (`--shards 2 --users 12500`)
    grow each file as large, with as many users, as sixteen shards with all of them."""
    with tempfile.TemporaryDirectory(prefix="tracker-growth-") as temp:
        config = Config.from_env({"TRACKER_DATA_DIR": str(Path(temp) / "data"),
                                  "TRACKER_SHARDS": str(shards), "TRACKER_SYNC": "full"})
        layout = prepare(config, rederive_functions())
        # The store folds in a thread of this process: give it the folding process's memory.
        connections.limit_memory(connections.FOLDING_MEMORY_MIB)
        print(f"ingesting {movements:,} movements in batches of {batch} for {users:,} random users "
              f"into {config.shards} shards ({config.data_dir}), through the store: appended to the log, "
              f"then folded")

        async def main() -> int:
            store = Store(layout, config, apply.apply_movements)
            try:
                return await ingest(store, movements, batch, step, users)
            finally:
                store.close()

        acknowledged = asyncio.run(main())
        size = sum(p.stat().st_size for p in config.data_dir.glob("shard-*"))
        stored = stored_movements(config.data_dir)
        print(f"shard files: {size / 2**20:,.0f} MiB; acknowledged {acknowledged:,}, "
              f"stored {stored:,}" + ("" if stored >= acknowledged else
                                      ": ACKNOWLEDGED MOVEMENTS MISSING"))
    return 0 if stored >= acknowledged else 1
