"""A visit's referrer, UTM fields, source and channel, from its first page view's `data`.

`visit_source(data)` reads `data.referrer`, `data.host` and `data.utm` of the
visit's earliest page view and answers a `Source`. Values of the wrong type
(numbers, lists, objects) count as absent and never raise.

referrer
    The host of `data.referrer` when it is an absolute `http:` or `https:`
    URL: lowercased, without port, user info or trailing dot, one leading
    `www.` removed. None when absent, not such a URL, not a plain ASCII host
    name or address, or equal to `data.host` normalised the same way (an
    internal link). Ports are ignored on both sides, so `localhost:3000`
    linking to itself, or `www.shop.example` to `shop.example`, is internal.

utmSource ... utmContent
    The strings in `data.utm.source` ... `data.utm.content`, as sent; a
    missing, blank or non-string value is None.

source
    1. `utmSource` when set, as sent;
    2. else the name of the referrer host's source (`Google`, `Yandex`,
       `Facebook`, `ChatGPT`, `Wikipedia`, ...; see `source_names.py`);
    3. else the referrer host;
    4. else, when the page URL carried a click id (`data.clickId`, below),
       the ad network that adds it: `Google` for `gclid`, `gbraid`, `wbraid`,
       `Bing` for `msclkid` (GA4 attributes auto-tagged clicks so);
    5. else `Direct`.

channel
    GA4's default channel group, by the rules in `channels.py`.

clickId
    `data.clickId` is an object whose keys name the click ids the page URL
    carried (`{"gclid": true}`): the client sends only their presence,
    never their values. Keys other than `gclid`, `gbraid`, `wbraid` and
    `msclkid`, and values other than `true`, are ignored.

Privacy: only host names of referring pages are kept (in the visit); paths
and queries of referrers are dropped. The lists are loaded once per process,
and each distinct (referrer, utm_source, utm_medium, utm_campaign, click ids)
is worked out once while it stays among the last `CACHE_SIZE`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from urllib.parse import urlsplit

import msgspec

from tracker.enrich.channels import channel
from tracker.enrich.source_names import name_of_host

UTM_KEYS = ("source", "medium", "campaign", "term", "content")
PLAIN_HOST = re.compile(r"[a-z0-9._:-]{1,253}")
CLICK_NETWORKS = {"gclid": "Google", "gbraid": "Google", "wbraid": "Google", "msclkid": "Bing"}
CACHE_SIZE = 10_000


class Source(msgspec.Struct, frozen=True):
    """A visit's acquisition dimensions, named as in the spec."""

    referrer: str | None
    utmSource: str | None
    utmMedium: str | None
    utmCampaign: str | None
    utmTerm: str | None
    utmContent: str | None
    source: str
    channel: str


def visit_source(page_view_data: object) -> Source:
    """Referrer, UTM fields, source and channel of a visit from its first page view's data."""
    data = page_view_data if isinstance(page_view_data, dict) else {}
    referrer = referrer_host(data.get("referrer"), data.get("host"))
    utm = utm_fields(data.get("utm"))
    source, channel_name = acquisition(referrer, *utm[:3], click_ids(data.get("clickId")))
    return Source(referrer, utm[0], utm[1], utm[2], utm[3], utm[4], source, channel_name)


@lru_cache(maxsize=CACHE_SIZE)
def acquisition(referrer: str | None, utm_source: str | None, utm_medium: str | None,
                utm_campaign: str | None, clicks: frozenset[str] = frozenset()) -> tuple[str, str]:
    """(source, channel) of a visit from its referrer host, UTM source, medium and campaign
    (term and content decide neither) and the click ids of its page URL."""
    utm = (utm_source, utm_medium, utm_campaign)
    networks = sorted({CLICK_NETWORKS[click] for click in clicks})
    source = _source(referrer, utm_source, networks[0] if networks else None)
    return source, channel(referrer, utm, source, clicks)


def rederive_functions() -> dict[str, Callable[..., str]]:
    """SQL functions re-deriving a stored visit's source and channel from its columns
    (referrer, utmSource, utmMedium, utmCampaign): for the migration that brings stored
    visits to these rules. Stored visits kept no click ids."""
    return {"visit_source": lambda *columns: acquisition(*_texts(columns))[0],
            "visit_channel": lambda *columns: acquisition(*_texts(columns))[1]}


def _texts(columns: tuple) -> tuple[str | None, ...]:
    return tuple(value if isinstance(value, str) and value.strip() else None for value in columns)


def referrer_host(referrer: object, page_host: object) -> str | None:
    """The normalised host of an absolute http(s) referrer URL, None when absent or internal."""
    if not isinstance(referrer, str):
        return None
    try:
        parts = urlsplit(referrer.strip())
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https"):
        return None
    host = _normalised(parts.hostname)
    if host is None or host == normalise_host(page_host):
        return None
    return host


def normalise_host(host: object) -> str | None:
    """`Host`-style text (`WWW.Shop.Example:8080`) as compared with a referrer host."""
    if not isinstance(host, str):
        return None
    try:
        return _normalised(urlsplit("//" + host.strip()).hostname)
    except ValueError:
        return None


def _normalised(hostname: str | None) -> str | None:
    host = (hostname or "").rstrip(".")
    host = host.removeprefix("www.")
    return host if PLAIN_HOST.fullmatch(host) else None


def utm_fields(utm: object) -> tuple[str | None, ...]:
    """source, medium, campaign, term, content: the non-blank strings of `data.utm`."""
    if not isinstance(utm, dict):
        return (None,) * len(UTM_KEYS)
    values = (utm.get(key) for key in UTM_KEYS)
    return tuple(value if isinstance(value, str) and value.strip() else None for value in values)


def click_ids(click_id: object) -> frozenset[str]:
    """The known click ids `data.clickId` says the page URL carried."""
    if not isinstance(click_id, dict):
        return frozenset()
    return frozenset(key for key, present in click_id.items()
                     if key in CLICK_NETWORKS and present is True)


def _source(referrer: str | None, utm_source: str | None, click_network: str | None) -> str:
    if utm_source is not None:
        return utm_source
    if referrer is not None:
        named = name_of_host(referrer)
        return named.name if named else referrer
    return click_network or "Direct"
