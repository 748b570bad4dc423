"""Small helpers every endpoint module uses."""

from __future__ import annotations

import time
from collections.abc import Iterable

import msgspec
from starlette.responses import Response

from tracker import schemas

JSON_HEADERS = [(b"content-type", b"application/json")]


def header_values(headers: Iterable[tuple[bytes, bytes]], names: tuple[bytes, ...]) -> list[str | None]:
    """The values of `names` (lower case) among an ASGI scope's headers, in one pass; None
    for one absent."""
    found: list[str | None] = [None] * len(names)
    for name, value in headers:
        if name in names:
            found[names.index(name)] = value.decode("latin-1")
    return found


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def json_response(payload: msgspec.Struct, status: int = 200) -> Response:
    return Response(schemas.encode(payload), status, media_type="application/json")
