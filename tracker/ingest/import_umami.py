"""`tracker import --format umami`: Umami's `website_event` table exported as CSV with its header.

Columns are found by their names (their order differs between Umami
versions); `event_id`, `session_id`, `created_at`, `url_path` and
`event_type` are needed, the others used when there. An empty field, `NULL`
or `\\N` is null (PostgreSQL's and MySQL's exports).

- `event_type` 1 is a `page_view` of `url_path` (`hostname`, `page_title`);
  its referrer is `referrer_domain` with `referrer_path` and
  `referrer_query`; its UTM fields and click ids come from the `utm_*`,
  `gclid` and `msclkid` columns, or from `url_query` in versions without
  them. `event_type` 2 is the event `event_name`, with its page.
- Link, pixel and performance rows (`event_type` 3, 4 and 5) are rejected:
  they are not page views or events of a website.
- `session_id` (Umami's visitor of a month) is the visitor and `visit_id` the
  visit; without `visit_id` (older versions) visits are made as for
  anonymous traffic, a new one after the session timeout.
- `event_id` is the eventId, so a file imported twice is stored once.
- The file holds one website: a row of another `website_id` than the first
  row's is rejected.
- Umami keeps browser, OS, device and country in its `session` table, and
  event properties in `event_data`: neither is in this file.
"""

from __future__ import annotations

import csv
from typing import Any, TextIO

from tracker.enrich.page_url import UTM_KEYS, as_location_path, query_fields
from tracker.ingest.anonymous_sessions import UNASSIGNED
from tracker.ingest.import_rows import (
    Imported,
    Read,
    Rejected,
    Unreadable,
    csv_header,
    csv_rows,
    encoded_data,
    event_name,
    millis,
    session_id,
    visitor_id,
)
from tracker.storage.rows import MovementRow

NEEDED = ("event_id", "session_id", "created_at", "url_path", "event_type")
NULLS = frozenset({"", "NULL", "\\N"})
PAGE_VIEW, CUSTOM_EVENT = "1", "2"
CLICK_COLUMNS = ("gclid", "msclkid")


class Columns:
    """A row's fields by column name, nulls as None."""

    def __init__(self, header: list[str]):
        self._index = {name.strip().lower(): i for i, name in enumerate(header)}
        self.width = len(header)

    def has(self, name: str) -> bool:
        return name in self._index

    def get(self, row: list[str], name: str) -> str | None:
        index = self._index.get(name)
        value = None if index is None else row[index]
        return None if value is None or value in NULLS else value


def read(text: TextIO, site: str) -> Read:
    """Each row's movement, or why it is rejected; Unreadable when the header lacks a needed
    column."""
    rows = csv.reader(text)
    columns = Columns(csv_header(rows) or [])
    missing = [name for name in NEEDED if not columns.has(name)]
    if missing:
        raise Unreadable(f"not Umami's website_event table with its header: no {', '.join(missing)}")
    website: list[str | None] = []
    for start, row in csv_rows(rows):
        if isinstance(row, Rejected):
            yield start, row
            continue
        try:
            yield start, _event(row, columns, site, website)
        except Rejected as error:
            yield start, error


def _event(row: list[str], columns: Columns, site: str, website: list[str | None]) -> Imported:
    if len(row) != columns.width:
        raise Rejected(f"has {len(row)} fields; the header has {columns.width}")
    _check_website(columns.get(row, "website_id"), website)
    event_id, visitor = columns.get(row, "event_id"), columns.get(row, "session_id")
    if event_id is None or visitor is None:
        raise Rejected("no event_id or session_id")
    kind = columns.get(row, "event_type")
    if kind == PAGE_VIEW:
        name, data = "page_view", _page_view(row, columns)
    elif kind == CUSTOM_EVENT:
        name, data = event_name(columns.get(row, "event_name") or "", "event_name"), _page(row, columns)
    else:
        raise Rejected(f"event_type {kind} is not a page view (1) or an event (2)")
    visit = columns.get(row, "visit_id")
    movement = MovementRow(visitor_id(site, "umami", visitor),
                           UNASSIGNED if visit is None else session_id(site, "umami", visit),
                           millis(columns.get(row, "created_at") or "", "created_at"), name,
                           encoded_data(data), event_id)
    return Imported(movement)


def _check_website(website_id: str | None, first: list[str | None]) -> None:
    if not first:
        first.append(website_id)
    elif website_id != first[0]:
        raise Rejected(f"website_id {website_id} is not the first row's ({first[0]}): import one "
                      "website's rows at a time")


def _page(row: list[str], columns: Columns) -> dict[str, Any]:
    data: dict[str, Any] = {"path": as_location_path(columns.get(row, "url_path") or "/")}
    host = columns.get(row, "hostname")
    if host is not None:
        data["host"] = host
    return data


def _page_view(row: list[str], columns: Columns) -> dict[str, Any]:
    data = _page(row, columns)
    title = columns.get(row, "page_title")
    if title is not None:
        data["title"] = title
    referrer = _referrer(row, columns)
    if referrer is not None:
        data["referrer"] = referrer
    data.update(_tags(row, columns))
    return data


def _referrer(row: list[str], columns: Columns) -> str | None:
    domain = columns.get(row, "referrer_domain")
    if domain is None:
        return None
    query = columns.get(row, "referrer_query")
    return f"https://{domain}{columns.get(row, 'referrer_path') or ''}" + (f"?{query}" if query else "")


def _tags(row: list[str], columns: Columns) -> dict[str, Any]:
    """UTM fields and click ids from their columns, or from the page's query without them."""
    if not columns.has("utm_source"):
        return query_fields(columns.get(row, "url_query") or "")
    tags: dict[str, Any] = {}
    utm = {key: value for key in UTM_KEYS if (value := columns.get(row, f"utm_{key}"))}
    if utm:
        tags["utm"] = utm
    clicks = {key: True for key in CLICK_COLUMNS if columns.get(row, key)}
    if clicks:
        tags["clickId"] = clicks
    return tags
