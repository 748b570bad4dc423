"""An answer streamed from an open file, which it closes however the answer ends."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any, BinaryIO

from starlette.concurrency import run_in_threadpool
from starlette.responses import StreamingResponse

# Bytes read from the file and handed to the server per step.
CHUNK_BYTES = 64 * 1024


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
