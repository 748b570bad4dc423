"""POST /api/event: Plausible's Events API, so that Plausible's scripts need only a new address.

What an event becomes is the ingest layer's (`ingest/plausible.py`); from
there it takes /track's way (`track.take_and_append`): the same visitor ids,
bot filter, limits and log. It answers as Plausible does: `202 ok`, or `400
{"errors": {field: [message]}}`; what Plausible would not answer itself (a
body too large, a content type, the rate limit, an overload) is answered as
on /track.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from tracker import schemas
from tracker.api.body import read_body
from tracker.api.track import refuse_when_disk_low, take_and_append
from tracker.enrich.client import plausible_client_address
from tracker.ingest import intake, plausible
from tracker.storage.store import Store


async def event(request: Request) -> Response:
    state = request.app.state
    refuse_when_disk_low(state)
    body = await read_body(request)
    try:
        taken = plausible.read(plausible.decode(body))
        store: Store = state.store
        movements = plausible.movements(taken, store.registry.sites()) if taken.counts else []
        if movements:
            address = plausible_client_address(request.scope, state.trusted_proxies)
            await take_and_append(state, movements, address, request.headers.get("user-agent"))
    except plausible.Rejected as error:
        return rejected(error.errors)
    except intake.Invalid as error:  # a rule the intake checks: the size of `data`, say
        return rejected({plausible.field_of(str(error)): [str(error)]})
    return PlainTextResponse("ok", 202)


def rejected(errors: dict[str, list[str]]) -> Response:
    return Response(schemas.encode(schemas.PlausibleErrors(errors)), 400,
                    media_type="application/json")
