"""Reading a shard file together with its unfolded tail of the log: reads that wait for no fold.

A read that folds its files up to the log's head first waits for the fold
of the whole backlog, and under sustained ingest that wait was most of its
time. A read that can count movements the way the shard's tables do
(`/analytics`) reads instead the tables as folded plus the log's rows past
the file's position. The two must meet exactly: the log's read transaction
starts first, and the file's position is read inside the query's own
transaction on the file. A log row is deleted (trimmed, or a user's erased
rows) only once the file folded past it, so every row past the position the
query sees is still in the log's older snapshot; and the log's head in that
snapshot, the tail's end, is at least the head when the read began.

The tail's rows are handed over as a fold would store them now (`Place`):
anonymous visitors' movements put in their sessions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import apsw

from tracker.storage import log
from tracker.storage.connections import UNREADABLE, Role
from tracker.storage.log import LogFile
from tracker.storage.rows import MovementRow
from tracker.storage.shard_file import ShardFile, position
from tracker.storage.shards import read_now

T = TypeVar("T")

# The rows of a shard's tail as a fold would store them at the state `conn` sees (the rows in
# log order).
Place = Callable[[apsw.Connection, list[MovementRow]], list[MovementRow]]

# The unfolded rows of the file a query runs on, past the position its connection sees.
Unfolded = Callable[[apsw.Connection], list[MovementRow]]

ALL_ROWS = -1  # SQLite's LIMIT for none


def as_logged(conn: apsw.Connection, rows: list[MovementRow]) -> list[MovementRow]:
    """A Place for stores whose folds store rows as they were logged."""
    return rows


def read_with_tail(file: ShardFile, log_file: LogFile, place: Place,
                   query: Callable[..., T], *args: Any) -> T:
    """`query(connection, unfolded, *args)` on this thread's reader of `file` (a read
    thread's), where `unfolded(connection)` returns the file's log rows past the position
    that connection's transaction sees, up to the log's head."""
    log_conn = log_file.connection(Role.READER)
    try:
        log_conn.execute("BEGIN")
        try:
            upto = log.head(log_conn)  # the snapshot starts here, before the file's

            def unfolded(conn: apsw.Connection) -> list[MovementRow]:
                logged = log.read_rows(log_conn, file.key, position(conn), upto, ALL_ROWS)
                return place(conn, [row.movement for row in logged])

            return read_now(file, query, unfolded, *args)
        finally:
            log_conn.execute("COMMIT")
    except UNREADABLE:
        log_file.forget(Role.READER)
        raise


def without_tail(conn: apsw.Connection, query: Callable[..., T], *args: Any) -> T:
    """`query(conn, unfolded, *args)` for a file already caught up: its tail is empty."""
    return query(conn, lambda _conn: [], *args)
