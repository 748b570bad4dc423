"""GET /users/{userId}/export and DELETE /users/{userId} (bearer token required)."""

from __future__ import annotations

from dataclasses import replace
from typing import AsyncIterator

import msgspec
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from tracker import queries, schemas, users
from tracker.api import params
from tracker.api.common import json_response
from tracker.api.reads import MAX_MS
from tracker.auth import require_read_token
from tracker.errors import ApiError
from tracker.store import Store

# Movements read and sent per step of an export: memory stays at one page
# whatever the user holds.
EXPORT_PAGE = 500

NDJSON = "application/x-ndjson"


async def export_user(request: Request) -> Response:
    """The user's sessions, then movements newest first; 404 when nothing is stored for the user."""
    require_read_token(request)
    user_id = params.path_text(request, "userId", 128)
    store: Store = request.app.state.store
    index = store.shard_of(user_id)
    query = queries.MovementFilter(user_id, 0, MAX_MS, None, EXPORT_PAGE)
    sessions = await store.read(index, users.user_sessions, user_id)
    movements, after = await store.read(index, queries.movements_page, query)
    if not sessions and not movements:
        raise ApiError(404, "not_found", "nothing is stored for this userId")
    lines = _export_lines(store, index, query, sessions, movements, after)
    return StreamingResponse(lines, media_type=NDJSON)


async def _export_lines(
    store: Store, index: int, query: queries.MovementFilter, sessions: list[schemas.Session],
    movements: list[schemas.Movement], after: tuple[int, int] | None,
) -> AsyncIterator[bytes]:
    if sessions:
        yield b"".join(_line(schemas.ExportedSession, session) for session in sessions)
    while True:
        yield b"".join(_line(schemas.ExportedMovement, movement) for movement in movements)
        if after is None:
            return
        query = replace(query, after=after)
        movements, after = await store.read(index, queries.movements_page, query)


def _line(shape: type, record: msgspec.Struct) -> bytes:
    return schemas.encode(shape(*msgspec.structs.astuple(record))) + b"\n"


async def erase_user(request: Request) -> Response:
    """Erase everything stored for the user; erasing a user with nothing stored answers zeros."""
    require_read_token(request)
    user_id = params.path_text(request, "userId", 128)
    movements, sessions = await request.app.state.store.erase_user(user_id)
    return json_response(schemas.UserErased(user_id, movements, sessions))
