"""Where a shard file stands in the stream, and under which lease it was last written.

Each shard file of a cluster node keeps one row, `cluster_position(seq,
lease)`: the stream sequence of the last message folded into it (or known to
hold nothing for it), and the term of the lease its owner held then. A fold
moves both in the same transaction as the rows it stores, so a crash at any
moment leaves the file and its position in agreement, and the next owner
resumes exactly after it. A fold under an older term than the one recorded
is refused (`Fenced`): a node that lost a shard and took it back cannot have
a fold of its earlier ownership land after the newer ones.

The table is made by the cluster when it first writes a file, not by the
shard migrations: a single node never has it.
"""

from __future__ import annotations

import apsw

CREATE = """
CREATE TABLE IF NOT EXISTS cluster_position (seq INTEGER NOT NULL, lease INTEGER NOT NULL)
"""
SEED = "INSERT INTO cluster_position SELECT 0, 0 WHERE NOT EXISTS (SELECT 1 FROM cluster_position)"
HAS_TABLE = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'cluster_position'"
READ = "SELECT seq, lease FROM cluster_position"
MOVE = "UPDATE cluster_position SET seq = max(seq, :seq), lease = :lease WHERE lease <= :lease"


class Fenced(Exception):
    """The file was written under a newer lease than this fold's: the fold must not land."""


def ensure(conn: apsw.Connection) -> None:
    """Make the position row if the file has none (in the caller's transaction)."""
    conn.execute(CREATE)
    conn.execute(SEED)


def read(conn: apsw.Connection) -> tuple[int, int]:
    """(stream sequence folded, lease term) of the file; (0, 0) for a file never folded."""
    if not conn.execute(HAS_TABLE).fetchall():
        return 0, 0
    found = conn.execute(READ).fetchall()
    return (found[0][0], found[0][1]) if found else (0, 0)


def move(conn: apsw.Connection, seq: int, lease: int) -> None:
    """Record a fold up to `seq` under lease `lease`, in the fold's transaction."""
    ensure(conn)
    conn.execute(MOVE, {"seq": seq, "lease": lease})
    if conn.changes() == 0:
        raise Fenced(f"the file was folded under a lease newer than {lease}")
