"""GET /stats and GET /breakdown: the window and filters checked, the answer put in shape
(what is read from the shards is analytics/web_reads.py's)."""

from __future__ import annotations

import time

from starlette.requests import Request
from starlette.responses import Response

from tracker import schemas
from tracker.analytics import web, web_reads, zones
from tracker.analytics.filters import PAGE, VISIT_DIMENSIONS
from tracker.analytics.web import Row, Span, StatsShare
from tracker.api import params
from tracker.api.auth import require_read_token
from tracker.api.common import json_response
from tracker.api.errors import invalid

MAX_KEY_LENGTH = 256
DEFAULT_LIMIT = 10


async def stats(request: Request) -> Response:
    require_read_token(request)
    zone = params.parse_zone(request)
    start, end, bucket = params.parse_span(request, zone)
    filters = params.parse_filters(request)
    compare = request.query_params.get("compare")
    if compare not in (None, "previous"):
        raise invalid("query parameter `compare` must be `previous`")
    starts = tuple(zones.bucket_starts(bucket, zone, start, end))
    began = time.perf_counter()
    spans = [Span((start, *starts[1:], end))]
    if compare == "previous":
        spans.append(Span((2 * start - end, start)))
    share, *before = await web_reads.stats(request.app.state.store, tuple(spans), filters)
    previous = None
    if before:
        previous = schemas.PreviousPeriod(2 * start - end, start, _totals(before[0]))
    request.app.state.metrics.web_query("stats", params.named_range(request), time.perf_counter() - began)
    series = [schemas.StatsPoint(t, visitors, visits, pageviews)
              for t, (visitors, visits, _b, _d, pageviews) in zip(starts, share.series)]
    return json_response(schemas.Stats(start, end, bucket, _totals(share), previous, series))


async def breakdown(request: Request) -> Response:
    require_read_token(request)
    by = parse_by(request)
    event = params.text(request, "event", 64)
    if by.startswith(web.PROPERTY) and event is None:
        raise invalid("query parameter `event` is required with `by=prop:KEY`")
    if event is not None and not by.startswith(web.PROPERTY):
        raise invalid("query parameter `event` goes with `by=prop:KEY` only")
    limit = params.integer(request, "limit", DEFAULT_LIMIT, 1, 1000)
    start, end, _bucket = params.parse_span(request, params.parse_zone(request))
    filters = params.parse_filters(request)
    began = time.perf_counter()
    rows = await web_reads.breakdown(request.app.state.store, by, Span((start, end)), filters,
                                     event, limit)
    request.app.state.metrics.web_query("breakdown", params.named_range(request),
                                        time.perf_counter() - began)
    return json_response(_breakdown(by, start, end, rows))


def parse_by(request: Request) -> str:
    by = params.required_text(request, "by", len(web.PROPERTY) + MAX_KEY_LENGTH)
    if by in params.FILTER_DIMENSIONS or by == web.EVENT:
        return by
    if by.startswith(web.PROPERTY) and len(by) > len(web.PROPERTY):
        return by
    raise invalid(f"query parameter `by` must be one of {', '.join(params.FILTER_DIMENSIONS)}, "
                  f"{web.EVENT} or prop:KEY")


def _totals(share: StatsShare) -> schemas.WebTotals:
    visits = sum(point[1] for point in share.series)
    bounces = sum(point[2] for point in share.series)
    duration = sum(point[3] for point in share.series)
    pageviews = sum(point[4] for point in share.series)
    return schemas.WebTotals(share.visitors, visits, pageviews, *_rates(visits, bounces, duration))


def _rates(visits: int, bounces: int, duration_ms: int) -> tuple[float, float]:
    """(bounce rate, mean duration in seconds), 0 for no visits."""
    if not visits:
        return 0.0, 0.0
    return bounces / visits, duration_ms / visits / 1000


def _breakdown(by: str, start: int, end: int, rows: list[tuple[str | None, Row]]):
    if by in VISIT_DIMENSIONS:
        return schemas.VisitBreakdown(by, start, end, [
            schemas.VisitRow(value, row.visitors, row.visits, row.events,
                             *_rates(row.visits, row.bounces, row.duration))
            for value, row in rows])
    if by == PAGE:
        return schemas.PageBreakdown("page", start, end, [
            schemas.PageRow(value, row.visitors, row.visits, row.events) for value, row in rows])
    return schemas.EventBreakdown(by, start, end, [
        schemas.EventRow(value, row.visitors, row.visits, row.events) for value, row in rows])
