"""GET /analytics: parameters checked, shards asked (one, or all in parallel), shares merged."""

from __future__ import annotations

import time
from functools import reduce

from starlette.requests import Request
from starlette.responses import Response

from tracker import schemas
from tracker.analytics import zones
from tracker.analytics.rollups import DAY, HOUR, PAGE_VIEW
from tracker.analytics.shares import TOP_PAGES, Share, Window, empty_share, shard_share
from tracker.api import params
from tracker.api.auth import require_read_token
from tracker.api.common import json_response, now_ms
from tracker.api.errors import invalid
from tracker.storage.store import Store

RANGES = {"1h": (HOUR, "1m"), "24h": (DAY, "1h"), "7d": (7 * DAY, "1d"), "30d": (30 * DAY, "1d")}
DEFAULT_RANGE = "24h"
MAX_WINDOW_MS = 400 * DAY
MAX_BUCKETS = 400
MAX_MS = 2**53


async def analytics(request: Request) -> Response:
    require_read_token(request)
    window = parse_window(request)
    started = time.perf_counter()
    share = await read_share(request.app.state.store, window)
    request.app.state.metrics.analytics_query(window.user_id, named_range(request),
                                              time.perf_counter() - started)
    return json_response(answer(window, share))


async def read_share(store: Store, window: Window) -> Share:
    """What the user's shard, or every shard merged, counts in the window."""
    if window.user_id is not None:
        shares = [await store.read(store.shard_of(window.user_id), shard_share, window)]
    else:
        shares = await store.read_each(shard_share, window)
    return reduce(Share.add, shares, empty_share(window))


def named_range(request: Request) -> str | None:
    """The `timeRange` a valid request asked for, or None for an explicit from/to window."""
    if "from" in request.query_params:
        return None
    return request.query_params.get("timeRange", DEFAULT_RANGE)


def parse_window(request: Request) -> Window:
    user_id = params.text(request, "userId", 128)
    event = params.text(request, "event", 64)
    zone = parse_zone(request)
    start, end, bucket = parse_span(request, zone)
    return Window(user_id, start, end, bucket, tuple(zones.bucket_starts(bucket, zone, start, end)),
                  event)


def parse_zone(request: Request) -> zones.ZoneInfo | None:
    name = request.query_params.get("tz")
    if name is None:
        return None
    zone = zones.zone_named(name)
    if zone is None:
        raise invalid("query parameter `tz` must be an IANA time zone name such as Asia/Kolkata")
    return zone


def parse_span(request: Request, zone: zones.ZoneInfo | None) -> tuple[int, int, str]:
    """(from, to, bucket) of the window the parameters ask for."""
    query = request.query_params
    explicit = [name for name in ("from", "to") if name in query]
    if not explicit:
        length, bucket = parse_range(query.get("timeRange", DEFAULT_RANGE))
        end = now_ms()
        return end - length, end, bucket
    if "timeRange" in query:
        raise invalid("give either `timeRange` or `from` and `to`, not both")
    if len(explicit) == 1:
        raise invalid("query parameters `from` and `to` must be given together")
    start = params.integer(request, "from", 0, 0, MAX_MS)
    end = params.integer(request, "to", 0, 0, MAX_MS)
    if start >= end:
        raise invalid("query parameter `from` must be before `to`")
    if end - start > MAX_WINDOW_MS:
        raise invalid("the window from `from` to `to` must be at most 400 days")
    return start, end, zones.bucket_for_window(zone, start, end, MAX_BUCKETS)


def parse_range(name: str) -> tuple[int, str]:
    if name not in RANGES:
        raise invalid(f"query parameter `timeRange` must be one of {', '.join(RANGES)}")
    return RANGES[name]


def answer(window: Window, share: Share) -> schemas.Analytics:
    events = sorted(share.events.items(), key=lambda item: (-item[1], item[0]))
    pages = sorted(share.pages.items(), key=lambda item: (-item[1], item[0]))[:TOP_PAGES]
    totals = schemas.Totals(sum(share.events.values()), share.events.get(PAGE_VIEW, 0),
                            share.sessions, share.users)
    return schemas.Analytics(
        userId=window.user_id,
        from_=window.start,
        to=window.end,
        bucket=window.bucket,
        totals=totals,
        events=[schemas.EventCount(event, count) for event, count in events if count],
        topPages=[schemas.PageCount(path, count) for path, count in pages if count],
        series=[schemas.SeriesPoint(t, movements, views)
                for t, (movements, views) in zip(window.starts, share.series)],
    )
