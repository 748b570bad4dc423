"""GET /retention: the window and period checked, every shard's cohorts added up."""

from __future__ import annotations

import time
from functools import reduce

from starlette.requests import Request
from starlette.responses import Response

from tracker import schemas
from tracker.analytics import cohorts
from tracker.analytics.cohorts import Cohorts
from tracker.api import params
from tracker.api.auth import require_read_token
from tracker.api.common import json_response
from tracker.api.errors import invalid
from tracker.schemas import Period
from tracker.storage.store import Store


async def retention(request: Request) -> Response:
    require_read_token(request)
    period = parse_period(request)
    event = params.text(request, "event", 64)
    zone = params.parse_zone(request)
    start, end, _bucket = params.parse_span(request, zone)
    cuts = cohorts.period_cuts(period, zone, start, end)
    began = time.perf_counter()
    store: Store = request.app.state.store
    shares = await store.read_each(cohorts.cohorts_share, cuts, event)
    merged = reduce(Cohorts.add, shares, cohorts.empty_cohorts(len(cuts) - 1))
    request.app.state.metrics.web_query("retention", params.named_range(request),
                                        time.perf_counter() - began)
    return json_response(schemas.Retention(period, start, end, [
        schemas.Cohort(t, users, returned)
        for t, users, returned in zip(cuts, merged.users, merged.returned)]))


PERIODS: dict[str, Period] = {"day": "day", "week": "week"}


def parse_period(request: Request) -> Period:
    named = PERIODS.get(params.required_text(request, "period", 8))
    if named is not None:
        return named
    raise invalid(f"query parameter `period` must be one of {', '.join(cohorts.PERIODS)}")
