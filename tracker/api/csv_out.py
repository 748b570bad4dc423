"""Report answers as CSV, for `Accept: text/csv` or `format=csv`.

A header row, then one row per result (the series of /stats and /analytics,
the rows of /breakdown, the steps of /funnels, the cohorts of /retention),
RFC 4180 quoting by Python's csv module, UTF-8. Nested values are flattened
into columns (`revenue.EUR.total`, `returned.0`). A text cell that starts
with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'`, so
that a spreadsheet shows it rather than running it as a formula.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import Any, TextIO

import msgspec
import msgspec.inspect
from starlette.requests import Request
from starlette.responses import Response

from tracker import schemas
from tracker.api.common import json_response
from tracker.api.errors import invalid

MEDIA_TYPE = "text/csv"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

# Which list of an answer becomes the CSV's rows.
ROWS_OF = {schemas.Analytics: "series", schemas.Stats: "series", schemas.VisitBreakdown: "results",
           schemas.PageBreakdown: "results", schemas.EventBreakdown: "results",
           schemas.GoalBreakdown: "results", schemas.Funnel: "steps", schemas.Retention: "cohorts"}


def wants_csv(request: Request) -> bool:
    """`format=csv`, or no `format` and an Accept header naming text/csv; `format` other than
    json or csv is a 422."""
    chosen = request.query_params.get("format")
    if chosen is not None:
        if chosen not in ("json", "csv"):
            raise invalid("query parameter `format` must be json or csv")
        return chosen == "csv"
    accepted = [part.split(";")[0].strip().lower()
                for part in request.headers.get("accept", "").split(",")]
    return MEDIA_TYPE in accepted


def respond(request: Request, name: str, answer: msgspec.Struct) -> Response:
    """The answer as JSON, or as CSV (`name`.csv) when the request asks for it."""
    if not wants_csv(request):
        return json_response(answer)
    rows = [msgspec.to_builtins(row) for row in getattr(answer, ROWS_OF[type(answer)])]
    text = io.StringIO()
    write_table(text, rows)
    return Response(text.getvalue().encode(), media_type=f"{MEDIA_TYPE}; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})


def columns_of(answer: msgspec.Struct) -> list[str]:
    """The columns every row of an answer has (for the header of one without rows)."""
    fields = msgspec.inspect.type_info(type(answer)).fields  # type: ignore[attr-defined]
    rows = next(f for f in fields if f.name == ROWS_OF[type(answer)]).type
    assert isinstance(rows, msgspec.inspect.ListType)
    assert isinstance(rows.item_type, msgspec.inspect.StructType)
    return [f.encode_name for f in rows.item_type.fields if f.required]


def write_table(out: TextIO, rows: list[dict[str, Any]], header: list[str] | None = None) -> None:
    """Rows (dicts, nested ones flattened) under a header of every column in order of first
    appearance, or the given one."""
    flat = [dict(flattened(row)) for row in rows]
    columns = header or list(dict.fromkeys(key for row in flat for key in row))
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerows([[cell(row.get(column)) for column in columns] for row in flat])


def flattened(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(column, scalar) pairs of a dict or list nested in a row: `a.b`, `returned.0`."""
    items: Iterable[tuple[Any, Any]]
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        yield prefix, value
        return
    for key, inner in items:
        yield from flattened(inner, f"{prefix}.{key}" if prefix else str(key))


def cell(value: Any) -> str | int | float:
    """A cell's text: empty for null, `true`/`false`, numbers as they are, and text that a
    spreadsheet would run as a formula quoted with a leading `'`."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text
