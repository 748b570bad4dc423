"""What each shard file holds, read from the files directly: `tracker stats` and scrape-time gauges.

Reads use read-only connections; in WAL mode they see the last commit and
never block the service's writers, so this works while the service runs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import apsw

from tracker.storage import connections, log, migrations
from tracker.storage.shard_file import position

COUNT_MOVEMENTS = "SELECT count(*) FROM movements"
COUNT_SESSIONS = "SELECT count(*) FROM sessions"
COUNT_RUNNING_ERASURES = "SELECT count(*) FROM erasures WHERE status = 'running'"


@dataclass(frozen=True)
class ShardStats:
    name: str
    movements: int
    sessions: int
    file_bytes: int
    wal_bytes: int
    schema_version: int


def file_sizes(path: Path) -> tuple[int, int] | None:
    """Bytes of the shard file and of its WAL (0 when there is none); None when the file is missing."""
    try:
        size = path.stat().st_size
    except OSError:
        return None
    try:
        wal = path.with_name(path.name + "-wal").stat().st_size
    except OSError:
        wal = 0
    return size, wal


def count_sessions(conn: apsw.Connection) -> int:
    return conn.execute(COUNT_SESSIONS).fetchone()[0]


def count_running_erasures(conn: apsw.Connection) -> int:
    return conn.execute(COUNT_RUNNING_ERASURES).fetchone()[0]


def shard_stats(path: Path) -> ShardStats:
    """Counts and sizes of one shard file; raises apsw.Error when it cannot be read."""
    sizes = file_sizes(path) or (0, 0)

    def counts(conn: apsw.Connection) -> ShardStats:
        movements = conn.execute(COUNT_MOVEMENTS).fetchone()[0]
        return ShardStats(path.name, movements, count_sessions(conn), sizes[0], sizes[1],
                          migrations.current_version(conn))

    return connections.read_once(path, counts)


def backlog_line(data_dir: Path, paths: list[Path]) -> str:
    """How much of the ingest log the shards have not folded yet (the service folds it)."""
    log_path = log.path_in(data_dir)
    if not log_path.exists():
        return "unfolded: 0 events"
    positions = [connections.read_once(path, position) for path in paths]

    def unfolded(conn: apsw.Connection) -> tuple[int, int | None]:
        counts = [log.backlog(conn, shard, at) for shard, at in enumerate(positions)]
        oldest = [when for count, when in counts if count and when is not None]
        return sum(count for count, _ in counts), min(oldest) if oldest else None

    events, oldest = connections.read_once(log_path, unfolded)
    age = "" if oldest is None else f", oldest appended {max(0.0, time.time() - oldest / 1000):.1f} s ago"
    return f"unfolded: {events} events{age}"


def table(rows: list[ShardStats]) -> list[str]:
    """Aligned lines: one per shard, then the totals."""
    header = ("shard", "movements", "sessions", "file bytes", "wal bytes", "schema")
    lines = [header] + [_cells(row) for row in rows]
    total = ShardStats("total", sum(r.movements for r in rows), sum(r.sessions for r in rows),
                       sum(r.file_bytes for r in rows), sum(r.wal_bytes for r in rows), 0)
    versions = sorted({r.schema_version for r in rows})
    lines.append(_cells(total)[:-1] + (",".join(map(str, versions)),))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return ["  ".join(cell.ljust(w) if i == 0 else cell.rjust(w)
                      for i, (cell, w) in enumerate(zip(line, widths))) for line in lines]


def _cells(row: ShardStats) -> tuple[str, ...]:
    return (row.name, str(row.movements), str(row.sessions), str(row.file_bytes),
            str(row.wal_bytes), str(row.schema_version))
