"""CORS: the ingest endpoints answer the allowed origins; reads only the origins the operator names.

A plain ASGI middleware with two policies chosen by path and method: POST to
an ingest path uses the ingest policy, everything else the read policy. An
allowed origin gets `Access-Control-Allow-Origin` on every answer, errors
included, so the browser lets the client see a 422 or a 429; a denied
preflight is a JSON 403.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tracker.api.common import header_values
from tracker.api.errors import error_response
from tracker.api.track import INGEST_PATHS

# Request headers a browser sends without asking (the CORS-safelisted ones).
SAFELISTED_HEADERS = frozenset({"accept", "accept-language", "content-language", "content-type"})
PREFLIGHT_MAX_AGE = "86400"
# What CORS reads of a request's headers.
CORS_HEADERS = (b"origin", b"access-control-request-method", b"access-control-request-headers")


@dataclass(frozen=True)
class CorsPolicy:
    """The origins, methods and headers one group of paths allows."""

    origins: frozenset[str]
    methods: tuple[str, ...]
    headers: tuple[str, ...]

    @classmethod
    def of(cls, origins: Iterable[str], methods: Iterable[str], headers: Iterable[str]) -> CorsPolicy:
        return cls(frozenset(origins), tuple(methods), tuple(h.lower() for h in headers))

    @property
    def any_origin(self) -> bool:
        return "*" in self.origins

    def allows(self, origin: str) -> bool:
        return self.any_origin or origin in self.origins

    def answer_headers(self, origin: str) -> list[tuple[bytes, bytes]]:
        if self.any_origin:
            allowed = [(b"access-control-allow-origin", b"*")]
        else:
            allowed = [(b"access-control-allow-origin", origin.encode("latin-1")),
                       (b"vary", b"Origin")]
        return [*allowed, (b"access-control-expose-headers", b"Retry-After")]

    def refusal(self, origin: str, method: str, headers: str | None) -> str | None:
        """Why a preflight is refused, or None when it is allowed."""
        if not self.allows(origin):
            return f"origin {origin} is not allowed"
        if method not in self.methods:
            return f"method {method} is not allowed cross-origin"
        asked = {h.strip().lower() for h in (headers or "").split(",") if h.strip()}
        extra = sorted(asked - SAFELISTED_HEADERS - set(self.headers))
        if extra:
            return f"request headers {', '.join(extra)} are not allowed"
        return None


class Cors:
    """CORS for two policies: ingest paths (called from any allowed page) and reads."""

    def __init__(self, app: ASGIApp, ingest: CorsPolicy, reads: CorsPolicy):
        self.app = app
        self.ingest = ingest
        self.reads = reads

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        origin, asked_method, asked_headers = header_values(scope["headers"], CORS_HEADERS)
        if origin is None:
            await self.app(scope, receive, send)
        elif scope["method"] == "OPTIONS" and asked_method is not None:
            await self._preflight(scope, receive, send, origin, asked_method, asked_headers)
        else:
            await self._simple(scope, receive, send, origin)

    def _policy(self, path: str, method: str) -> CorsPolicy:
        return self.ingest if method == "POST" and path in INGEST_PATHS else self.reads

    async def _simple(self, scope: Scope, receive: Receive, send: Send, origin: str) -> None:
        policy = self._policy(scope["path"], scope["method"])
        if not policy.allows(origin):
            await self.app(scope, receive, send)
            return
        extra = policy.answer_headers(origin)

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *extra]
            await send(message)

        await self.app(scope, receive, send_with_cors)

    async def _preflight(self, scope: Scope, receive: Receive, send: Send,
                         origin: str, method: str, headers: str | None) -> None:
        policy = self._policy(scope["path"], method)
        refusal = policy.refusal(origin, method, headers)
        if refusal is not None:
            response = error_response(403, "cors_forbidden", refusal)
        else:
            response = _preflight_answer(policy, origin)
        await response(scope, receive, send)


def _preflight_answer(policy: CorsPolicy, origin: str) -> Response:
    response = Response(status_code=204, headers={
        "Access-Control-Allow-Methods": ", ".join(policy.methods),
        "Access-Control-Allow-Headers": ", ".join(policy.headers),
        "Access-Control-Max-Age": PREFLIGHT_MAX_AGE,
    })
    response.raw_headers.extend(policy.answer_headers(origin))
    return response
