"""GET /live's answer: a Server-Sent Events stream of the movements the log receives.

One task per process reads the log for every stream (LiveHub); a stream takes
its rows from there, or from the log itself when its cursor is further back.
A stream takes the next rows only once the previous ones were handed to the
server: a client that stops reading stops its own stream, which then holds
one batch of rows at most, and no read transaction. The HTTP layer cuts it off once it
has taken nothing for TRACKER_READER_TIMEOUT_SECONDS (tracker/http_guard.py).
"""

from __future__ import annotations

import asyncio
import bisect
import time
from typing import Any

import anyio
import msgspec

from tracker.schemas import LiveMovement, encode
from tracker.storage.store import Store

# Set in the ASGI scope of an answer that only ends when its client leaves: the
# HTTP layer closes such a connection when the server stops, instead of waiting.
ENDLESS = "tracker.endless"
# Set there by the HTTP layer when it cuts off a client that took nothing for too long.
STALLED = "tracker.stalled"

POLL_SECONDS = 0.2
BATCH_ROWS = 100  # events one stream sends at once
HUB_BATCH_ROWS = 1_000  # rows the hub reads from the log at once
HUB_SEND_ROWS = 1_000  # events one stream sends at once from the hub
KEEP_ROWS = 10_000  # the newest rows the hub holds for its streams
KEEP_ALIVE_SECONDS = 15.0
# Without rows the hub still wakes its streams this often, so each sends its keep-alive on time.
WAKE_SECONDS = 1.0
KEEP_ALIVE = b": keep-alive\n\n"
# A send that waited this long for the client to take earlier bytes was held up
# by the client; a stream that ends then is counted as dropped for slowness.
SLOW_SEND_SECONDS = 1.0

HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),  # nginx: pass each event on at once
]


def event_bytes(row: tuple) -> bytes:
    """One `movement` event from a log.tail row; anonymous rows (empty sessionId) get null."""
    seq, _shard, user_id, session_id, timestamp, event, data, event_id = row
    if "\n" in data or "\r" in data:  # whitespace only (JSON escapes them in strings)
        data = msgspec.json.encode(msgspec.json.decode(data)).decode()
    movement = LiveMovement(user_id, session_id or None, timestamp, event,
                            msgspec.Raw(data.encode()), event_id)
    return b"event: movement\nid: %d\ndata: %s\n\n" % (seq, encode(movement))


