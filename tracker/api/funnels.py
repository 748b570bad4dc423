"""GET /funnels: steps, window and filters checked, every shard asked, counts added up."""

from __future__ import annotations

import time

from starlette.requests import Request
from starlette.responses import Response

from tracker import schemas
from tracker.analytics.funnels import PAGE_STEP, Funnel, Step, funnel_share
from tracker.analytics.rollups import DAY
from tracker.api import csv_out, params
from tracker.api.access import read_site
from tracker.api.errors import invalid
from tracker.lifecycle import goals
from tracker.schemas import FunnelEntity
from tracker.storage.store import Store

MIN_STEPS, MAX_STEPS = 2, 8
MAX_EVENT_LENGTH = 64
MAX_WITHIN_MS = 400 * DAY


ENTITIES: dict[str, FunnelEntity] = {"user": "user", "visit": "visit"}


def parse_entity(request: Request) -> FunnelEntity:
    named = ENTITIES.get(request.query_params.get("by", "user"))
    if named is not None:
        return named
    raise invalid("query parameter `by` must be `user` or `visit`")


async def funnels(request: Request) -> Response:
    site = read_site(request)
    texts = parse_steps(request)
    within = parse_within(request)
    by = parse_entity(request)
    start, end, _bucket = params.parse_span(request, params.parse_zone(request, site.timezone))
    filters = params.parse_filters(request, goals.of_site(request.app.state.store.registry, site))
    funnel = Funnel(tuple(map(Step.parse, texts)), within, by == "visit")
    began = time.perf_counter()
    store: Store = request.app.state.store
    shares = await store.read_each(site.number, funnel_share, funnel, start, end, filters)
    counts = [sum(column) for column in zip(*shares)]
    request.app.state.metrics.web_query("funnels", params.named_range(request),
                                        time.perf_counter() - began)
    return csv_out.respond(request, "funnels", schemas.Funnel(by, start, end, _steps(texts, counts)))


def parse_steps(request: Request) -> list[str]:
    texts = request.query_params.getlist("step")
    if not MIN_STEPS <= len(texts) <= MAX_STEPS:
        raise invalid(f"give {MIN_STEPS} to {MAX_STEPS} `step` parameters")
    for text in texts:
        longest = len(PAGE_STEP) + params.MAX_VALUE_LENGTH if text.startswith(PAGE_STEP) else MAX_EVENT_LENGTH
        if len(text) > longest or text == PAGE_STEP or params.CONTROL.search(text) or not text:
            raise invalid(f"query parameter `step` must be an event name of 1 to {MAX_EVENT_LENGTH} "
                          f"characters or page:PATH, without control characters")
    return texts


def parse_within(request: Request) -> int | None:
    if "within" not in request.query_params:
        return None
    return params.integer(request, "within", 0, 1, MAX_WITHIN_MS)


def _steps(texts: list[str], counts: list[int]) -> list[schemas.FunnelStep]:
    first = counts[0]
    return [schemas.FunnelStep(text, count, count / first if first else 0.0,
                               counts[i - 1] - count if i else 0)
            for i, (text, count) in enumerate(zip(texts, counts))]
