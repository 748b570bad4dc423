"""Query-string parameters: parsed and checked, or a 422 naming the parameter.

The window (`timeRange` or `from`/`to`, `tz`) and the `filter` parameters are
shared by every read endpoint, so they are parsed here once.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from starlette.requests import Request

from tracker.analytics import filters, zones
from tracker.analytics.filters import Filters
from tracker.analytics.goals import Goal
from tracker.analytics.rollups import DAY, HOUR
from tracker.api.common import now_ms
from tracker.api.errors import invalid
from tracker.schemas import LATEST_MS, Bucket

CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
RANGES: dict[str, tuple[int, Bucket]] = {
    "1h": (HOUR, "1m"), "24h": (DAY, "1h"), "7d": (7 * DAY, "1d"), "30d": (30 * DAY, "1d")}
DEFAULT_RANGE = "24h"
MAX_WINDOW_MS = 400 * DAY
MAX_BUCKETS = 400
MAX_MS = LATEST_MS
MAX_FILTERS = 20
MAX_VALUE_LENGTH = 1024
FILTER_DIMENSIONS = (*filters.VISIT_DIMENSIONS, filters.PAGE, filters.GOAL)


def text(request: Request, name: str, max_length: int) -> str | None:
    value = request.query_params.get(name)
    if value is None:
        return None
    return _checked(value, f"query parameter `{name}`", max_length)


def required_text(request: Request, name: str, max_length: int) -> str:
    value = text(request, name, max_length)
    if value is None:
        raise invalid(f"query parameter `{name}` is required")
    return value


def path_text(request: Request, name: str, max_length: int) -> str:
    return _checked(request.path_params[name], f"path parameter `{name}`", max_length)


def _checked(value: str, what: str, max_length: int) -> str:
    if not 1 <= len(value) <= max_length or CONTROL.search(value):
        raise invalid(f"{what} must be 1 to {max_length} characters without control characters")
    return value


def integer(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise invalid(f"query parameter `{name}` must be an integer") from None
    if not low <= value <= high:
        raise invalid(f"query parameter `{name}` must be between {low} and {high}")
    return value


def instant(request: Request, name: str, default: int, zone: zones.ZoneInfo | None = None) -> int:
    """`name` as ms since the epoch: an integer, or an ISO 8601 date or date-time; one without
    an offset is read on `zone`'s clock (UTC when None), so `from=2026-12-01` is that local
    midnight."""
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if re.fullmatch(r"-?[0-9]+", raw):
        return integer(request, name, default, 0, MAX_MS)
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise invalid(f"query parameter `{name}` must be milliseconds since the epoch or an ISO "
                      "8601 date or date-time such as 2026-12-01 or 2026-12-01T08:00:00Z") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone or UTC)
    value = int(moment.timestamp() * 1000)
    if not 0 <= value <= MAX_MS:
        raise invalid(f"query parameter `{name}` must be between 1970-01-01 and "
                      f"{datetime.fromtimestamp(MAX_MS / 1000, UTC).date()}")
    return value


def boolean(request: Request, name: str, default: bool) -> bool:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if raw not in ("true", "false"):
        raise invalid(f"query parameter `{name}` must be true or false")
    return raw == "true"


def named_range(request: Request) -> str | None:
    """The `timeRange` a valid request asked for, or None for an explicit from/to window."""
    if "from" in request.query_params:
        return None
    return request.query_params.get("timeRange", DEFAULT_RANGE)


def parse_zone(request: Request, site_zone: str = "UTC") -> zones.ZoneInfo | None:
    """`tz`, else the site's own zone (None for UTC)."""
    name = request.query_params.get("tz")
    if name is None:
        return None if site_zone == "UTC" else zones.zone_named(site_zone)
    zone = zones.zone_named(name)
    if zone is None:
        raise invalid("query parameter `tz` must be an IANA time zone name such as Asia/Kolkata")
    return zone


def parse_span(request: Request, zone: zones.ZoneInfo | None) -> tuple[int, int, Bucket]:
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
    start = instant(request, "from", 0, zone)
    end = instant(request, "to", 0, zone)
    if start >= end:
        raise invalid("query parameter `from` must be before `to`")
    if end - start > MAX_WINDOW_MS:
        raise invalid("the window from `from` to `to` must be at most 400 days")
    return start, end, zones.bucket_for_window(zone, start, end, MAX_BUCKETS)


def parse_range(name: str) -> tuple[int, Bucket]:
    if name not in RANGES:
        raise invalid(f"query parameter `timeRange` must be one of {', '.join(RANGES)}")
    return RANGES[name]


def parse_filters(request: Request, goals: list[Goal] | None = None) -> Filters:
    """`filter=DIM:VALUE` parameters: values of one dimension are alternatives. `goal:NAME`
    names one of `goals` (the site's); an unknown one is a 422."""
    given = request.query_params.getlist("filter")
    if len(given) > MAX_FILTERS:
        raise invalid(f"at most {MAX_FILTERS} `filter` parameters")
    chosen: dict[str, list[str]] = {}
    for text in given:
        dimension, colon, value = text.partition(":")
        if not colon:
            raise invalid("query parameter `filter` must be DIM:VALUE")
        if dimension not in FILTER_DIMENSIONS:
            raise invalid(f"unknown filter dimension `{dimension}`; one of "
                          f"{', '.join(FILTER_DIMENSIONS)}")
        if len(value) > MAX_VALUE_LENGTH or CONTROL.search(value):
            raise invalid(f"a `filter` value must be at most {MAX_VALUE_LENGTH} characters "
                          "without control characters")
        values = chosen.setdefault(dimension, [])
        if value not in values:
            values.append(value)
    pages = tuple(chosen.pop(filters.PAGE, ()))
    named = goals_named(chosen.pop(filters.GOAL, []), goals or [])
    return Filters(tuple((dimension, tuple(values)) for dimension, values in chosen.items()), pages,
                   named)


def goals_named(names: list[str], goals: list[Goal]) -> tuple[Goal, ...]:
    by_name = {goal.name: goal for goal in goals}
    for name in names:
        if name not in by_name:
            raise invalid(f"unknown goal `{name}` in `filter`: the site's goals are "
                          f"{', '.join(f'`{g}`' for g in by_name) or 'none yet'}")
    return tuple(by_name[name] for name in names)
