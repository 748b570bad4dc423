"""Errors carry their status and machine-readable code; they become JSON here, in one place."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from tracker.cluster.fanout import ShardUnavailable
from tracker.cluster.folding import Behind
from tracker.cluster.node import NotOwner
from tracker.cluster.publish import StreamUnavailable
from tracker.cluster.registry_sync import RegistryBusy
from tracker.ingest.sessions import SessionTaken
from tracker.ops.logs import warn_queue_full, warn_shard_unreadable
from tracker.ops.metrics import CLIENT_CLOSED
from tracker.ops.privacy import loggable_path
from tracker.schemas import Error, encode
from tracker.storage.archives import ArchiveUnavailable
from tracker.storage.connections import ShardUnreadable
from tracker.storage.group_commit import QueueFull, WriteFailed, WriterStopped
from tracker.throttle import Throttled

log = logging.getLogger("tracker.errors")
unreadable_archives = Throttled(log)
unexpected_errors = Throttled(log)


class ApiError(Exception):
    """An error answer: status, machine-readable code and detail, turned into JSON in one place."""

    def __init__(self, status: int, code: str, detail: Any = None, headers: dict | None = None):
        super().__init__(f"{status} {code}: {detail}")
        self.status = status
        self.code = code
        self.detail = detail
        self.headers = headers


def unauthorized() -> ApiError:
    return ApiError(401, "unauthorized", "a valid bearer token is required",
                    {"WWW-Authenticate": "Bearer"})


def invalid(detail: str) -> ApiError:
    return ApiError(422, "invalid_field", detail)


def error_response(status: int, code: str, detail: Any = None,
                   headers: Mapping[str, str] | None = None) -> Response:
    return Response(encode(Error(code, detail)), status, headers, media_type="application/json")


HTTP_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "body_too_large",
    415: "unsupported_media_type",
}


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.code, exc.detail, exc.headers)


async def _http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = HTTP_CODES.get(exc.status_code, "error")
    return error_response(exc.status_code, code, exc.detail, exc.headers)


async def _queue_full(request: Request, exc: Exception) -> Response:
    request.app.state.metrics.queue_refused()
    warn_queue_full()
    return error_response(503, "overloaded", "too many events waiting to be stored; retry later",
                          {"Retry-After": "1"})


async def _stopping(request: Request, exc: Exception) -> Response:
    return error_response(503, "shutting_down", "the service is stopping; retry later",
                          {"Retry-After": "1"})


async def _shard_failure(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, WriteFailed)
    if exc.shard is None:
        return error_response(503, "log_unavailable", "the ingest log cannot be written",
                              {"Retry-After": "5"})
    return error_response(503, "shard_unavailable", f"shard {exc.shard} cannot be written",
                          {"Retry-After": "5"})


async def _shard_unreadable(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ShardUnreadable)
    warn_shard_unreadable(exc)
    return error_response(503, "shard_unavailable", f"shard {exc.shard} cannot be read",
                          {"Retry-After": "5"})


async def _shard_away(request: Request, exc: Exception) -> Response:
    """A cluster's shard without a live owner, or whose owner did not answer or catch up."""
    shard = getattr(exc, "shard", None)
    detail = str(exc) if shard is None else {"shard": shard, "reason": str(exc)}
    return error_response(503, "shard_unavailable", detail, {"Retry-After": "2"})


async def _stream_unavailable(request: Request, exc: Exception) -> Response:
    return error_response(503, "stream_unavailable", f"the cluster's stream did not answer: {exc}",
                          {"Retry-After": "1"})


async def _registry_busy(request: Request, exc: Exception) -> Response:
    return error_response(503, "registry_busy", str(exc), {"Retry-After": "1"})


async def _archive_unavailable(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ArchiveUnavailable)
    unreadable_archives.error("archive file unreadable: %s", exc)
    return error_response(503, "archive_unavailable",
                          f"archive file {exc.path.name} cannot be read; run `tracker check`",
                          {"Retry-After": "60"})


async def _session_taken(request: Request, exc: Exception) -> Response:
    return error_response(409, "session_conflict", "this sessionId belongs to another user")


async def _client_closed(request: Request, exc: Exception) -> Response:
    return error_response(CLIENT_CLOSED, "client_closed",
                          "the client closed the connection before sending the whole request")


async def _unexpected(request: Request, exc: Exception) -> Response:
    path = loggable_path(request.url.path, request.app.state.config.log_user_ids)
    unexpected_errors.error("unexpected error on %s %s", request.method, path, exc_info=True)
    return error_response(500, "internal_error", "unexpected error; it has been logged")


HANDLERS = {
    ApiError: _api_error,
    HTTPException: _http_exception,
    QueueFull: _queue_full,
    WriterStopped: _stopping,
    WriteFailed: _shard_failure,
    ShardUnreadable: _shard_unreadable,
    SessionTaken: _session_taken,
    ArchiveUnavailable: _archive_unavailable,
    ShardUnavailable: _shard_away,
    NotOwner: _shard_away,
    Behind: _shard_away,
    StreamUnavailable: _stream_unavailable,
    RegistryBusy: _registry_busy,
    ClientDisconnect: _client_closed,
    Exception: _unexpected,
}


async def send_error(scope: Scope, receive: Receive, send: Send, error: Exception) -> None:
    """Answer `error` as HANDLERS say, for an endpoint outside Starlette's router. An unexpected
    one is raised again once answered, as Starlette does, so that the server logs it too."""
    handler = next(HANDLERS[kind] for kind in type(error).__mro__ if kind in HANDLERS)
    response = await handler(Request(scope, receive), error)
    await response(scope, receive, send)
    if handler is _unexpected:
        raise error
