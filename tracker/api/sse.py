"""GET /live's answer: a Server-Sent Events stream of the movements the log receives.

Each stream polls the log (Store.tail) from its cursor, a log position, and
reads the next rows only once the previous ones were handed to the server:
a client that stops reading stops its own stream, which then holds one batch
of rows at most, and no read transaction. The HTTP layer cuts it off once it
has taken nothing for TRACKER_READER_TIMEOUT_SECONDS (tracker/http_guard.py).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import anyio
import msgspec

from tracker.schemas import LiveMovement, encode
from tracker.storage.store import Store

# Set in the ASGI scope of an answer that only ends when its client leaves: the
# HTTP layer closes such a connection when the server stops, instead of waiting.
ENDLESS = "tracker.endless"

POLL_SECONDS = 0.2
BATCH_ROWS = 100
KEEP_ALIVE_SECONDS = 15.0
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
    seq, user_id, session_id, timestamp, event, data, event_id = row
    if "\n" in data or "\r" in data:  # whitespace only (JSON escapes them in strings)
        data = msgspec.json.encode(msgspec.json.decode(data)).decode()
    movement = LiveMovement(user_id, session_id or None, timestamp, event,
                            msgspec.Raw(data.encode()), event_id)
    return b"event: movement\nid: %d\ndata: %s\n\n" % (seq, encode(movement))


class LiveStream:
    """The ASGI answer: movements after position `after`, of `user_id` and `event` when given."""

    def __init__(self, store: Store, metrics: Any, after: int, user_id: str | None,
                 event: str | None):
        self._store = store
        self._metrics = metrics
        self._after = after
        self._filters = (user_id, event)
        self._sending = False
        self._last_send_slow = False

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        scope[ENDLESS] = True
        await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
        self._metrics.live_opened()
        try:
            async with anyio.create_task_group() as group:
                group.start_soon(self._until_disconnect, receive, group.cancel_scope)
                await self._pump(send)
        finally:
            self._metrics.live_closed(dropped=self._sending or self._last_send_slow)

    async def _until_disconnect(self, receive: Any, scope: anyio.CancelScope) -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        scope.cancel()

    async def _pump(self, send: Any) -> None:
        quiet_since = time.monotonic()
        while True:
            rows, self._after = await self._store.tail(self._after, BATCH_ROWS, *self._filters)
            if rows:
                await self._send(send, b"".join(map(event_bytes, rows)))
                self._metrics.live_sent(len(rows))
                quiet_since = time.monotonic()
                if len(rows) == BATCH_ROWS:
                    continue
            elif time.monotonic() - quiet_since >= KEEP_ALIVE_SECONDS:
                await self._send(send, KEEP_ALIVE)
                quiet_since = time.monotonic()
            await asyncio.sleep(POLL_SECONDS)

    async def _send(self, send: Any, body: bytes) -> None:
        started = time.monotonic()
        self._sending = True
        await send({"type": "http.response.body", "body": body, "more_body": True})
        self._sending = False
        self._last_send_slow = time.monotonic() - started >= SLOW_SEND_SECONDS
