"""Importing rows read from files into a site, through the log as ingest stores them.

Imported movements take the way of every acknowledged event: appended to
the ingest log in batches (the log's group-commit writer of this process,
beside the service's workers when it runs: SQLite's lock orders their
transactions, and each writer first learns the eventIds the others appended),
then folded into the site's shards. So eventIds are de-duplicated as on
/track (a file imported twice is stored once), every worker's reads see the
rows, and the live feed shows them. While the log's backlog is at its bound
the importer waits for folding to catch up instead of failing.

Rows are appended a batch at a time, with a few batches in flight, so that
reading the file goes on while the writer commits. A batch is split by the
rows' contexts, since the log keeps one context per append.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from tracker.ingest.import_rows import Imported, Rejected
from tracker.storage.group_commit import QueueFull
from tracker.storage.rows import MovementRow
from tracker.storage.store import Store

BATCH_ROWS = 5_000
IN_FLIGHT = 4
BACKLOG_WAIT_SECONDS = 0.05


@dataclass
class Tally:
    """What an import did so far."""

    read: int = 0  # rows read, rejected ones included
    stored: int = 0
    duplicates: int = 0
    rejected: int = 0


class Importer:
    """Appends one site's imported rows to the log, in batches, counting what happens."""

    def __init__(self, store: Store, site: int, on_rejected: Callable[[str, int, str], None],
                 batch_rows: int = BATCH_ROWS):
        self.tally = Tally()
        self._store = store
        self._site = site
        self._on_rejected = on_rejected
        self._batch_rows = batch_rows
        self._batch: list[Imported] = []
        self._in_flight: set[asyncio.Task] = set()

    async def add_file(self, name: str, rows: Iterable[tuple[int, Imported | Rejected]],
                       on_progress: Callable[[Tally], None] = lambda tally: None) -> None:
        """Every row of one file; a rejected row is reported (`on_rejected(name, line, why)`)."""
        for line, row in rows:
            self.tally.read += 1
            if isinstance(row, Rejected):
                self.tally.rejected += 1
                self._on_rejected(name, line, str(row))
                continue
            self._batch.append(row)
            if len(self._batch) >= self._batch_rows:
                await self._flush()
                on_progress(self.tally)

    async def finish(self) -> Tally:
        """Append what is left and wait until every batch is durable in the log."""
        await self._flush()
        while self._in_flight:
            await self._settle()
        return self.tally

    async def _flush(self) -> None:
        by_context: dict[str | None, list[tuple[int, MovementRow]]] = {}
        for imported in self._batch:
            by_context.setdefault(imported.context, []).append((self._site, imported.row))
        self._batch = []
        for context, rows in by_context.items():
            while len(self._in_flight) >= IN_FLIGHT:
                await self._settle()
            self._in_flight.add(asyncio.create_task(self._append(rows, context)))

    async def _settle(self) -> None:
        done, self._in_flight = await asyncio.wait(self._in_flight, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            task.result()  # a failed write (a full disk) stops the import, saying why

    async def _append(self, rows: list[tuple[int, MovementRow]], context: str | None) -> None:
        while True:
            try:
                stored = await self._store.append(rows, context)
                break
            except QueueFull:  # the backlog or the writer's queue at its bound: let folding catch up
                await asyncio.sleep(BACKLOG_WAIT_SECONDS)
        self.tally.stored += stored
        self.tally.duplicates += len(rows) - stored
