"""POST /track and POST /session: the HTTP side of ingest (body, errors, answer).

What a request becomes is the ingest layer's (`ingest/intake.py`); the answer
waits for the log's commit.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from tracker import schemas
from tracker.api.body import decode_object, read_body
from tracker.api.common import json_response, now_ms
from tracker.api.errors import ApiError, invalid
from tracker.enrich.client import client_address
from tracker.ingest import intake
from tracker.ingest.sessions import open_session_in
from tracker.storage.queries import session_from_row

# Paths whose POST is ingest (browsers, no token): rate limited, CORS for the allowed origins.
INGEST_PATHS = frozenset({"/track", "/session"})
NO_SPACE_RETRY_SECONDS = 10


async def track(request: Request) -> Response:
    refuse_when_disk_low(request)
    body = await read_body(request)
    movements = decode_object(schemas.track_decoder, body, schemas.TrackIn.movements)
    address = client_address(request.scope, request.app.state.trusted_proxies)
    try:
        taken = intake.take(movements, now_ms(), request.app.state.visitors, address,
                            request.headers.get("user-agent"))
    except intake.Invalid as error:
        raise invalid(str(error)) from None
    stored = 0
    if taken.rows:  # sessions, rollups and visits follow when the log is folded
        stored = await request.app.state.store.append(taken.rows, taken.context)
    request.app.state.metrics.track_answered(taken.kept, stored, taken.ignored)
    return json_response(schemas.TrackOut(taken.received, taken.kept - stored, taken.ignored))


async def open_session(request: Request) -> Response:
    refuse_when_disk_low(request)
    body = await read_body(request)
    session: schemas.SessionIn = decode_object(schemas.session_decoder, body)
    try:
        intake.check_ids(session.userId, session.sessionId, "$")
        device_info = None
        if session.deviceInfo is not None:
            device_info = intake.encode_object(session.deviceInfo, "$.deviceInfo")
    except intake.Invalid as error:
        raise invalid(str(error)) from None
    row, created = await open_session_in(
        request.app.state.store, session.userId, session.sessionId, device_info, now_ms())
    request.app.state.metrics.session_opened(created)
    return json_response(schemas.SessionOpened(session_from_row(row), created))


def refuse_when_disk_low(request: Request) -> None:
    """503 before the body is read while the data's disk holds less than the reserve."""
    shortage = request.app.state.free_space.shortage()
    if shortage is not None:
        raise ApiError(503, "no_space", shortage, {"Retry-After": str(NO_SPACE_RETRY_SECONDS)})
