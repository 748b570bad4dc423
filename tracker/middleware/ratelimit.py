"""Rate limiting of the ingest endpoints: a token bucket per client address.

A plain ASGI middleware, O(1) per request. The buckets live in an ordered
dict capped at `max_clients` entries: the least recently seen client is
forgotten first. Forgetting costs nothing in fairness, because a bucket
left alone for `burst / rate` seconds is full again, which is exactly what a
forgotten client starts with.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable

from starlette.types import ASGIApp, Receive, Scope, Send

from tracker.api.errors import error_response
from tracker.api.track import INGEST_PATHS
from tracker.enrich.client import TrustedProxies

MAX_CLIENTS = 65_536


class TokenBuckets:
    """One bucket of at most `burst` tokens per key, refilled at `rate` tokens a second."""

    def __init__(self, rate: float, burst: int, max_clients: int = MAX_CLIENTS,
                 clock: Callable[[], float] = time.monotonic):
        self.rate = rate
        self.burst = burst
        self.max_clients = max_clients
        self._clock = clock
        self._buckets: OrderedDict[str, list[float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, key: str) -> float:
        """Take a token for `key`: 0 when there was one, else the seconds until there is."""
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._remember(key, now)
        else:
            self._buckets.move_to_end(key)
            bucket[0] = min(self.burst, bucket[0] + (now - bucket[1]) * self.rate)
            bucket[1] = now
        if bucket[0] >= 1:
            bucket[0] -= 1
            return 0.0
        return (1 - bucket[0]) / self.rate

    def _remember(self, key: str, now: float) -> list[float]:
        if len(self._buckets) >= self.max_clients:
            self._buckets.popitem(last=False)
        bucket = self._buckets[key] = [float(self.burst), now]
        return bucket


class RateLimit:
    """Answers 429 with `Retry-After` to a client over its rate on the ingest endpoints."""

    def __init__(self, app: ASGIApp, buckets: TokenBuckets, trusted_proxies: TrustedProxies):
        self.app = app
        self.buckets = buckets
        self.proxies = trusted_proxies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"] in INGEST_PATHS:
            wait = self.buckets.take(self._client(scope))
            if wait:
                response = error_response(
                    429, "rate_limited", "too many requests from this address; retry later",
                    {"Retry-After": str(max(1, math.ceil(wait)))})
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _client(self, scope: Scope) -> str:
        return INGEST_PATHS[scope["path"]](scope, self.proxies)
