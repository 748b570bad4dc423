"""GET /session and GET /movements (bearer token required)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from tracker import schemas
from tracker.api import params
from tracker.api.access import read_site
from tracker.api.common import json_response, now_ms
from tracker.api.errors import ApiError, invalid
from tracker.storage import queries


async def get_session(request: Request) -> Response:
    site = read_site(request)
    session_id = params.required_text(request, "sessionId", 128)
    user_id = params.text(request, "userId", 128)
    store = request.app.state.store
    live_since = now_ms() - request.app.state.config.session_ttl_seconds * 1000
    if user_id is not None:
        found = [await store.read(store.file_of(site.number, user_id), queries.find_session,
                                  session_id, live_since, user_id)]
    else:
        found = await store.read_each(site.number, queries.find_session, session_id, live_since, None)
    sessions = [s for s in found if s is not None]
    if not sessions:
        raise ApiError(404, "not_found", "no live session has this sessionId")
    # The same id used by users of different shards: the first to use it owns it.
    return json_response(schemas.SessionOut(min(sessions, key=lambda s: s.startTime)))


async def list_movements(request: Request) -> Response:
    site = read_site(request)
    user_id = params.required_text(request, "userId", 128)
    cursor = request.query_params.get("cursor")
    try:
        after = queries.decode_cursor(cursor) if cursor else queries.NEWEST
    except queries.BadCursor:
        raise invalid("query parameter `cursor` is not a cursor this service returned") from None
    query = queries.MovementFilter(
        user_id=user_id,
        start=params.instant(request, "from", 0),
        end=params.instant(request, "to", params.MAX_MS),
        event=params.text(request, "event", 64),
        limit=params.integer(request, "limit", 100, 1, 1000),
        after=after,
    )
    store = request.app.state.store
    movements, next_cursor = await store.read(store.file_of(site.number, user_id),
                                              queries.list_movements, query)
    return json_response(schemas.MovementsPage(movements, next_cursor))
