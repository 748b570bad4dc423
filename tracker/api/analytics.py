"""GET /analytics: parameters checked, shards asked (one, or all in parallel) with their unfolded
tails, so that no read waits for a fold, shares merged."""

from __future__ import annotations

import time
from functools import reduce

from starlette.requests import Request
from starlette.responses import Response

from tracker import schemas
from tracker.analytics import zones
from tracker.analytics.activity import TOP_PAGES, Share, Window, empty_share, shard_share
from tracker.analytics.rollups import PAGE_VIEW
from tracker.api import csv_out, params
from tracker.api.access import read_site
from tracker.storage.registry import Site
from tracker.storage.store import Store


async def analytics(request: Request) -> Response:
    site = read_site(request)
    window = parse_window(request, site)
    started = time.perf_counter()
    share = await read_share(request.app.state.store, site, window)
    request.app.state.metrics.analytics_query(window.user_id, params.named_range(request),
                                              time.perf_counter() - started)
    return csv_out.respond(request, "analytics", answer(window, share))


async def read_share(store: Store, site: Site, window: Window) -> Share:
    """What the user's shard, or every shard of the site merged, counts in the window."""
    if window.user_id is not None:
        shares = [await store.read_with_tail(store.file_of(site.number, window.user_id),
                                             shard_share, window)]
    else:
        shares = await store.read_each_with_tail(site.number, shard_share, window)
    return reduce(Share.add, shares, empty_share(window))


def parse_window(request: Request, site: Site) -> Window:
    user_id = params.text(request, "userId", 128)
    event = params.text(request, "event", 64)
    zone = params.parse_zone(request, site.timezone)
    start, end, bucket = params.parse_span(request, zone)
    return Window(user_id, start, end, bucket, tuple(zones.bucket_starts(bucket, zone, start, end)),
                  event)


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
