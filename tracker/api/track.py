"""POST /track and POST /session: validate, hand to the shard writers, answer after commit."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from tracker import schemas
from tracker.api.common import json_response, now_ms
from tracker.api.body import decode_object, read_body
from tracker.api.errors import invalid
from tracker.storage.queries import session_from_row
from tracker.schemas import MAX_OBJECT_BYTES, MovementIn
from tracker.ingest import writes
from tracker.storage.rows import MovementRow

# Paths whose POST is ingest (browsers, no token): rate limited, CORS for the allowed origins.
INGEST_PATHS = frozenset({"/track", "/session"})

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
    rows = [to_row(event, now, path) for event, path in zip(events, paths)]
    unique = drop_repeated_event_ids(rows)
    stored = await request.app.state.store.append(unique)  # sessions and rollups follow when folded
    request.app.state.metrics.track_answered(len(rows), stored)
    return json_response(schemas.TrackOut(len(rows), len(rows) - stored))


async def open_session(request: Request) -> Response:
    body = await read_body(request)
    decode_object(schemas.envelope_decoder, body, top_level_is_object=False)
    session = decode_object(schemas.session_decoder, body, top_level_is_object=True)
    device_info = None
    if session.deviceInfo is not None:
        device_info = encode_object(session.deviceInfo, "$.deviceInfo")
    row, created = await writes.open_session_in(
        request.app.state.store, session.userId, session.sessionId, device_info, now_ms())
    request.app.state.metrics.session_opened(created)
    return json_response(schemas.SessionOpened(session_from_row(row), created))


def to_row(event: MovementIn, now: int, path: str) -> MovementRow:
    """The checks msgspec's constraints cannot express, then the row to store."""
    timestamp = now if event.timestamp is None else event.timestamp
    if timestamp > now + MAX_FUTURE_MS:
        raise invalid(f"timestamp is more than 10 minutes in the future - at `{path}.timestamp`")
    if timestamp < now - MAX_PAST_MS:
        raise invalid(f"timestamp is more than 30 days in the past - at `{path}.timestamp`")
    data = "{}" if event.data is None else encode_object(event.data, f"{path}.data")
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
