"""Sites, keys and shares shared by every node, through the `tracker_registry` bucket.

Each node keeps its own `sites.sqlite`, as a single node does, so that
every lookup stays a local query; the bucket's one entry is the whole
registry, and its revision orders the changes. A change made through a node
(`write`) reads the newest entry into the local file, makes the change
there, and stores the result conditioned on that revision; if another node
wrote in between, it starts over from the newer entry. The change is
answered only once stored; every node watches the entry and reads it again
as soon as it changes (and at least twice a second, and whenever folding
meets a site it does not know), so a site made through one node is known to
the others within milliseconds.

Rows of every registry table are shared except `share_failures` (a node
rate-limits password guesses on its own). A site that disappears from the
registry has its local files removed; a new one has them made before its
rows become visible. `tracker sites`, `keys` and `shares` on the command
line change the shared entry the same way (`change_once`).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any, TypeVar

import apsw
import nats.errors
import nats.js.errors
from nats.js.kv import KeyValue

from tracker.cluster import jetstream
from tracker.cluster.publish import StreamUnavailable
from tracker.config import Config
from tracker.lifecycle.sites import remove_files
from tracker.storage import migrations
from tracker.storage.read_pool import ReadPool
from tracker.storage.registry import RegistryFile
from tracker.storage.store import Layout, create_site_files

T = TypeVar("T")

log = logging.getLogger("tracker.cluster")

KEY = "registry"
LOCAL_TABLES = frozenset({"share_failures", "schema_migrations", "sqlite_sequence"})
TABLES = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
SITES_SEQUENCE = "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'sites'), 0)"
RAISE_SEQUENCE = "UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = 'sites'"
SEED_SEQUENCE = """
INSERT INTO sqlite_sequence(name, seq) SELECT 'sites', ?
WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'sites')
"""
SITE_NUMBERS = "SELECT number FROM sites"
POLL_SECONDS = 0.5
WRITE_ATTEMPTS = 10


class RegistryBusy(Exception):
    """Other nodes kept changing the registry while this one tried to."""


def dump(conn: apsw.Connection) -> bytes:
    """Every shared table's rows, and the highest site number ever given."""
    tables = {}
    for (name,) in conn.execute(TABLES).fetchall():
        if name in LOCAL_TABLES:
            continue
        columns = [row[1] for row in conn.execute(f"PRAGMA table_info({name})").fetchall()]
        rows = conn.execute(f"SELECT {', '.join(columns)} FROM {name}").fetchall()
        tables[name] = {"columns": columns, "rows": rows}
    sequence = conn.execute(SITES_SEQUENCE).fetchall()[0][0]
    return json.dumps({"tables": tables, "sequence": sequence}, sort_keys=True).encode()


def load(conn: apsw.Connection, value: bytes) -> None:
    """Replace the shared tables' rows with the entry's (in the caller's transaction)."""
    entry = json.loads(value)
    for (name,) in conn.execute(TABLES).fetchall():
        if name not in LOCAL_TABLES:
            conn.execute(f"DELETE FROM {name}")
    for name, table in entry["tables"].items():
        if not table["rows"]:
            continue
        columns = ", ".join(table["columns"])
        marks = ", ".join("?" for _ in table["columns"])
        conn.executemany(f"INSERT INTO {name}({columns}) VALUES ({marks})",
                         [tuple(row) for row in table["rows"]])
    conn.execute(SEED_SEQUENCE, (entry["sequence"],))
    conn.execute(RAISE_SEQUENCE, (entry["sequence"],))


def site_numbers(value: bytes) -> set[int]:
    table = json.loads(value)["tables"].get("sites", {"columns": [], "rows": []})
    if not table["rows"]:
        return set()
    at = table["columns"].index("number")
    return {row[at] for row in table["rows"]}


