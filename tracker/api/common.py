"""Small helpers every endpoint module uses."""

from __future__ import annotations

import time

import msgspec
from starlette.responses import Response

from tracker import schemas

JSON_HEADERS = [(b"content-type", b"application/json")]


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def json_response(payload: msgspec.Struct, status: int = 200) -> Response:
    return Response(schemas.encode(payload), status, media_type="application/json")