class LiveHub:
    """One reader of the log per process for all its streams.

    While any stream is open, a task reads the rows appended after its
    position every POLL_SECONDS (one query however many streams there are),
    encodes each once and keeps the newest KEEP_ROWS. A stream whose cursor
    lies within what the hub holds picks its rows from there; one further
    behind (a reconnect) reads the log itself until it has caught up.

    Each read's events are also kept joined, as one page: with a hundred
    streams each taking every event, joining them again per stream was most
    of what the streams cost ingest, so a stream that wants every row and
    stands where a page starts sends that page as it is.
    """

    def __init__(self, store: Store):
        self._store = store
        self._seqs: list[int] = []
        self._keys: list[tuple[int, str, str]] = []  # site, userId and event of each row
        self._encoded: list[bytes] = []  # each row as its event
        self._sites: set[int] = set()  # the sites of the rows held
        # each read's events joined, by the position it read after: (body, rows, read to)
        self._pages: dict[int, tuple[bytes, int, int]] = {}
        self.start = self.position = 0  # the hub holds the rows in (start, position]
        self._arrived = asyncio.Event()
        self._streams = 0
        self._task: asyncio.Task | None = None

    def running(self) -> bool:
        """Whether the hub is reading the log (a failed read ends it: streams read the log)."""
        return self._task is not None and not self._task.done()

    def holds(self, after: int) -> bool:
        return self.running() and after >= self.start

    def rows_after(self, after: int, site: int, user_id: str | None, event: str | None,
                   limit: int) -> tuple[bytes, int, int]:
        """Encoded rows of `site` after `after` that match, at most `limit`, as one body; how
        many; and the position looked through."""
        begin = bisect.bisect_right(self._seqs, after)
        if user_id is None and event is None and self._sites <= {site}:
            # every row it holds is the site's: a whole page, or a slice, no loop in Python
            page = self._pages.get(after)
            if page is not None and page[1] <= limit:
                return page
            end = min(begin + limit, len(self._seqs))
            looked = self._seqs[end - 1] if end - begin == limit else self.position
            return b"".join(self._encoded[begin:end]), end - begin, max(looked, after)
        picked, looked = [], self.position
        for index in range(begin, len(self._seqs)):
            row_site, row_user, row_event = self._keys[index]
            if row_site == site and (user_id is None or row_user == user_id) and (
                    event is None or row_event == event):
                picked.append(self._encoded[index])
                if len(picked) == limit:
                    looked = self._seqs[index]
                    break
        return b"".join(picked), len(picked), max(looked, after)

    async def arrival(self) -> None:
        """Until new rows arrive, the hub stops, or WAKE_SECONDS pass without rows (at once when
        it has stopped already: nothing would wake the stream)."""
        if self.running():
            await self._arrived.wait()

    def join(self) -> None:
        self._streams += 1
        if self._task is None:
            self.start = self.position = self._store.head()
            self._task = asyncio.get_running_loop().create_task(self._read())

    def leave(self) -> None:
        self._streams -= 1
        if not self._streams and self._task is not None:
            self._task.cancel()
            self._task = None
            self._seqs, self._keys, self._encoded, self._sites = [], [], [], set()
            self._pages = {}

    async def _read(self) -> None:
        """Read the log into the hub; wake the streams when rows came, at least every
        WAKE_SECONDS, and when the reading ends (a stream then reads the log itself)."""
        woken = time.monotonic()
        try:
            while True:
                after = self.position
                rows, self.position = await self._store.tail(None, after, HUB_BATCH_ROWS)
                if rows:
                    self._keep(rows, after)
                if rows or time.monotonic() - woken >= WAKE_SECONDS:
                    woken = time.monotonic()
                    self._wake()
                if len(rows) < HUB_BATCH_ROWS:
                    await asyncio.sleep(POLL_SECONDS)
        finally:
            self._wake()

    def _wake(self) -> None:
        self._arrived.set()
        self._arrived = asyncio.Event()

    def _keep(self, rows: list[tuple], after: int) -> None:
        self._seqs += [row[0] for row in rows]
        shards = self._store.shard_count
        self._keys += [(row[1] // shards, row[2], row[5]) for row in rows]
        self._sites.update(key[0] for key in self._keys[-len(rows):])
        encoded = [event_bytes(row) for row in rows]
        self._encoded += encoded
        self._pages[after] = (b"".join(encoded), len(rows), self.position)
        if len(self._seqs) > 2 * KEEP_ROWS:
            self.start = self._seqs[-KEEP_ROWS - 1]
            self._seqs = self._seqs[-KEEP_ROWS:]
            self._keys, self._encoded = self._keys[-KEEP_ROWS:], self._encoded[-KEEP_ROWS:]
            self._pages = {at: page for at, page in self._pages.items() if at >= self.start}


class LiveStream:
    """The ASGI answer: movements after position `after`, of `user_id` and `event` when given."""

    def __init__(self, store: Store, hub: LiveHub, metrics: Any, after: int, site: int,
                 user_id: str | None, event: str | None):
        self._store = store
        self._hub = hub
        self._metrics = metrics
        self._after = after
        self._site = site
        self._filters = (user_id, event)
        # Rows the hub read before this stream had caught up with the log are not taken from
        # it: the log is read for them, so that rows deleted since (an erasure) stay gone.
        self._from_hub = False
        self._sending = False
        self._last_send_slow = False

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        scope[ENDLESS] = True
        await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
        self._metrics.live_opened()
        self._hub.join()
        try:
            async with anyio.create_task_group() as group:
                group.start_soon(self._until_disconnect, receive, group.cancel_scope)
                await self._pump(send)
        finally:
            self._hub.leave()
            self._metrics.live_closed(
                dropped=bool(scope.get(STALLED)) or self._sending or self._last_send_slow)

    async def _until_disconnect(self, receive: Any, scope: anyio.CancelScope) -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        scope.cancel()

    async def _pump(self, send: Any) -> None:
        quiet_since = time.monotonic()
        while True:
            body, count, full = await self._next_events()
            if count:
                await self._send(send, body)
                self._metrics.live_sent(count)
                quiet_since = time.monotonic()
                if full:
                    continue
            elif time.monotonic() - quiet_since >= KEEP_ALIVE_SECONDS:
                await self._send(send, KEEP_ALIVE)
                quiet_since = time.monotonic()
            if self._from_hub:
                await self._hub.arrival()
            else:
                await asyncio.sleep(POLL_SECONDS)

    async def _next_events(self) -> tuple[bytes, int, bool]:
        """The next encoded events after the cursor, from the hub or, further back, the log, as
        one body; how many; and whether there may be more at once."""
        self._from_hub = self._from_hub and self._hub.holds(self._after)
        if self._from_hub:
            body, count, self._after = self._hub.rows_after(self._after, self._site,
                                                            *self._filters, HUB_SEND_ROWS)
            return body, count, self._after < self._hub.position
        rows, self._after = await self._store.tail(self._site, self._after, BATCH_ROWS,
                                                   *self._filters)
        full = len(rows) == BATCH_ROWS
        self._from_hub = not full and self._hub.running() and self._after >= self._hub.position
        return b"".join(event_bytes(row) for row in rows), len(rows), full

    async def _send(self, send: Any, body: bytes) -> None:
        started = time.monotonic()
        self._sending = True
        await send({"type": "http.response.body", "body": body, "more_body": True})
        self._sending = False
        self._last_send_slow = time.monotonic() - started >= SLOW_SEND_SECONDS
