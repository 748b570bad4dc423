"""The ASGI application: routes, middleware and the lifespan that owns the store."""

from __future__ import annotations

import contextlib
import logging
from typing import AsyncIterator, Callable

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Route

from tracker import errors, logs
from tracker.alarm import AlarmLoop
from tracker.api import ingest, ops, reads
from tracker.auth import resolve_read_token
from tracker.config import Config
from tracker.metrics import Metrics, NoMetrics, ShardCollector, serve_metrics
from tracker.middleware import ObserveRequests
from tracker.lock import hold_shared, release
from tracker.store import Store, prepare
from tracker.writer import CommitStats

log = logging.getLogger("tracker")

ROUTES = [
    Route("/track", ingest.track, methods=["POST"]),
    Route("/session", ingest.open_session, methods=["POST"]),
    Route("/session", reads.get_session, methods=["GET"]),
    Route("/movements", reads.list_movements, methods=["GET"]),
    Route("/healthz", ops.healthz, methods=["GET"]),
    Route("/readyz", ops.readyz, methods=["GET"]),
    Route("/tracker.js", ops.client_js, methods=["GET"]),
    Route("/metrics", serve_metrics, methods=["GET"]),
]


def create_app(config: Config | None = None) -> Starlette:
    config = config or Config.from_env()
    _configure_logging()
    metrics = Metrics(config.shards) if config.metrics else NoMetrics()
    middleware = [
        Middleware(
            CORSMiddleware,
            allow_origins=list(config.allowed_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type", "Authorization"],
            expose_headers=["Retry-After"],
            max_age=86400,
        )
    ]
    if config.metrics or config.access_log:
        middleware.insert(0, Middleware(ObserveRequests, metrics=metrics,
                                        log_requests=config.access_log))
    app = Starlette(
        routes=ROUTES,
        middleware=middleware,
        exception_handlers=errors.HANDLERS,
        lifespan=_lifespan,
    )
    app.state.config = config
    app.state.metrics = metrics
    return app


@contextlib.asynccontextmanager
async def _lifespan(app: Starlette) -> AsyncIterator[None]:
    config: Config = app.state.config
    layout = await run_in_threadpool(prepare, config)
    service_lock = hold_shared(config.data_dir)
    app.state.read_token, token_source = resolve_read_token(config)
    log.info("data dir %s: %d shards, schema version %d; read token from %s",
             layout.data_dir, layout.shard_count, layout.schema_version, token_source)
    log.info("metrics %s", _metrics_state(config))
    metrics = app.state.metrics
    store = app.state.store = Store(layout, config, _commit_observer(metrics))
    metrics.watch(store.writers, ShardCollector(layout.paths, store.readers.connection))
    alarm = app.state.alarm = AlarmLoop(store, config.session_ttl_seconds,
                                        config.alarm_interval_seconds, metrics)
    alarm.start()
    try:
        yield
    finally:
        await alarm.stop()
        await run_in_threadpool(store.close)
        release(service_lock)
        log.info("shards committed and closed")


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
