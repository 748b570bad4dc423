"""GET /stats and GET /breakdown: the window and filters checked, the answer put in shape
(what is read from the shards is analytics/web_reads.py's)."""

from __future__ import annotations

import time
from decimal import Decimal

from starlette.requests import Request
from starlette.responses import Response

from tracker import schemas
from tracker.analytics import web, web_reads, zones
from tracker.analytics.conversions import Conversions
from tracker.analytics.filters import GOAL, PAGE, VISIT_DIMENSIONS
from tracker.analytics.web import Row, Span, StatsShare, rates
from tracker.api import csv_out, params
from tracker.api.access import read_site
from tracker.api.errors import invalid
from tracker.enrich import currencies
from tracker.lifecycle import goals as site_goals

MAX_KEY_LENGTH = 256
DEFAULT_LIMIT = 10


async def stats(request: Request) -> Response:
    site = read_site(request)
    zone = params.parse_zone(request, site.timezone)
    start, end, bucket = params.parse_span(request, zone)
    filters = params.parse_filters(request, site_goals.of_site(request.app.state.store.registry, site))
    compare = request.query_params.get("compare")
    if compare not in (None, "previous"):
        raise invalid("query parameter `compare` must be `previous`")
    starts = tuple(zones.bucket_starts(bucket, zone, start, end))
    began = time.perf_counter()
    spans = [Span((start, *starts[1:], end))]
    if compare == "previous":
        spans.append(Span((2 * start - end, start)))
    share, *before = await web_reads.stats(request.app.state.store, site.number, tuple(spans),
                                           filters)
    previous = None
    if before:
        previous = schemas.PreviousPeriod(2 * start - end, start, _totals(before[0]))
    request.app.state.metrics.web_query("stats", params.named_range(request), time.perf_counter() - began)
    series = [schemas.StatsPoint(t, visitors, visits, pageviews)
              for t, (visitors, visits, _b, _d, pageviews) in zip(starts, share.series)]
    return csv_out.respond(request, "stats",
                           schemas.Stats(start, end, bucket, _totals(share), previous, series))


async def breakdown(request: Request) -> Response:
    site = read_site(request)
    by = parse_by(request)
    event = params.text(request, "event", 64)
    if by.startswith(web.PROPERTY) and event is None:
        raise invalid("query parameter `event` is required with `by=prop:KEY`")
    if event is not None and not by.startswith(web.PROPERTY):
        raise invalid("query parameter `event` goes with `by=prop:KEY` only")
    limit = params.integer(request, "limit", DEFAULT_LIMIT, 1, 1000)
    start, end, _bucket = params.parse_span(request, params.parse_zone(request, site.timezone))
    goals = site_goals.of_site(request.app.state.store.registry, site)
    filters = params.parse_filters(request, goals)
    began = time.perf_counter()
    rows = await web_reads.breakdown(request.app.state.store, site.number, by, Span((start, end)),
                                     filters, event, limit, tuple(goals))
    request.app.state.metrics.web_query("breakdown", params.named_range(request),
                                        time.perf_counter() - began)
    return csv_out.respond(request, "breakdown", breakdown_answer(by, start, end, rows))


def parse_by(request: Request) -> str:
    by = params.required_text(request, "by", len(web.PROPERTY) + MAX_KEY_LENGTH)
    if by in params.FILTER_DIMENSIONS or by == web.EVENT:
        return by
    if by.startswith(web.PROPERTY) and len(by) > len(web.PROPERTY):
        return by
    raise invalid(f"query parameter `by` must be one of {', '.join(params.FILTER_DIMENSIONS)}, "
                  f"{web.EVENT} or prop:KEY")


def _totals(share: StatsShare) -> schemas.WebTotals:
    totals = schemas.WebTotals(*share.totals())
    if share.goal is not None:
        _add_goal(totals, share.goal)
    return totals


def _add_goal(shown: schemas.WebTotals | schemas.VisitRow, found: Conversions) -> None:
    shown.conversions = found.visitors
    shown.events = found.events
    shown.conversionRate = _rate(found)
    shown.revenue = revenue_figures(found)


def _rate(found: Conversions) -> float:
    return found.visitors / found.base if found.base else 0.0


def revenue_figures(found: Conversions) -> dict[str, schemas.RevenueFigures]:
    """Per currency, the total and the average per conversion event carrying it, exact."""
    return {currency: schemas.RevenueFigures(
        currencies.text(currencies.rounded(total, currency)),
        currencies.text(currencies.rounded(total / Decimal(count), currency)))
        for currency, (total, count) in sorted(found.revenue.items())}


def breakdown_answer(by: str, start: int, end: int, rows: list[tuple[str | None, Row]]):
    """Rows put in the shape of their kind of breakdown."""
    if by in VISIT_DIMENSIONS:
        return schemas.VisitBreakdown(by, start, end, [_visit_row(value, row) for value, row in rows])
    if by == GOAL:
        return schemas.GoalBreakdown("goal", start, end, [
            schemas.GoalRow(value or "", row.visitors, row.events, _rate(found), revenue_figures(found))
            for value, row in rows for found in [row.goal or Conversions()]])
    if by == PAGE:
        return schemas.PageBreakdown("page", start, end, [
            schemas.PageRow(value, row.visitors, row.visits, row.events) for value, row in rows])
    return schemas.EventBreakdown(by, start, end, [
        schemas.EventRow(value, row.visitors, row.visits, row.events) for value, row in rows])


def _visit_row(value: str | None, row: Row) -> schemas.VisitRow:
    shown = schemas.VisitRow(value, row.visitors, row.visits, row.events,
                             *rates(row.visits, row.bounces, row.duration))
    if row.goal is not None:
        _add_goal(shown, row.goal)
    return shown
