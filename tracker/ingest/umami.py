"""Umami's tracker payload, made into the movement /track would take.

`website` is the site's `umamiId`; a payload without `name` is a page view,
whose `url` (an absolute URL from Umami's later scripts, or `encodeURI` of
the path and query from Umami 2's, decoded once as Umami decodes it) gives
`data.path`, `data.utm` and `data.clickId` as tracker.js sends them,
`hostname` (or the URL's host) `data.host`, and `referrer` and `title` (which
Umami 2 sends encoded) `data.referrer` and `data.title`. An event keeps its
`data` and the page it happened on (`path`, `host`); what the payload says
never replaces what the URL says. `identify` (data about the session) and
`performance` (web vitals) store nothing.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

import msgspec

from tracker.enrich.page_url import page_fields
from tracker.ingest.intake import Invalid, UnknownSite
from tracker.schemas import MovementIn, UmamiPayload
from tracker.storage.registry import Sites

STORED_TYPES = frozenset({"event"})


def movement(payload: UmamiPayload, sites: Sites) -> tuple[MovementIn, str]:
    """The page view or event a payload describes, on the site whose `umamiId` it names;
    UnknownSite when none does, Invalid when its URL does not parse."""
    site = sites.by_umami(payload.website.lower())
    if site is None:
        raise UnknownSite(f"no site has the Umami website id `{payload.website}` "
                          "- at `$.payload.website`")
    fields = _page(payload)
    if payload.name is None:
        event = "page_view"
        for key, value in (("title", payload.title), ("referrer", payload.referrer)):
            if value is not None:
                fields[key] = decoded(value) if key == "title" else value
    else:
        event = payload.name
        fields = {key: fields[key] for key in ("path", "host") if key in fields}
    data = {**(payload.data or {}), **fields}
    return msgspec.convert({"event": event, "data": data, "site": site.id}, MovementIn), "$.payload"


def _page(payload: UmamiPayload) -> dict[str, Any]:
    url = payload.url or "/"
    absolute = "://" in url.partition("?")[0]
    try:
        fields = page_fields(url if absolute else decoded(url))
    except ValueError:
        raise Invalid("`url` is not a URL - at `$.payload.url`") from None
    if payload.hostname and not absolute:
        fields["host"] = payload.hostname.lower()
    return fields


def decoded(text: str) -> str:
    """`text` percent-decoded once, or as it is when that fails (Umami's safeDecodeURI)."""
    try:
        return unquote(text, errors="strict")
    except UnicodeDecodeError:
        return text
