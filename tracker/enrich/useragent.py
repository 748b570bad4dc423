"""Browser, operating system and device class of a `User-Agent` header.

`parse(user_agent)` gives an `Agent` with the family names of ua-parser
(`Chrome`, `Firefox`, `Mobile Safari`, ...; `Windows`, `iOS`, `Android`,
...), None when unknown, and a device class:

- `tablet`: an iPad, a Kindle, ua-parser's `Generic Tablet`, a `Tablet`
  token (Firefox on Android tablets), or Android without `Mobile` (Chrome and
  most Android browsers leave `Mobile` out on tablets);
- `mobile`: a `Mobi` token (the test MDN recommends) or a phone family or
  operating system;
- `desktop`: anything else, including bots;
- None when the header is missing or blank.

An iPad in desktop mode (Safari's default since iPadOS 13) sends a Mac
User-Agent and counts as `desktop`: the header cannot tell them apart.

Privacy and memory: nothing is written. Each process keeps in memory the
results for the last `CACHE_SIZE` distinct headers (each cut to
`MAX_LENGTH` characters), so at most about 10 MB, until it exits.
`cache_info()` gives the hits and misses for a metric.
"""

from __future__ import annotations

from functools import cache, lru_cache

import msgspec
import ua_parser
from ua_parser import Domain, Result

CACHE_SIZE = 10_000
MAX_LENGTH = 1024

TABLET_FAMILIES = frozenset({"iPad", "Kindle", "Kindle Fire", "Generic Tablet"})
PHONE_FAMILIES = frozenset({"iPhone", "iPod", "Generic Smartphone", "Generic Feature Phone"})
PHONE_SYSTEMS = frozenset({"iOS", "Android", "Windows Phone", "BlackBerry OS", "KaiOS",
                           "Firefox OS", "Symbian OS", "Tizen"})


class Agent(msgspec.Struct, frozen=True):
    """What a User-Agent header says: family names, None when unknown."""

    browser: str | None
    os: str | None
    device: str | None


UNKNOWN = Agent(browser=None, os=None, device=None)


def parse(user_agent: str | None) -> Agent:
    """The browser, OS and device class of a User-Agent header (cached per header)."""
    if not user_agent or user_agent.isspace():
        return UNKNOWN
    return _parse_cached(user_agent[:MAX_LENGTH])


@lru_cache(maxsize=CACHE_SIZE)
def _parse_cached(user_agent: str) -> Agent:
    result = _resolver()(user_agent, Domain.ALL).complete()
    return Agent(browser=_family(result.user_agent), os=_family(result.os),
                 device=device_class(user_agent, result))


cache_info = _parse_cached.cache_info
"""Hits, misses, maxsize and currsize of the per-process cache (`functools` style)."""

cache_clear = _parse_cached.cache_clear


@cache
def _resolver() -> ua_parser.Resolver:
    # ua-parser-rs when installed (about 50 times faster than the pure-Python matcher);
    # the parsed results are cached above, so ua-parser's own cache is left out.
    return ua_parser.BestAvailableResolver(ua_parser.load_lazy_builtins())


def _family(part: object) -> str | None:
    family = getattr(part, "family", None)
    return None if family in (None, "", "Other") else family


def device_class(user_agent: str, result: Result) -> str:
    """`tablet`, `mobile` or `desktop` for a header and its ua-parser result."""
    device = _family(result.device)
    system = _family(result.os)
    if _is_tablet(user_agent, device, system):
        return "tablet"
    if "Mobi" in user_agent or device in PHONE_FAMILIES or system in PHONE_SYSTEMS:
        return "mobile"
    return "desktop"


def _is_tablet(user_agent: str, device: str | None, system: str | None) -> bool:
    if device in TABLET_FAMILIES:
        return True
    if "Tablet" in user_agent and "Tablet PC" not in user_agent:
        return True
    return system == "Android" and "Mobile" not in user_agent
