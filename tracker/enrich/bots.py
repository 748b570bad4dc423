"""Whether a `User-Agent` header belongs to a crawler, a script or a headless browser.

`is_bot(user_agent)` is True for a missing or blank header and for one that
either of two maintained lists names:

- Matomo's, as the `device-detector` package carries them: its bot list
  (search, SEO and AI crawlers such as GPTBot, ClaudeBot or
  Perplexity-User, monitoring, link previewers, and generic names such as a
  bare `node`) and its list of HTTP libraries and API tools (`Java/...`,
  `PostmanRuntime`, `python-urllib3`, `node-fetch`, `undici`, Deno, Bun,
  Insomnia, ...), which Matomo reports as clients of type library;
- crawler-user-agents (monperrus/crawler-user-agents: crawlers, curl, wget,
  python-requests, headless browsers that say so, such as `HeadlessChrome`),
  its patterns matched case-sensitively, as its maintainers test them.

Matomo's lists are asked first: they prefilter their patterns by literal
substrings and answer in microseconds, while crawler-user-agents tries its
patterns one after another. Both are loaded once, on first use.

A headless browser that sends an ordinary browser header (Playwright's
Firefox, a scraper copying Chrome's header) cannot be told from a person by
the header alone and is not caught here.

Privacy and memory: nothing is written. Each process keeps in memory the
answers for the last `CACHE_SIZE` distinct headers (each cut to
`MAX_LENGTH` characters) until it exits; `cache_info()` gives hits and misses.
"""

from __future__ import annotations

from functools import lru_cache

import crawleruseragents
from device_detector.parser import Bot, Library

CACHE_SIZE = 10_000
MAX_LENGTH = 1024


def is_bot(user_agent: str | None) -> bool:
    """True for a missing or blank header and for a listed crawler, library or headless browser."""
    if not user_agent or user_agent.isspace():
        return True
    return _listed(user_agent[:MAX_LENGTH])


@lru_cache(maxsize=CACHE_SIZE)
def _listed(user_agent: str) -> bool:
    return (Bot(user_agent, None).parse().is_bot() or bool(Library(user_agent, None).parse().ua_data)
            or crawleruseragents.is_crawler(user_agent))


cache_info = _listed.cache_info
"""Hits, misses, maxsize and currsize of the per-process cache (`functools` style)."""

cache_clear = _listed.cache_clear
