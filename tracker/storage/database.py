"""One SQLite file, in the spirit of Datasette's `Database`: connections per thread and
role, reopened when the file was replaced, and its write transactions.

Every long-lived connection of the service comes from here: a thread asks
its `Database` for a connection of a role (a writer thread for WRITER, a
reader for READER or LOOKUP) and gets the one it opened before, as long as
the path still names that file. A file moved, deleted or replaced under a
running service (a restore, an operator's mistake) is opened afresh, so no
read answers from, and no write goes into, an inode nobody will open again;
checking costs one stat per use. SQLite finds a write-ahead log by the file's
name, though: a file replaced while its WAL still held frames is read through
the old WAL, which is why `tracker restore` wants the service stopped.

Subclasses are the file kinds: a shard (`shard_file.py`) and the ingest log
(`log.py`).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path

import apsw

from tracker.storage.connections import Role, connect, file_identity, transaction


class Database:
    """A SQLite file and every connection this process keeps to it."""

    def __init__(self, path: Path, sync: str = "full"):
        self.path = path
        self.sync = sync
        self._local = threading.local()
        self._opened: set[apsw.Connection] = set()  # every thread's, for close()
        self._lock = threading.Lock()

    def connection(self, role: Role = Role.READER) -> apsw.Connection:
        """This thread's connection of `role`, opened on first use or when the file changed."""
        held = self._held()
        identity = file_identity(self.path)
        current = held.get(role)
        if current is not None and current[1] != identity:
            self.forget(role)
            current = None
        if current is None:
            conn = connect(self.path, role, self.sync)
            current = held[role] = (conn, identity)
            with self._lock:
                self._opened.add(conn)
        return current[0]

    def _held(self) -> dict[Role, tuple[apsw.Connection, tuple[int, int] | None]]:
        held = getattr(self._local, "held", None)
        if held is None:
            held = self._local.held = {}
        return held

    def forget(self, role: Role = Role.READER) -> None:
        """Close this thread's connection of `role` (after an error), so the next use opens
        the file afresh."""
        current = self._held().pop(role, None)
        if current is None:
            return
        with self._lock:
            self._opened.discard(current[0])
        try:
            if current[0].in_transaction:
                current[0].execute("ROLLBACK")
        except apsw.Error:
            pass
        current[0].close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[apsw.Connection]:
        """A write transaction on this thread's writer connection."""
        with transaction(self.connection(Role.WRITER)) as conn:
            yield conn

    def snapshot(self) -> apsw.Connection:
        """A new connection inside a read transaction, for reads that must see one moment;
        the caller closes it."""
        return connect(self.path, Role.SNAPSHOT)

    def close(self) -> None:
        """Close every thread's connections (when no thread uses them any more)."""
        with self._lock:
            opened, self._opened = self._opened, set()
        for conn in opened:
            conn.close()
