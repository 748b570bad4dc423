"""What one movement costs the write path: WAL pages and time per movement, one shard.

    python loadtests/write_cost.py --prefill 200000 --batch 100
    python loadtests/write_cost.py --prefill 20000 --batch 100,250,500,2000,5000

Fills a shard through `apply.apply_movements` (movements, sessions and
rollups, visits, as a fold writes them), then times transactions of random
users and counts the WAL frames each commit wrote, and the CPU time of the
thread (which moves little when other work shares the machine). Random
users are the worst case: nothing coalesces within a transaction. Several
batch sizes (a fold's rows) are measured one after another on the same
file. Last it prints the index entries the file holds per movement: every
row of every table and index, over the movements. `--sql` runs statements on
the new shard first (say, an index to weigh what its upkeep costs).
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
import uuid
from pathlib import Path

import apsw

from tracker.enrich.sources import rederive_functions
from tracker.ingest import apply
from tracker.storage import connections, shard_file
from tracker.storage.rows import MovementRow

DAY = 86_400_000


def random_rows(count: int, start: int, users: int, spacing_ms: int) -> list[MovementRow]:
    rows = []
    for i in range(count):
        user = random.randrange(users)
        timestamp = start + i * spacing_ms
        rows.append(MovementRow(f"user-{user}", f"s-{user}-{timestamp // 1_800_000}", timestamp,
                               random.choice(("page_view", "click", "scroll")),
                               f'{{"path":"/p/{random.randrange(30)}"}}', uuid.uuid4().hex))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prefill", type=int, default=200_000)
    parser.add_argument("--batch", default="100", help="movements per transaction, or several, "
                                                       "comma-separated")
    parser.add_argument("--transactions", type=int, default=60)
    parser.add_argument("--users", type=int, default=100_000 // 16, help="users in this shard")
    parser.add_argument("--sql", action="append", default=[],
                        help="a statement run on the new shard before the prefill")
    args = parser.parse_args()
    random.seed(7)
    with tempfile.TemporaryDirectory(prefix="tracker-write-cost-") as temp:
        path = Path(temp) / "shard.sqlite"
        shard_file.create_or_upgrade(path, rederive_functions())
        conn = connections.connect(path, connections.Role.WRITER, "full")
        for statement in args.sql:
            conn.execute(statement)
        frames: list[int] = []
        conn.set_wal_hook(lambda _c, _name, pages: (frames.append(pages), apsw.SQLITE_OK)[1])
        now = int(time.time() * 1000)
        days = 20
        per_day = args.prefill // days
        for day in range(days):
            conn.execute("BEGIN")
            apply.apply_movements(conn, random_rows(per_day, now - (days - day) * DAY, args.users, 37))
            conn.execute("COMMIT")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        at = now
        for batch in (int(size) for size in args.batch.split(",")):
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            frames.clear()
            started, cpu = time.perf_counter(), time.thread_time()
            for _ in range(args.transactions):
                rows = random_rows(batch, at, args.users, 37)
                at += batch * 37
                conn.execute("BEGIN IMMEDIATE")
                apply.apply_movements(conn, rows)
                conn.execute("COMMIT")
            elapsed, cpu = time.perf_counter() - started, time.thread_time() - cpu
            moved = batch * args.transactions
            written = sum(b - a for a, b in zip([0] + frames[:-1], frames) if b > a)
            print(f"prefill {args.prefill:,}, batches of {batch}: {written / moved:.2f} WAL frames "
                  f"per movement, {elapsed / moved * 1e6:.0f} us per movement "
                  f"({cpu / moved * 1e6:.0f} us CPU), {moved / elapsed:,.0f} movements/s "
                  "(one writer thread)", flush=True)
        movements = conn.execute("SELECT count(*) FROM movements").fetchone()[0]
        entries = index_entries(conn)
        conn.close()
    print(f"{movements:,} movements: {sum(entries.values()) / movements:.2f} index entries per "
          "movement (" + ", ".join(f"{name} {n / movements:.2f}" for name, n in
                                  sorted(entries.items(), key=lambda item: -item[1])) + ")")


def index_entries(conn: apsw.Connection) -> dict[str, int]:
    """Entries per table (its rows, times one plus its indexes) in the file."""
    found = {}
    for (table,) in conn.execute("SELECT name FROM sqlite_schema WHERE type = 'table' "
                                 "AND name NOT LIKE 'sqlite_%'").fetchall():
        indexes = len(conn.execute(f"PRAGMA index_list('{table}')").fetchall())
        without_rowid = conn.execute("SELECT sql LIKE '%WITHOUT ROWID%' FROM sqlite_schema "
                                     "WHERE name = ?", (table,)).fetchone()[0]
        rows = conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
        # A WITHOUT ROWID table's primary key is the table itself, not an index beside it.
        found[table] = rows * (1 + indexes - (1 if without_rowid and indexes else 0))
    return {name: n for name, n in found.items() if n}


if __name__ == "__main__":
    main()
