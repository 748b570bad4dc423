"""What nodes of a cluster ask each other (tracker/cluster/): reads of the shards a node owns,
the outcomes of write jobs it folded, and users' exports from its files.

Both take a pickled request signed with the cluster secret (HMAC in the
`X-Tracker-Cluster` header) and answer pickled: 401 for a request not
signed, 409 when this node does not own a shard asked for (the asker
looks up the owner again), 503 when the shard did not catch up in time.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from tracker.api.errors import ApiError
from tracker.cluster import auth, codec
from tracker.cluster.folding import Behind
from tracker.cluster.node import NotOwner
from tracker.cluster.store import ClusterStore

PICKLED = "application/octet-stream"


async def _signed_body(request: Request) -> bytes:
    config = request.app.state.config
    body = await request.body()
    if not config.clustered or not auth.request_is_signed(
            config.cluster_secret, request.headers.get(auth.HEADER), request.method,
            request.url.path, body):
        raise ApiError(401, "unauthorized", "a request between nodes must be signed")
    return body


async def read(request: Request) -> Response:
    body = await _signed_body(request)
    store: ClusterStore = request.app.state.store
    site, shards, query, args, target = codec.loads(body)
    try:
        found = await store.read_owned(site, shards, query, args, target)
    except NotOwner as error:
        return Response(str(error), 409)
    except Behind as error:
        return Response(str(error), 503)
    return Response(codec.dumps(found), media_type=PICKLED)


async def outcome(request: Request) -> Response:
    body = await _signed_body(request)
    store: ClusterStore = request.app.state.store
    shard, ticket, seq = codec.loads(body)
    try:
        found = await store.outcome_owned(shard, ticket, seq)
    except NotOwner as error:
        return Response(str(error), 409)
    except Behind as error:
        return Response(str(error), 503)
    return Response(codec.dumps(found), media_type=PICKLED)


async def export(request: Request) -> Response:
    body = await _signed_body(request)
    store: ClusterStore = request.app.state.store
    site, shard, user_id, target = codec.loads(body)
    try:
        found = await store.export_owned(site, shard, user_id, target)
    except NotOwner as error:
        return Response(str(error), 409)
    except Behind as error:
        return Response(str(error), 503)
    return Response(codec.dumps(found), media_type=PICKLED)
