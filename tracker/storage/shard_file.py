"""A shard's SQLite file: its schema, and how far into the ingest log it has folded."""

from __future__ import annotations

from pathlib import Path

import apsw

from tracker.storage import migrations
from tracker.storage.connections import Role, connect
from tracker.storage.database import Database

POSITION = "SELECT seq FROM fold_position"
MOVE_POSITION = "UPDATE fold_position SET seq = ?"


class ShardFile(Database):
    """Shard `index` of the data directory."""

    def __init__(self, index: int, path: Path, sync: str = "full"):
        super().__init__(path, sync)
        self.index = index

    def create_or_upgrade(self, functions: migrations.Functions | None = None) -> list[migrations.Migration]:
        """Create the file if missing, switch it to WAL and apply pending migrations (with
        `functions` registered for them, see `migrations.apply`)."""
        return create_or_upgrade(self.path, functions)

    def position(self) -> int:
        """The log position this shard has folded up to, read on this thread's reader."""
        return position(self.connection(Role.LOOKUP))


def create_or_upgrade(path: Path, functions: migrations.Functions | None = None
                      ) -> list[migrations.Migration]:
    conn = connect(path, Role.CREATOR)
    try:
        return migrations.apply(conn, functions=functions)
    finally:
        conn.close()


def position(conn: apsw.Connection) -> int:
    """The shard's fold position as `conn` sees it (run to completion: no snapshot kept)."""
    return conn.execute(POSITION).fetchall()[0][0]


def move_position(conn: apsw.Connection, reached: int) -> None:
    conn.execute(MOVE_POSITION, (reached,))
