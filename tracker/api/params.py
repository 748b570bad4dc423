"""Query-string parameters: parsed and checked, or a 422 naming the parameter."""

from __future__ import annotations

import re

from starlette.requests import Request

from tracker.api.errors import invalid

CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def text(request: Request, name: str, max_length: int, required: bool = False) -> str | None:
    value = request.query_params.get(name)
    if value is None:
        if required:
            raise invalid(f"query parameter `{name}` is required")
        return None
    return _checked(value, f"query parameter `{name}`", max_length)


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
