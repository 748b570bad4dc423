"""POST /track and POST /session: the HTTP side of ingest (body, errors, answer).

What a request becomes is the ingest layer's (`ingest/intake.py`); the answer
waits for the log's commit.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from starlette.datastructures import State
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from tracker import schemas
from tracker.api.body import decode_object, read_body, receive_body
from tracker.api.common import JSON_HEADERS, header_values, json_response, now_ms
from tracker.api.errors import ApiError, invalid, send_error
from tracker.enrich.client import TrustedProxies, client_address, plausible_client_address
from tracker.ingest import intake
from tracker.ingest.sessions import open_session_in
from tracker.storage.queries import session_from_row
from tracker.storage.store import Store

# Paths whose POST is ingest (browsers, no token): rate limited and CORS for the allowed
# origins, each with the rule that tells its client's address (Plausible's path reads the
# headers Plausible reads, from trusted proxies).
INGEST_PATHS: dict[str, Callable[[Scope, TrustedProxies], str]] = {
    "/track": client_address,
    "/session": client_address,
    "/api/event": plausible_client_address,
    "/api/send": client_address,
}
NO_SPACE_RETRY_SECONDS = 10

# What /track reads of a request's headers.
TRACK_HEADERS = (b"content-type", b"content-length", b"user-agent")


class Track:
    """POST /track as a plain ASGI app, without Starlette's Request and Response: single
    events are the requests browsers send most, and the app (tracker/app.py) routes them
    here ahead of Starlette's router. It answers its own errors as the app's handlers do."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = scope["app"].state
        try:
            answer = await self.answer(scope, receive, state)
        except Exception as error:
            await send_error(scope, receive, send, error)
            return
        await send({"type": "http.response.start", "status": 200, "headers": JSON_HEADERS
                    + [(b"content-length", b"%d" % len(answer))]})
        await send({"type": "http.response.body", "body": answer})

    async def answer(self, scope: Scope, receive: Receive, state: State) -> bytes:
        refuse_when_disk_low(state)
        content_type, content_length, user_agent = header_values(scope["headers"], TRACK_HEADERS)
        body = await receive_body(receive, content_type or "", content_length or "")
        movements = decode_object(schemas.track_decoder, body, schemas.TrackIn.movements)
        with intake_refusals(state):
            taken, stored = await take_and_append(
                state, movements, client_address(scope, state.trusted_proxies), user_agent)
        return schemas.encode(schemas.TrackOut(taken.received, taken.kept - stored, taken.ignored))


track = Track()


async def take_and_append(state: State, movements: list[tuple[schemas.MovementIn, str]],
                          address: str, user_agent: str | None) -> tuple[intake.Intake, int]:
    """Make a request's movements into rows (intake.take, whose Invalid it raises) and append
    them to the log; (the intake, how many rows were new) once the commit is durable. Every
    ingest path goes through here."""
    store: Store = state.store
    taken = intake.take(movements, now_ms(), state.visitors, store.registry.sites(),
                        address, user_agent)
    stored = 0
    if taken.rows:  # sessions, rollups and visits follow when the log is folded
        stored = await store.append(taken.rows, taken.context)
    state.metrics.track_answered(taken.kept, stored, taken.ignored)
    return taken, stored


async def open_session(request: Request) -> Response:
    refuse_when_disk_low(request.app.state)
    body = await read_body(request)
    session: schemas.SessionIn = decode_object(schemas.session_decoder, body)
    store: Store = request.app.state.store
    with intake_refusals(request.app.state):
        intake.check_ids(session.userId, session.sessionId, "$")
        site = intake.site_of(schemas.MovementIn("session", site=session.site), "$",
                              store.registry.sites())
        device_info = None
        if session.deviceInfo is not None:
            device_info = intake.encode_object(session.deviceInfo, "$.deviceInfo")
    row, created = await open_session_in(store, site, session.userId, session.sessionId,
                                         device_info, now_ms())
    request.app.state.metrics.session_opened(created)
    return json_response(schemas.SessionOpened(session_from_row(row), created))


@contextlib.contextmanager
def intake_refusals(state: State) -> Iterator[None]:
    """The intake's refusals as the spec's answers: an event of no site is a counted 422
    `unknown_site`, anything else invalid a 422 naming where."""
    try:
        yield
    except intake.UnknownSite as error:
        state.metrics.site_unknown()
        raise ApiError(422, "unknown_site", str(error)) from None
    except intake.Invalid as error:
        raise invalid(str(error)) from None


def refuse_when_disk_low(state: State) -> None:
    """503 before the body is read while the data's disk holds less than the reserve."""
    shortage = state.free_space.shortage()
    if shortage is not None:
        raise ApiError(503, "no_space", shortage, {"Retry-After": str(NO_SPACE_RETRY_SECONDS)})
