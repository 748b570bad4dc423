"""A plain ASGI middleware that times every HTTP request: metrics and the optional access log.

It labels a request by its route template (`/users/{userId}/export`, never
the raw path, which may hold a user id), so label values stay few. Requests
no route matched (unknown paths, CORS preflights) are labelled `unmatched`,
except ingest requests the rate limiter answered before routing: an ingest
path is its own template.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import msgspec

from tracker.ops.metrics import INGEST_ROUTES, Metrics, NoMetrics

access_log = logging.getLogger("tracker.access")


class ObserveRequests:
    """Counts and times every request by route template, and writes the access log when asked."""

    def __init__(self, app: Any, metrics: Metrics | NoMetrics, log_requests: bool,
                 log_paths: bool = False):
        self.app = app
        self.metrics = metrics
        self.log_requests = log_requests
        self.log_paths = log_paths  # TRACKER_LOG_USER_IDS: the raw path and query, ids included

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets if the app raises before answering

        async def send_noting_status(message: dict) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            self._report(scope, status, time.perf_counter() - started)

    def _report(self, scope: dict, status: int, seconds: float) -> None:
        template = _route_template(scope)
        self.metrics.http_request(scope["method"], template, status, seconds)
        if self.log_requests:
            line = {"method": scope["method"], "route": template, "status": status,
                    "ms": round(seconds * 1000, 3)}
            if self.log_paths:
                line["path"] = _path_and_query(scope)
            access_log.info("%s", msgspec.json.encode(line).decode())


def _route_template(scope: dict) -> str:
    route = scope.get("route")
    if route is not None:
        return route.path
    if (scope["method"], scope["path"]) in INGEST_ROUTES:
        return scope["path"]
    return "unmatched"


def _path_and_query(scope: dict) -> str:
    query = scope.get("query_string", b"").decode("latin-1")
    return f"{scope['path']}?{query}" if query else scope["path"]
