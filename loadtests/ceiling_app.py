"""The ceiling: a bare Starlette app that decodes /track bodies with msgspec and stores nothing.

Run under the same uvicorn settings as the service, it measures what the
HTTP stack alone can do on this machine, so tracker's figures have a
reference measured in the same run.
"""

from __future__ import annotations

from typing import Any

import msgspec
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


class Movement(msgspec.Struct):
    userId: str
    sessionId: str
    event: str
    timestamp: int | None = None
    data: dict[str, Any] | None = None
    eventId: str | None = None


class Batch(msgspec.Struct):
    events: list[Movement]


class Envelope(msgspec.Struct):
    events: msgspec.Raw = msgspec.Raw()


envelope = msgspec.json.Decoder(Envelope)
single = msgspec.json.Decoder(Movement)
batch = msgspec.json.Decoder(Batch)


async def track(request: Request) -> Response:
    body = await request.body()
    count = len(batch.decode(body).events) if envelope.decode(body).events else (single.decode(body) and 1)
    return Response(b'{"accepted":%d,"duplicates":0}' % count, media_type="application/json")


async def healthz(request: Request) -> Response:
    return Response(b'{"status":"ok"}', media_type="application/json")


app = Starlette(routes=[Route("/track", track, methods=["POST"]), Route("/healthz", healthz)])
