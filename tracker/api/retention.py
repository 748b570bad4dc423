"""GET /retention: the window and period checked, every shard's cohorts added up. Cohorts
are of identified users unless `identified=false` (tracker/analytics/cohorts.py says why)."""

from __future__ import annotations

import time
from functools import reduce

from starlette.requests import Request
from starlette.responses import Response

from tracker import schemas
from tracker.analytics import cohorts
from tracker.analytics.cohorts import Cohorts
from tracker.api import csv_out, params
from tracker.api.access import read_site
from tracker.api.errors import invalid
from tracker.schemas import Period
from tracker.storage.store import Store


async def retention(request: Request) -> Response:
    site = read_site(request)
    period = parse_period(request)
    event = params.text(request, "event", 64)
    anonymous = not params.boolean(request, "identified", True)
    zone = params.parse_zone(request, site.timezone)
    start, end, _bucket = params.parse_span(request, zone)
    cuts = cohorts.period_cuts(period, zone, start, end)
    began = time.perf_counter()
    store: Store = request.app.state.store
    shares = await store.read_each(site.number, cohorts.cohorts_share, cuts, event,
                                   anonymous)
    merged = reduce(Cohorts.add, shares, cohorts.empty_cohorts(len(cuts) - 1))
    request.app.state.metrics.web_query("retention", params.named_range(request),
                                        time.perf_counter() - began)
    return csv_out.respond(request, "retention", schemas.Retention(period, start, end, [
        schemas.Cohort(t, users, returned)
        for t, users, returned in zip(cuts, merged.users, merged.returned)]))


PERIODS: dict[str, Period] = {"day": "day", "week": "week"}


def parse_period(request: Request) -> Period:
    named = PERIODS.get(params.required_text(request, "period", 8))
    if named is not None:
        return named
    raise invalid(f"query parameter `period` must be one of {', '.join(cohorts.PERIODS)}")
