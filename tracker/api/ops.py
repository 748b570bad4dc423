"""Operations endpoints: liveness, readiness, metrics, the JavaScript client and the OpenAPI description."""

from __future__ import annotations

from pathlib import Path

from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response

from tracker.api.access import bearer, matches
from tracker.api.errors import ApiError, unauthorized
from tracker.cluster import leases
from tracker.cluster.store import ClusterStore
from tracker.storage import connections
from tracker.storage.store import Store

CLIENT_JS = Path(__file__).resolve().parent.parent / "static" / "tracker.js"


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    shortage = request.app.state.free_space.shortage(max_age=0)
    if shortage is not None:
        return JSONResponse({"status": "unavailable", "error": "no_space", "detail": shortage}, 503)
    store: Store = request.app.state.store
    if isinstance(store, ClusterStore) and not store.jet.client.is_connected:
        return JSONResponse({"status": "unavailable", "error": "nats_unavailable",
                             "detail": "this node has no connection to a NATS server"}, 503)
    layout = store.layout
    files = store.live_files()
    paths = [file.path for file in files] + [layout.log_path, layout.registry_path]
    problems = await run_in_threadpool(_shard_problems, layout.data_dir, paths)
    if problems:
        return JSONResponse({"status": "unavailable", "error": "shards_unavailable",
                             "detail": problems}, 503)
    ready = {"status": "ready", "shards": layout.shard_count, "sites": len({file.site for file in files})}
    if isinstance(store, ClusterStore):
        ready |= _cluster_part(store)
    return JSONResponse(ready)


def _cluster_part(store: ClusterStore) -> dict:
    """A node's part of the cluster: the shards it owns, and those with no live owner (which
    reads needing them answer 503 until taken over; ingest goes on, so the node is ready)."""
    node = store.node
    return {"node": node.me.id, "owned": sorted(node.owned),
            "unowned": leases.unowned(store.shard_count, node.leases.owners, {live.id for live in node.live})}


def _shard_problems(data_dir: Path, paths: list[Path]) -> dict[str, str]:
    """Each file that cannot be written, named by its path in the data directory."""
    problems = {}
    for path in paths:
        problem = connections.write_problem(path)
        if problem is not None:
            problems[str(path.relative_to(data_dir))] = problem
    return problems


async def client_js(request: Request) -> Response:
    return FileResponse(CLIENT_JS, media_type="text/javascript; charset=utf-8",
                        headers={"Cache-Control": "public, max-age=3600"})


async def openapi_json(request: Request) -> Response:
    return Response(request.app.state.openapi, media_type="application/json")


async def serve_metrics(request: Request) -> Response:
    config = request.app.state.config
    if config.metrics_token and not matches(bearer(request), config.metrics_token):
        raise unauthorized()
    if not config.metrics:
        raise ApiError(404, "not_found", "metrics collection is off (TRACKER_METRICS=false)")
    body = await request.app.state.store.pool.run(request.app.state.metrics.exposition)
    return Response(body, media_type=CONTENT_TYPE_PLAIN_0_0_4)
