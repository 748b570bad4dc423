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
    1. `utmSource` when set;
    2. else the name of the search engine or social network the referrer
       host belongs to: `Google` for any `google.<tld>` (`google.com`,
       `google.co.uk`, `google.com.au`, ...), else the vendored list
       (`data/referrers.json`) for the host or, failing that, for its
       nearest listed parent domain (`cn.bing.com` is `Bing`); a host the list
       names as something else (webmail, an ad server) stops the search;
    3. else the referrer host; 4. else `Direct`.

channel (first rule that holds; UTM values compared ignoring case and spaces)
    1. `Direct`: no referrer and no UTM field.
    2. utmMedium paid (`cpc`, `ppc`, `paid`, `paidsearch`, `paid_social`,
       `paidsocial`): `Paid Social` when the medium says social or the network
       is a social network, else `Paid Search`.
    3. `Email`: utmMedium or utmSource is `email` or `newsletter`.
    4. `Organic Social` / `Organic Search`: the network is one. The network is
       the one utmSource names (`facebook`, `fb`, `x`, `google`,
       `l.facebook.com`, ...) or, when it names none, the referrer's.
    5. `Referral`: any other referrer.
    6. `Other`: UTM fields that fit none of the above.

    Examples: utm_source=google&utm_medium=cpc, no referrer: Paid Search;
    utm_source=facebook&utm_medium=paid_social: Paid Social;
    utm_source=foo&utm_medium=cpc: Paid Search; a Google referrer, no UTM:
    Organic Search; utm_source=newsletter: Email; utm_source=foo only: Other;
    utm_source=foo with a referrer from a blog: Referral.

Privacy: only host names of referring pages are kept (in the visit); paths
and queries of referrers are dropped. The list is loaded once per process.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit

import msgspec

REFERRERS_FILE = Path(__file__).parent / "data" / "referrers.json"
PAID_MEDIUMS = frozenset({"cpc", "ppc", "paid", "paidsearch", "paid_social", "paidsocial"})
SOCIAL_PAID_MEDIUMS = frozenset({"paid_social", "paidsocial"})
EMAIL_WORDS = frozenset({"email", "newsletter"})
UTM_KEYS = ("source", "medium", "campaign", "term", "content")
GOOGLE_HOST = re.compile(r"google\.(?:com?\.)?[a-z]{2,3}")
PLAIN_HOST = re.compile(r"[a-z0-9._:-]{1,253}")

RENAMED = {"Twitter": "X", "Youtube": "YouTube"}
"""The list's names replaced by the ones the spec and the networks use today."""

ADDED = {"tiktok.com": ("TikTok", "social"), "threads.net": ("Threads", "social"),
         "threads.com": ("Threads", "social"), "startpage.com": ("Startpage", "search"),
         "kagi.com": ("Kagi", "search")}
"""Networks the vendored list lacks."""

ALIASES = {"fb": "facebook", "meta": "facebook", "ig": "instagram", "yt": "youtube", "tw": "twitter",
           "li": "linkedin"}
"""Short utm_source values campaigns commonly use for a network."""


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


class Network(NamedTuple):
    name: str
    kind: str  # "search" or "social"


GOOGLE = Network("Google", "search")


def visit_source(page_view_data: object) -> Source:
    """Referrer, UTM fields, source and channel of a visit from its first page view's data."""
    data = page_view_data if isinstance(page_view_data, dict) else {}
    referrer = referrer_host(data.get("referrer"), data.get("host"))
    utm = utm_fields(data.get("utm"))
    network = network_named(utm[0]) or network_of_host(referrer)
    return Source(referrer, *utm, source=_source(referrer, utm[0]),
                  channel=channel(referrer is not None, utm, network))


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


def _source(referrer: str | None, utm_source: str | None) -> str:
    if utm_source is not None:
        return utm_source
    network = network_of_host(referrer)
    return network.name if network else referrer or "Direct"


def channel(has_referrer: bool, utm: tuple[str | None, ...], network: Network | None) -> str:
    """The channel by the rules in this module's docstring."""
    source, medium = (_word(value) for value in utm[:2])
    if not has_referrer and not any(utm):
        return "Direct"
    if medium in PAID_MEDIUMS:
        social = medium in SOCIAL_PAID_MEDIUMS or (network is not None and network.kind == "social")
        return "Paid Social" if social else "Paid Search"
    if medium in EMAIL_WORDS or source in EMAIL_WORDS:
        return "Email"
    if network is not None:
        return "Organic Social" if network.kind == "social" else "Organic Search"
    return "Referral" if has_referrer else "Other"


def _word(value: str | None) -> str:
    return value.strip().lower() if value else ""


def network_of_host(host: str | None) -> Network | None:
    """The search engine or social network of a normalised host (or its nearest listed parent)."""
    if host is None:
        return None
    if GOOGLE_HOST.fullmatch(host):
        return GOOGLE
    hosts = _networks_by_host()
    candidate = host
    while "." in candidate:
        if candidate in hosts:
            return hosts[candidate]
        candidate = candidate.split(".", 1)[1]
    return None


def network_named(utm_source: str | None) -> Network | None:
    """The network a utm_source names: by host (`l.facebook.com`), name or alias (`fb`)."""
    word = _word(utm_source)
    if "." in word:
        return network_of_host(normalise_host(word))
    return _networks_by_name().get(ALIASES.get(word, word))


@cache
def _networks_by_host() -> dict[str, Network | None]:
    """Host (without `www.`) to its network; None for listed hosts that are neither kind."""
    listed = json.loads(REFERRERS_FILE.read_text(encoding="utf-8"))
    hosts: dict[str, Network | None] = {}
    for key, entry in listed.items():
        if "/" not in key:  # entries with a path narrow a host already listed
            hosts[_normalised(key) or key] = _network(entry.get("source"), entry.get("medium"))
    hosts.update((host, Network(*named)) for host, named in ADDED.items())
    return hosts


def _network(name: object, medium: object) -> Network | None:
    if medium not in ("search", "social") or not isinstance(name, str):
        return None
    return Network(RENAMED.get(name, name), medium)


@cache
def _networks_by_name() -> dict[str, Network]:
    """Lowercased network names (also the list's former names, and without punctuation)."""
    renamed_from = {new: old for old, new in RENAMED.items()}
    networks = [GOOGLE, *filter(None, _networks_by_host().values())]
    names: dict[str, Network] = {}
    for network in networks:
        for name in (network.name, renamed_from.get(network.name, network.name)):
            names.setdefault(name.lower(), network)
    for network in networks:
        names.setdefault(re.sub(r"[^a-z0-9]", "", network.name.lower()), network)
    return names
