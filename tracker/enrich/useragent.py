"""Browser, operating system and device class of a `User-Agent` header.

`parse(user_agent)` gives an `Agent` with the family names of ua-parser
(`Chrome`, `Firefox`, `Mobile Safari`, ...; `Windows`, `iOS`, `Android`,
...), None when unknown, and a device class, the first that holds:

- None when the header is missing or blank, or ua-parser recognises nothing
  in it (no browser, system or device);
- `desktop` for televisions, game consoles and cars, as Plausible counts
  them: their markers (`SmartTV`, `HbbTV`, `Web0S`, `BRAVIA`, Fire TV's
  `AFT...`, `PlayStation`, `Xbox`, `Nintendo`, Tesla's, ...) or, outside
  Windows, macOS and iOS, Matomo's television, console and car lists (the
  `device-detector` package);
- `tablet`: an iPad, ua-parser's tablet families, a device model that
  names a tablet even when the header says `Mobile` (`...Pad`, `...Tab`,
  Kindle Fire's `KF...`, Galaxy Tab's `SM-T...`, Nexus 7, ...), a `Tablet`
  token (Firefox on Android tablets), or an Android browser without
  `Mobile` (Chrome and most Android browsers leave it out on tablets);
- `mobile`: a `Mobi` token (the test MDN recommends), a phone or watch
  family, or a phone or watch system (an Android app's own HTTP client,
  which sends no `Mobile`, is a phone);
- `desktop`: anything else, including bots.

An iPad in desktop mode (Safari's default since iPadOS 13) sends a Mac
User-Agent and counts as `desktop`: the header cannot tell them apart. Nor
can it tell Android TV boxes, car head units and handheld consoles whose
model only Matomo's full device list knows (too slow to ask per header).

Privacy and memory: nothing is written. Each process keeps in memory the
results for the last `CACHE_SIZE` distinct headers (each cut to
`MAX_LENGTH` characters), so at most about 10 MB, until it exits.
`cache_info()` gives the hits and misses for a metric.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache

import msgspec
import ua_parser
from device_detector.parser import CarBrowser, Console, HbbTv, ShellTv
from ua_parser import Domain, Result

CACHE_SIZE = 10_000
MAX_LENGTH = 1024

TABLET_FAMILIES = frozenset({"iPad", "Generic Tablet", "Generic_Android_Tablet"})
TABLET_MODEL = re.compile(r"(?:Pad|Tab|TAB|Tablet)(?:\b|_)|^KF[A-Z]{2,5}\b|^Nexus (?:7|9|10)\b|^SM-[TPX]\d"
                          r"|^GT-P\d|MediaPad|MatePad|Xoom")
"""Device models ua-parser reports that are tablets whatever their header says (`Mobile`)."""
PHONE_FAMILIES = frozenset({"iPhone", "iPod", "Generic Smartphone", "Generic Feature Phone",
                            "Apple Watch"})
PHONE_SYSTEMS = frozenset({"iOS", "Android", "Windows Phone", "BlackBerry OS", "KaiOS",
                           "Firefox OS", "Symbian OS", "Tizen", "WatchOS"})
BIG_SCREEN = re.compile(
    r"SmartTV|SMART-TV|Smart-TV|HbbTV|Tizen[^;)]* TV\b|Web0S|webOS\.TV|NetCast|BRAVIA|\bAFT[A-Z]"
    r"|CrKey|Google ?TV|Android ?TV|AppleTV|tvOS|Roku|\bDTV\b|VIDAA|Opera TV|OMI/|Viera|PhilipsTV"
    r"|Large Screen| TV$|PlayStation|PLAYSTATION|Xbox|Nintendo|OUYA|QtCarBrowser|Tesla/|CarBrowser"
    r"|Android Automotive")
"""Markers of televisions, game consoles and cars in a header (after Matomo's generic rules)."""
BIG_SCREEN_FAMILIES = ("PlayStation", "Xbox", "Nintendo", "HbbTV", "Roku", "AppleTV", "Chromecast")
BROWSER = re.compile(r"Safari/|Firefox/")
MATOMO_BIG_SCREENS = (HbbTv, ShellTv, Console, CarBrowser)
"""Matomo's own television, console and car parsers (its full device list is too slow per call)."""


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


def device_class(user_agent: str, result: Result) -> str | None:
    """`desktop`, `tablet`, `mobile` or None for a header and its ua-parser result."""
    device, system = _family(result.device), _family(result.os)
    if device is None and system is None and _family(result.user_agent) is None:
        return None
    if _is_big_screen(user_agent, device, system):
        return "desktop"
    if _is_tablet(user_agent, device, getattr(result.device, "model", None) or "", system):
        return "tablet"
    if "Mobi" in user_agent or device in PHONE_FAMILIES or system in PHONE_SYSTEMS:
        return "mobile"
    return "desktop"


def _is_big_screen(user_agent: str, device: str | None, system: str | None) -> bool:
    """A television, game console or car: by its markers, or by Matomo's lists of them
    (not asked for Windows, macOS and iOS, most headers, which those devices do not run)."""
    if BIG_SCREEN.search(user_agent) or (device or "").startswith(BIG_SCREEN_FAMILIES):
        return True
    if system in ("Windows", "Mac OS X", "iOS"):
        return False
    return any(parser(user_agent, None).parse().ua_data for parser in MATOMO_BIG_SCREENS)


def _is_tablet(user_agent: str, device: str | None, model: str, system: str | None) -> bool:
    if device in TABLET_FAMILIES or (device or "").startswith("Kindle") or TABLET_MODEL.search(model):
        return True
    if "Tablet" in user_agent and "Tablet PC" not in user_agent:
        return True
    # Chrome and most Android browsers leave `Mobile` out on tablets; apps' own clients
    # (Dalvik, okhttp) leave it out on phones too, so only a browser's header says so.
    return system == "Android" and "Mobile" not in user_agent and BROWSER.search(user_agent) is not None
