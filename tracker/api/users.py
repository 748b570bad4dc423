"""GET /users/{userId}/export and DELETE /users/{userId} (bearer token required)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import AsyncIterator

import apsw
import msgspec
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from tracker import schemas
from tracker.storage import archives
from tracker.lifecycle import user_data
from tracker.storage import queries
from tracker.api import params
from tracker.api.common import json_response
from tracker.api.reads import MAX_MS
from tracker.api.auth import require_read_token
from tracker.api.errors import ApiError
from tracker.storage.store import Store

# Movements read and sent per step of an export: memory stays at one page
# whatever the user holds.
EXPORT_PAGE = 500

NDJSON = "application/x-ndjson"


async def export_user(request: Request) -> Response:
    """The user's sessions, stored movements newest first, then archived movements newest
    first within each archive file, newest file first; 404 when nothing is kept for the user.

    Everything is read from one snapshot of the shard, so a pass of the
    archiver during the export neither repeats nor drops a movement.
    """
    require_read_token(request)
    user_id = params.path_text(request, "userId", 128)
    store: Store = request.app.state.store
    index = store.shard_of(user_id)
    await store.caught_up([index])
    snapshot = await run_in_threadpool(store.snapshot, index)
    try:
        sessions = await run_in_threadpool(user_data.user_sessions, snapshot, user_id)
        archived = await run_in_threadpool(archives.user_archives, snapshot, user_id)
        query = queries.MovementFilter(user_id, 0, MAX_MS, None, EXPORT_PAGE)
        first_page = await run_in_threadpool(queries.movements_page, snapshot, query)
    except BaseException:
        snapshot.close()
        raise
    if not sessions and not first_page[0] and not archived:
        snapshot.close()
        raise ApiError(404, "not_found", "nothing is stored for this userId")
    export = Export(store, index, snapshot, query)
    return StreamingResponse(export.lines(sessions, first_page, archived), media_type=NDJSON)


@dataclass
class Export:
    """A user's export in progress: its snapshot connection and where the next page starts."""

    store: Store
    index: int
    snapshot: apsw.Connection
    query: queries.MovementFilter

    async def lines(
        self, sessions: list[schemas.Session],
        first_page: tuple[list[schemas.Movement], tuple[int, int] | None], archives: list[int],
    ) -> AsyncIterator[bytes]:
        try:
            if sessions:
                yield b"".join(_line(schemas.ExportedSession, session) for session in sessions)
            movements, after = first_page
            while True:
                yield b"".join(_line(schemas.ExportedMovement, movement) for movement in movements)
                if after is None:
                    break
                self.query = replace(self.query, after=after)
                movements, after = await run_in_threadpool(queries.movements_page, self.snapshot,
                                                           self.query)
            for archive_id in archives:
                yield b"".join(line + b"\n" for line in await self._archived(archive_id))
        finally:
            self.snapshot.close()

    async def _archived(self, archive_id: int) -> list[bytes]:
        user_id = self.query.user_id
        try:
            return await run_in_threadpool(archives.user_lines, self.snapshot, archive_id, user_id)
        except archives.ArchiveUnavailable:  # an erasure replaced the file since the snapshot began
            return await self.store.read(self.index, archives.read_consistently, archives.user_lines,
                                         archive_id, user_id)


def _line(shape: type, record: msgspec.Struct) -> bytes:
    return schemas.encode(shape(*msgspec.structs.astuple(record))) + b"\n"


async def erase_user(request: Request) -> Response:
    """Erase everything stored for the user: 200 with the counts when done within the wait,
    else 202 with the counts so far while it goes on in the background. Erasing a user with
    nothing stored answers zeros."""
    require_read_token(request)
    user_id = params.path_text(request, "userId", 128)
    state = request.app.state
    erasure = await state.erasures.erase(user_id, state.config.erasure_wait_seconds)
    if erasure.status == "done":
        return json_response(schemas.UserErased(user_id, erasure.movements, erasure.sessions))
    running = schemas.ErasureRunning("running", user_id, erasure.movements, erasure.sessions,
                                     erasure.requestedAt)
    return json_response(running, 202)


async def erasure_status(request: Request) -> Response:
    """The user's latest erasure: running with its counts so far, or done; 404 when none was
    ever requested."""
    require_read_token(request)
    user_id = params.path_text(request, "userId", 128)
    erasure = await request.app.state.erasures.progress(user_id)
    if erasure is None:
        raise ApiError(404, "not_found", "no erasure was requested for this userId")
    return json_response(erasure)
