"""An answer streamed from an open file, which it closes however the answer ends; and the
exports' answers, spooled to such a file under one of the export slots."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, BinaryIO

from starlette.concurrency import run_in_threadpool
from starlette.responses import StreamingResponse

from tracker.api.errors import ApiError
from tracker.lifecycle.export_slots import ExportSlots

# Bytes read from the file and handed to the server per step.
CHUNK_BYTES = 64 * 1024
# A client refused for want of an export slot is told to come back after this long.
EXPORT_RETRY_SECONDS = 5


class SpooledResponse(StreamingResponse):
    """Streams `file` from its current position, a chunk at a time read on a thread.

    The file is closed, and `on_close` called, when the answer is sent, when
    the client goes away or is cut off, and when sending fails.
    """

    def __init__(self, file: BinaryIO, media_type: str,
                 on_close: Callable[[], None] = lambda: None, headers: dict[str, str] | None = None):
        self.file = file
        self.on_close = on_close
        super().__init__(self._chunks(), media_type=media_type, headers=headers)

    async def _chunks(self) -> AsyncIterator[bytes]:
        while chunk := await run_in_threadpool(self.file.read, CHUNK_BYTES):
            yield chunk

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.file.close()
            self.on_close()


async def spooled_export(slots: ExportSlots, spool: Callable[[], Awaitable[BinaryIO | None]],
                         media_type: str, missing: str = "nothing to export",
                         headers: dict[str, str] | None = None) -> SpooledResponse:
    """`spool()`'s file streamed while it holds one of the export slots (so stalled clients
    cannot fill the disk with spooled answers); 503 when every slot is taken, 404 saying
    `missing` when `spool()` finds nothing to export."""
    place = slots.take()
    if place is None:
        raise ApiError(503, "too_many_exports",
                       f"{slots.limit} exports are being sent already; retry later",
                       {"Retry-After": str(EXPORT_RETRY_SECONDS)})
    try:
        spooled = await spool()
        if spooled is None:
            raise ApiError(404, "not_found", missing)
    except BaseException:
        slots.give_back(place)
        raise
    return SpooledResponse(spooled, media_type, on_close=lambda: slots.give_back(place), headers=headers)
