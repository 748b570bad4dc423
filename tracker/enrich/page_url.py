"""What a page's URL says, in the shape tracker.js sends it: `path`, `host`, `utm`, `clickId`.

Other tools' scripts send the page's whole URL (Plausible's `u`, Umami's
`url`) and their exports keep its parts; `page_fields` turns either into the
`data` fields our own client sends for a page view, so that the visits they
make are the same: the path as `location.pathname` gives it (percent-encoded;
`as_location_path` encodes a decoded one the way a browser does), the host as
`location.host`, the `utm_*` parameters present (the first of each, not
blank) and, for ad click ids, only their presence, never their values.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

UTM_KEYS = ("source", "medium", "campaign", "term", "content")
CLICK_IDS = ("gclid", "gbraid", "wbraid", "msclkid")
# What a browser leaves as it is in `location.pathname` (besides letters and digits); `%`
# keeps what is already encoded as it is.
PATH_SAFE = "/!$%&'()*+,-.:;=@[]_~|^"


def page_fields(url: str) -> dict[str, Any]:
    """`path`, `host` and, when the query has them, `utm` and `clickId` of an absolute URL
    (or of a path with its query); ValueError when it does not parse."""
    parts = urlsplit(url.strip())
    fields: dict[str, Any] = {"path": as_location_path(parts.path or "/")}
    if parts.netloc:
        fields["host"] = parts.netloc.rpartition("@")[2].lower()
    fields.update(query_fields(parts.query))
    return fields


def query_fields(query: str) -> dict[str, Any]:
    """`utm` and `clickId` from a URL's query string, as tracker.js reads them."""
    first: dict[str, str] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        first.setdefault(key, value)
    fields: dict[str, Any] = {}
    utm = {key: first[f"utm_{key}"] for key in UTM_KEYS if first.get(f"utm_{key}")}
    if utm:
        fields["utm"] = utm
    clicks = {key: True for key in CLICK_IDS if first.get(key)}
    if clicks:
        fields["clickId"] = clicks
    return fields


def as_location_path(path: str) -> str:
    """A path percent-encoded as `location.pathname` gives it: `/café` becomes `/caf%C3%A9`,
    and a path already encoded stays as it is."""
    return quote(path, safe=PATH_SAFE)
