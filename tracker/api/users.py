"""GET /users/{userId}/export and DELETE /users/{userId} (bearer token required)."""

from __future__ import annotations

from typing import BinaryIO

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from tracker import schemas
from tracker.api import params
from tracker.api.access import forbidden, read_site, reader_of
from tracker.api.common import json_response
from tracker.api.errors import ApiError
from tracker.api.spooled import spooled_export
from tracker.cluster.store import ClusterStore
from tracker.lifecycle import export
from tracker.storage.store import Store

NDJSON = "application/x-ndjson"
# An export takes seconds to spool and as long as its client takes to read.


async def export_user(request: Request) -> Response:
    """The user's sessions, stored movements newest first, then archived movements newest
    first within each archive file, newest file first; 404 when nothing is kept for the user.

    Everything is read from one snapshot of the shard, so a pass of the
    archiver during the export neither repeats nor drops a movement. It is
    read into a file before the answer starts, so the snapshot is held only
    while reading, never while the client takes its time (tracker/lifecycle/export.py).
    At most TRACKER_MAX_EXPORTS are in flight, so stalled clients cannot fill
    the disk with spooled answers.
    """
    site = read_site(request)
    user_id = params.path_text(request, "userId", 128)
    return await spooled_export(request.app.state.export_slots,
                                lambda: _spool(request.app.state.store, site.number, user_id), NDJSON,
                                "nothing is stored for this userId")


async def _spool(store: Store, site: int, user_id: str) -> BinaryIO | None:
    file = store.file_of(site, user_id)
    try:
        if isinstance(store, ClusterStore) and not store.owns(file.index):
            return await store.export_elsewhere(file, user_id)  # spooled by the shard's owner
        await store.caught_up([file])
        return await run_in_threadpool(export.spool_export, store, file, user_id)
    except export.SpoolUnwritable:
        raise ApiError(503, "export_unavailable", "the export could not be written to disk",
                       {"Retry-After": "60"}) from None


async def erase_user(request: Request) -> Response:
    """Erase everything stored for the user: 200 with the counts when done within the wait,
    else 202 with the counts so far while it goes on in the background. Erasing a user with
    nothing stored answers zeros. A site key only reads: erasing is the admin's (403)."""
    if reader_of(request).site is not None:
        raise forbidden("a site key reads its site; only the admin token erases users")
    site = read_site(request)
    user_id = params.path_text(request, "userId", 128)
    state = request.app.state
    erasure = await state.erasures.erase(site.number, user_id, state.config.erasure_wait_seconds)
    if erasure.status == "done":
        return json_response(schemas.UserErased(user_id, erasure.movements, erasure.sessions))
    running = schemas.ErasureRunning("running", user_id, erasure.movements, erasure.sessions,
                                     erasure.requestedAt)
    return json_response(running, 202)


async def erasure_status(request: Request) -> Response:
    """The user's latest erasure: running with its counts so far, or done; 404 when none was
    ever requested."""
    site = read_site(request)
    user_id = params.path_text(request, "userId", 128)
    erasure = await request.app.state.erasures.progress(site.number, user_id)
    if erasure is None:
        raise ApiError(404, "not_found", "no erasure was requested for this userId")
    return json_response(erasure)
