"""POST /api/send: Umami's tracker payload, so that Umami's script needs only a new address.

What a payload becomes is the ingest layer's (`ingest/umami.py`); from there
it takes /track's way (`track.take_and_append`): the same visitor ids, bot
filter, limits, log and errors. It answers what Umami's script reads,
`{"cache": ...}`.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from tracker import schemas
from tracker.api.body import decode_object, read_body
from tracker.api.common import json_response
from tracker.api.track import intake_refusals, refuse_when_disk_low, take_and_append
from tracker.enrich.client import client_address
from tracker.ingest import umami
from tracker.storage.store import Store


async def send(request: Request) -> Response:
    state = request.app.state
    refuse_when_disk_low(state)
    body: schemas.UmamiIn = decode_object(schemas.umami_decoder, await read_body(request))
    if body.type in umami.STORED_TYPES:
        store: Store = state.store
        with intake_refusals(state):
            movement = umami.movement(body.payload, store.registry.sites())
            await take_and_append(state, [movement], client_address(request.scope, state.trusted_proxies),
                                  request.headers.get("user-agent"))
    return json_response(schemas.UmamiOut(""))