class RegistrySync:
    def __init__(self, bucket: KeyValue, registry: RegistryFile, layout: Layout, pool: ReadPool,
                 functions: migrations.Functions | None, remove_site: Callable[[int], None]):
        self._bucket = bucket
        self._registry = registry
        self._layout = layout
        self._pool = pool
        self._functions = functions
        self._remove_site = remove_site
        self.revision = 0
        self._lock = asyncio.Lock()
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        await self.refresh()
        if self.revision == 0:  # the first node: its registry (the default site) starts the entry
            await self._store(await self._pool.run(self._dump))
        self._task = asyncio.create_task(self._poll())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def refresh(self) -> None:
        """Read the newest entry into the local file, if it is newer than what that holds."""
        async with self._lock:
            await self._refresh()

    async def _refresh(self, again: bool = False) -> None:
        try:
            entry = await self._bucket.get(KEY)
        except nats.js.errors.KeyNotFoundError:
            return
        if entry.revision is None or entry.value is None:
            return
        if entry.revision < self.revision or (entry.revision == self.revision and not again):
            return
        await self._pool.run(self._apply, entry.value)
        self.revision = entry.revision

    def _apply(self, value: bytes) -> None:
        before = self._local_numbers()
        after = site_numbers(value)
        for number in sorted(after - before):  # files first, then the rows that show the site
            create_site_files(self._layout, number, self._functions)
        with self._registry.transaction() as conn:
            load(conn, value)
        for number in sorted(before - after):
            self._remove_site(number)

    def _local_numbers(self) -> set[int]:
        conn = self._registry.connection()
        return {number for (number,) in conn.execute(SITE_NUMBERS).fetchall()}

    def _dump(self) -> bytes:
        return dump(self._registry.connection())

    async def write(self, change: Callable[..., T], *args: Any) -> T:
        """Make a change to the registry (`change(*args)` on a read thread, as for a single
        node) and store it for every node; answers once stored. StreamUnavailable when
        JetStream does not answer: nothing is changed then, here or for the others."""
        try:
            return await self._write(change, *args)
        except (TimeoutError, nats.errors.Error, nats.js.errors.Error) as error:
            raise StreamUnavailable(f"the shared registry could not be changed ({error!r})") from error

    async def _write(self, change: Callable[..., T], *args: Any) -> T:
        async with self._lock:
            for _attempt in range(WRITE_ATTEMPTS):
                await self._refresh()
                result = await self._pool.run(change, *args)
                try:
                    if await self._store(await self._pool.run(self._dump)):
                        return result
                except BaseException:  # not stored: the local file goes back to the shared entry
                    await asyncio.shield(self._quietly_refresh())
                    raise
            raise RegistryBusy("the registry kept changing; try again")

    async def _quietly_refresh(self) -> None:
        """Back to the shared entry when it can be read; else the watcher brings it later."""
        try:
            await self._refresh(again=True)
        except (TimeoutError, nats.errors.Error, nats.js.errors.Error) as error:
            log.warning("reading the shared registry failed: %r", error)

    async def _store(self, value: bytes) -> bool:
        try:
            if self.revision == 0:
                self.revision = await self._bucket.create(KEY, value)
            else:
                self.revision = await self._bucket.update(KEY, value, last=self.revision)
        except nats.js.errors.KeyWrongLastSequenceError:
            return False
        return True

    async def _poll(self) -> None:
        """Read the entry again as soon as the bucket tells of a change (a watcher), and at
        least every POLL_SECONDS (a watcher lost with a NATS server is made again)."""
        watcher = None
        while True:
            try:
                if watcher is None:
                    watcher = await self._bucket.watch(KEY)
                try:
                    await watcher.updates(timeout=POLL_SECONDS)
                except nats.errors.TimeoutError:
                    pass
                await self.refresh()
            except (TimeoutError, nats.errors.Error, nats.js.errors.Error, apsw.Error) as error:
                log.warning("reading the shared registry failed: %r", error)
                watcher = None
                await asyncio.sleep(POLL_SECONDS)


async def change_once(config: Config, layout: Layout, registry: RegistryFile,
                      change: Callable[..., T] | None, *args: Any) -> T | None:
    """For the command line in cluster mode: bring the local registry up to the shared entry,
    make `change(*args)` (none: only read) and store it for every node, as a node's API does."""
    jet = await jetstream.connect(config, name=f"{config.node_id or 'tracker'}-command")
    pool = ReadPool(1)
    try:
        sync = RegistrySync(jet.registry, registry, layout, pool, None,
                            lambda site: remove_files(layout, site))
        await sync.refresh()
        if change is None:
            return None
        return await sync.write(change, *args)
    finally:
        pool.close()
        await jet.close()
