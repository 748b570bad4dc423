"""The ASGI application: routes, middleware, the short path of POST /track and the lifespan
that owns the store."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import AsyncIterator, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from tracker.api import (
    analytics,
    cluster,
    dashboard,
    errors,
    funnels,
    goals,
    live,
    openapi,
    ops,
    plausible,
    reads,
    reports,
    retention,
    shares,
    site_export,
    sites,
    track,
    umami,
    users,
    web,
)
from tracker.api.auth import resolve_read_token
from tracker.api.sse import LiveHub
from tracker.cluster import auth
from tracker.cluster.metrics import ClusterCollector
from tracker.cluster.store import ClusterStore
from tracker.config import Config
from tracker.enrich.client import TrustedProxies
from tracker.enrich.sources import rederive_functions
from tracker.ingest.apply import applier, placer
from tracker.ingest.visitors import Visitors
from tracker.lifecycle.erasures import Erasures
from tracker.lifecycle.export_slots import ExportSlots
from tracker.lifecycle.jobs import lifecycle_jobs
from tracker.lifecycle.scheduler import Scheduler
from tracker.middleware.cors import Cors, CorsPolicy
from tracker.middleware.observe import ObserveRequests
from tracker.middleware.ratelimit import RateLimit, TokenBuckets
from tracker.ops import logs, multiproc, parent_death
from tracker.ops.free_space import FreeSpace
from tracker.ops.metrics import Metrics, NoMetrics, ShardCollector
from tracker.storage import connections, folding_process
from tracker.storage.fold import Apply
from tracker.storage.group_commit import CommitStats
from tracker.storage.lock import hold_shared, release
from tracker.storage.store import Layout, Store, prepare
from tracker.throttle import throttle_loggers

log = logging.getLogger("tracker")

ROUTES = [
    Route("/track", track.track, methods=["POST"]),
    Route("/session", track.open_session, methods=["POST"]),
    Route("/api/event", plausible.event, methods=["POST"]),
    Route("/api/send", umami.send, methods=["POST"]),
    Route("/session", reads.get_session, methods=["GET"]),
    Route("/movements", reads.list_movements, methods=["GET"]),
    Route("/analytics", analytics.analytics, methods=["GET"]),
    Route("/stats", web.stats, methods=["GET"]),
    Route("/live", live.live, methods=["GET"]),
    Route("/live/visitors", live.live_visitors, methods=["GET"]),
    Route("/breakdown", web.breakdown, methods=["GET"]),
    Route("/retention", retention.retention, methods=["GET"]),
    Route("/funnels", funnels.funnels, methods=["GET"]),
    Route("/users/{userId}/export", users.export_user, methods=["GET"]),
    Route("/users/{userId}", users.erase_user, methods=["DELETE"]),
    Route("/users/{userId}/erasure", users.erasure_status, methods=["GET"]),
    Route("/healthz", ops.healthz, methods=["GET"]),
    Route("/readyz", ops.readyz, methods=["GET"]),
    Route("/tracker.js", ops.client_js, methods=["GET"]),
    Route("/", dashboard.index, methods=["GET"]),
    Route("/dashboard/{path:path}", dashboard.asset, methods=["GET"]),
    Route("/metrics", ops.serve_metrics, methods=["GET"]),
    Route("/openapi.json", ops.openapi_json, methods=["GET"]),
    Route("/sites", sites.list_sites, methods=["GET"]),
    Route("/sites", sites.create_site, methods=["POST"]),
    Route("/sites/{id}", sites.get_site, methods=["GET"]),
    Route("/sites/{id}", sites.update_site, methods=["PATCH"]),
    Route("/sites/{id}", sites.delete_site, methods=["DELETE"]),
    Route("/sites/{id}/keys", sites.add_key, methods=["POST"]),
    Route("/sites/{id}/keys", sites.list_keys, methods=["GET"]),
    Route("/sites/{id}/keys/{keyId}", sites.delete_key, methods=["DELETE"]),
    Route("/sites/{id}/shares", sites.add_share, methods=["POST"]),
    Route("/sites/{id}/shares", sites.list_shares, methods=["GET"]),
    Route("/sites/{id}/shares/{shareId}", sites.delete_share, methods=["DELETE"]),
    Route("/sites/{id}/export", site_export.export_site, methods=["GET"]),
    Route("/sites/{id}/goals", goals.list_goals, methods=["GET"]),
    Route("/sites/{id}/goals", goals.add_goal, methods=["POST"]),
    Route("/sites/{id}/goals/{goalId}", goals.delete_goal, methods=["DELETE"]),
    Route("/sites/{id}/reports", reports.list_reports, methods=["GET"]),
    Route("/sites/{id}/reports", reports.add_report, methods=["POST"]),
    Route("/sites/{id}/reports/{reportId}", reports.delete_report, methods=["DELETE"]),
    Route("/reports/unsubscribe/{token}", reports.unsubscribe_page, methods=["GET"]),
    Route("/reports/unsubscribe/{token}", reports.unsubscribe, methods=["POST"]),
    Route("/share/{token}", shares.page, methods=["GET"]),
    Route("/share/{token}/site", shares.site, methods=["GET"]),
    Route("/share/{token}/auth", shares.authenticate, methods=["POST"]),
    Route("/share/{token}/stats", shares.shared(web.stats), methods=["GET"]),
    Route("/share/{token}/breakdown", shares.shared(web.breakdown), methods=["GET"]),
    Route("/share/{token}/funnels", shares.shared(funnels.funnels), methods=["GET"]),
    Route("/share/{token}/retention", shares.shared(retention.retention), methods=["GET"]),
    Route("/share/{token}/live/visitors", shares.shared(live.live_visitors), methods=["GET"]),
    Route("/cluster/read", cluster.read, methods=["POST"]),
    Route("/cluster/outcome", cluster.outcome, methods=["POST"]),
    Route("/cluster/export", cluster.export, methods=["POST"]),
]


class Tracker(Starlette):
    """Starlette, except that POST /track takes a short path: the same middleware, around the
    endpoint itself (tracker/api/track.py), without Starlette's error middleware, router,
    Request and Response. Its Python per request bounds how many single events a worker takes."""

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self._track_stack: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/track" and scope["method"] == "POST":
            scope["app"] = self
            if self._track_stack is None:
                self._track_stack = self._around(track.track)
            await self._track_stack(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)

    def _around(self, endpoint: ASGIApp) -> ASGIApp:
        for cls, args, kwargs in reversed(self.user_middleware):
            endpoint = cls(endpoint, *args, **kwargs)
        return endpoint


def create_app(config: Config | None = None) -> Tracker:
    config = config or Config.from_env()
    _configure_logging()
    metrics = Metrics(config.shards, ROUTES) if config.metrics else NoMetrics()
    buckets = TokenBuckets(config.rate_limit, config.rate_burst) if config.rate_limit else None
    app = Tracker(
        routes=ROUTES,
        middleware=_middleware(config, metrics, buckets),
        exception_handlers=errors.HANDLERS,
        lifespan=_lifespan,
    )
    app.state.config = config
    app.state.metrics = metrics
    app.state.rate_buckets = buckets
    app.state.openapi = openapi.document()
    app.state.trusted_proxies = TrustedProxies(config.trusted_proxies)
    app.state.export_slots = ExportSlots(config.data_dir, config.max_exports)
    app.state.free_space = FreeSpace(config.data_dir, config.min_free_mb)
    return app


def _middleware(config: Config, metrics: Metrics | NoMetrics,
                buckets: TokenBuckets | None) -> list[Middleware]:
    """Observation outermost, then CORS, so that its headers reach every answer, 429 included."""
    middleware = [Middleware(
        Cors,
        # Umami's script sends back what its last answer gave it, in x-umami-cache.
        ingest=CorsPolicy.of(config.allowed_origins, ["POST"], ["Content-Type", "X-Umami-Cache"]),
        reads=CorsPolicy.of(config.read_origins, ["GET", "DELETE"], ["Authorization", "Content-Type"]),
    )]
    if config.metrics or config.access_log:
        middleware.insert(0, Middleware(ObserveRequests, metrics=metrics,
                                        log_requests=config.access_log,
                                        log_paths=config.log_user_ids))
    if buckets is not None:
        middleware.append(Middleware(RateLimit, buckets=buckets,
                                     trusted_proxies=TrustedProxies(config.trusted_proxies)))
    return middleware


@contextlib.asynccontextmanager
async def _lifespan(app: Starlette) -> AsyncIterator[None]:
    config: Config = app.state.config
    supervisor = parent_death.supervisor()
    if supervisor is not None:  # a worker of `tracker serve`: it goes when the supervisor does
        parent_death.stop_with_parent(supervisor)
    metrics_lock = multiproc.use()
    connections.limit_memory(connections.WORKER_MEMORY_MIB)
    layout = await run_in_threadpool(prepare, config, rederive_functions())
    service_lock = hold_shared(config.data_dir)
    app.state.read_token, token_source = resolve_read_token(config)
    app.state.share_secret = (auth.derived_key(config.cluster_secret, "share cookies") if config.clustered
                              else shares.share_secret(config.data_dir))  # the same on every node
    log.info("data dir %s: %d shards, schema version %d; read token from %s",
             layout.data_dir, layout.shard_count, layout.schema_version, token_source)
    log.info("metrics %s", _metrics_state(config))
    metrics = app.state.metrics
    apply = applier(config.session_ttl_seconds)
    store = app.state.store = await _open_store(layout, config, apply, metrics)
    metrics.watch([*store.shards.writers, store.log.writer],
                  ShardCollector(store.live_files, layout.shard_count, store.backlog),
                  *([ClusterCollector(store)] if isinstance(store, ClusterStore) else []))
    app.state.visitors = Visitors(config.data_dir, config.bot_filter, config.geoip_db,
                                  on_lookup=metrics.enrich_lookup)
    if isinstance(store, ClusterStore):  # one salt a day for the whole cluster
        app.state.visitors.salts = store.salts
    app.state.live_hub = LiveHub(store)
    erasures = app.state.erasures = Erasures(store, config.erase_chunk)
    jobs = app.state.jobs = Scheduler(
        lifecycle_jobs(store, config, metrics, erasures, app.state.visitors.salts), metrics)
    jobs.start()
    try:
        yield
    finally:
        await jobs.stop()
        await erasures.stop()
        await store.drain()
        await run_in_threadpool(store.close)
        app.state.visitors.close()
        release(service_lock)
        log.info("shards committed and closed")
        multiproc.leave(metrics_lock, parent_death.orphaned(supervisor))


async def _open_store(layout: Layout, config: Config, apply: Apply, metrics: Metrics | NoMetrics) -> Store:
    """The single node's store, or in cluster mode a node's (tracker/cluster/store.py)."""
    if not config.clustered:
        return Store(layout, config, apply, _commit_observer(metrics), on_fold=metrics.folded,
                     on_read_wait=metrics.read_waited,
                     fold_in_background=folding_process.ENV not in os.environ,
                     place=placer(config.session_ttl_seconds))
    store = ClusterStore(layout, config, apply, rederive_functions(), _commit_observer(metrics),
                         on_fold=metrics.folded, on_read_wait=metrics.read_waited,
                         on_fan_out=metrics.fanned_out)
    await store.start()
    log.info("cluster node %s at %s: NATS %s", config.node_id, config.node_url,
             ", ".join(config.nats_url))
    return store


def _metrics_state(config: Config) -> str:
    if not config.metrics:
        return "off (TRACKER_METRICS=false)"
    return "at /metrics" + (", bearer token required" if config.metrics_token else "")


def _commit_observer(metrics: Metrics | NoMetrics) -> Callable[[CommitStats], None]:
    def observe(commit: CommitStats) -> None:
        metrics.commit(commit)
        logs.warn_if_slow(commit)

    return observe


def _configure_logging() -> None:
    logger = logging.getLogger("tracker")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s:     %(name)s: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    # Their warnings and errors can repeat per request (a failing request, a broken client).
    throttle_loggers(("uvicorn.error", "asyncio"))
