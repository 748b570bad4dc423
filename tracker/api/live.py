"""GET /live and GET /live/visitors (bearer token required)."""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import Response

from tracker import schemas
from tracker.api import params
from tracker.api.access import read_site
from tracker.api.common import json_response, now_ms
from tracker.api.errors import invalid
from tracker.api.sse import LiveStream
from tracker.storage import queries
from tracker.storage.store import Store

VISITORS_WINDOW_MS = 5 * 60 * 1000

# A log position as this service writes it: decimal, no sign, no leading zero.
CURSOR = re.compile(r"[1-9][0-9]{0,17}")


async def live(request: Request) -> LiveStream:
    """Movements acknowledged from now on, or after the client's Last-Event-ID, as they come."""
    site = read_site(request)
    user_id = params.text(request, "userId", 128)
    event = params.text(request, "event", 64)
    store: Store = request.app.state.store
    after = resume_position(request.headers.get("last-event-id"), store.head())
    return LiveStream(store, request.app.state.live_hub, request.app.state.metrics, after,
                      site.number, user_id, event)


def resume_position(last_event_id: str | None, head: int) -> int:
    """Where a stream starts: after the client's last event, or after the log's head.

    Every id this service sent is a position at or before the head; anything
    else was not made here (a 422)."""
    if last_event_id is None:
        return head
    if not CURSOR.fullmatch(last_event_id) or int(last_event_id) > head:
        raise invalid("header `Last-Event-ID` is not an event id this service sent")
    return int(last_event_id)


async def live_visitors(request: Request) -> Response:
    """Distinct users and visits with a movement in the last five minutes, over every shard."""
    site = read_site(request)
    end = now_ms()
    start = end - VISITORS_WINDOW_MS
    counts = await request.app.state.store.read_each(site.number, queries.recent_visitors, start,
                                                     end)
    return json_response(schemas.LiveVisitors(sum(users for users, _ in counts),
                                              sum(visits for _, visits in counts), start, end))
