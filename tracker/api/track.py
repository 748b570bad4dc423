"""POST /track and POST /session: validate, hand to the shard writers, answer after commit."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from tracker import schemas
from tracker.api.body import decode_object, read_body
from tracker.api.common import json_response, now_ms
from tracker.api.errors import invalid
from tracker.enrich.client import client_address
from tracker.ingest import writes
from tracker.ingest.anonymous_sessions import UNASSIGNED
from tracker.ingest.visitors import Visitors
from tracker.schemas import MAX_OBJECT_BYTES, MovementIn
from tracker.storage.queries import session_from_row
from tracker.storage.rows import MovementRow

# Paths whose POST is ingest (browsers, no token): rate limited, CORS for the allowed origins.
INGEST_PATHS = frozenset({"/track", "/session"})

ANONYMOUS_PREFIX = "anon:"
MAX_FUTURE_MS = 10 * 60 * 1000
MAX_PAST_MS = 30 * 24 * 60 * 60 * 1000


async def track(request: Request) -> Response:
    request.app.state.store.refuse_when_backlogged()  # before any work on a request it would refuse
    body = await read_body(request)
    envelope = decode_object(schemas.envelope_decoder, body, top_level_is_object=False)
    if envelope.is_batch():
        events = decode_object(schemas.batch_decoder, body, top_level_is_object=True).events
        paths = [f"$.events[{i}]" for i in range(len(events))]
    else:
        events = [decode_object(schemas.movement_decoder, body, top_level_is_object=True)]
        paths = ["$"]
    now = now_ms()
    for event, path in zip(events, paths):
        check_ids(event.userId, event.sessionId, path)
    visitors: Visitors = request.app.state.visitors
    address = client_address(request.scope, request.app.state.trusted_proxies)
    user_agent = request.headers.get("user-agent")
    anonymous = [event for event in events if event.userId is None]
    visitor = visitors.anonymous_id(address, user_agent, now) if anonymous else None
    rows = [to_row(event, now, path, visitor) for event, path in zip(events, paths)]
    ignored = 0
    if anonymous and visitors.is_ignored(user_agent):
        rows = [row for row in rows if row.userId != visitor]
        ignored = len(anonymous)
    unique = drop_repeated_event_ids(rows)
    stored = 0
    if unique:  # sessions, rollups and visits follow when the log is folded
        stored = await request.app.state.store.append(unique, visitors.context(address, user_agent))
    request.app.state.metrics.track_answered(len(rows), stored, ignored)
    return json_response(schemas.TrackOut(len(events), len(rows) - stored, ignored))


async def open_session(request: Request) -> Response:
    body = await read_body(request)
    decode_object(schemas.envelope_decoder, body, top_level_is_object=False)
    session = decode_object(schemas.session_decoder, body, top_level_is_object=True)
    check_ids(session.userId, session.sessionId, "$")
    device_info = None
    if session.deviceInfo is not None:
        device_info = encode_object(session.deviceInfo, "$.deviceInfo")
    row, created = await writes.open_session_in(
        request.app.state.store, session.userId, session.sessionId, device_info, now_ms())
    request.app.state.metrics.session_opened(created)
    return json_response(schemas.SessionOpened(session_from_row(row), created))


def check_ids(user_id: str | None, session_id: str | None, path: str) -> None:
    """Both ids or neither (an anonymous event), and none of the service's own `anon:` ids."""
    if (user_id is None) != (session_id is None):
        given, missing = ("userId", "sessionId") if session_id is None else ("sessionId", "userId")
        raise invalid(f"`{given}` needs `{missing}`; leave both out for an anonymous event "
                      f"- at `{path}.{missing}`")
    for name, value in (("userId", user_id), ("sessionId", session_id)):
        if value is not None and value.startswith(ANONYMOUS_PREFIX):
            raise invalid(f"ids starting with `{ANONYMOUS_PREFIX}` are the service's own - "
                          f"at `{path}.{name}`")


def to_row(event: MovementIn, now: int, path: str, visitor: str | None) -> MovementRow:
    """The checks msgspec's constraints cannot express, then the row to store; an anonymous
    event gets the visitor's id and its session when it is folded."""
    timestamp = now if event.timestamp is None else event.timestamp
    if timestamp > now + MAX_FUTURE_MS:
        raise invalid(f"timestamp is more than 10 minutes in the future - at `{path}.timestamp`")
    if timestamp < now - MAX_PAST_MS:
        raise invalid(f"timestamp is more than 30 days in the past - at `{path}.timestamp`")
    data = "{}" if event.data is None else encode_object(event.data, f"{path}.data")
    if event.userId is None:
        return MovementRow(visitor, UNASSIGNED, timestamp, event.event, data, event.eventId)
    return MovementRow(event.userId, event.sessionId, timestamp, event.event, data, event.eventId)


def encode_object(value: dict[str, Any], path: str) -> str:
    encoded = schemas.encode(value)
    if len(encoded) > MAX_OBJECT_BYTES:
        raise invalid(f"Object is larger than {MAX_OBJECT_BYTES} bytes once encoded - at `{path}`")
    return encoded.decode()


def drop_repeated_event_ids(rows: list[MovementRow]) -> list[MovementRow]:
    """Keep the first of several events with the same (userId, eventId) in one request."""
    seen: set[tuple[str, str]] = set()
    unique = []
    for row in rows:
        if row.eventId is not None:
            key = (row.userId, row.eventId)
            if key in seen:
                continue
            seen.add(key)
        unique.append(row)
    return unique
