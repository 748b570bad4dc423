"""Names of traffic sources: which search engine, network, assistant or site a host or tag means.

A visit's `source` names where it came from, so that `google.co.uk`,
`www.google.com` and `google.de` all read `Google` and every Yandex domain
`Yandex`. `name_of_host(host)` answers a `Named` (the name and, where the
list says so, its kind: `search`, `social` or `email`) for a normalised
referrer host, from, in this order:

1. the hosts named here (`NAMED`: AI assistants, messengers and engines the
   vendored list lacks or names as something else);
2. `google.<tld>` and `google.co(m).<cc>` are `Google`, any `yandex.<tld>`
   (with its subdomains) and `ya.ru` are `Yandex`;
3. the vendored list (`data/referrers.json`), except its entries of unknown
   kind, which only name a product's parent company (`drive.google.com`);
4. else the nearest listed parent domain (`cn.bing.com` is `Bing`,
   `en.m.wikipedia.org` `Wikipedia`), but never through a portal whose
   subdomains are products of their own: `docs.google.com`,
   `finance.yahoo.com` or `blog.naver.com` are no search engine's.

`name_of_tag(utm_source)` reads a campaign's `utm_source` the same way: a
name in any case (`google`, `Facebook`), a host (`l.facebook.com`) or a
common shorthand (`fb`, `ig`, `yt`, `adwords`; from Plausible's
`custom_sources.json`). The visit's `source` keeps the tag as sent; the name
only decides its channel (see `channels.py`). `PAID_TAGS` are the tags that
mean a paid campaign whatever the medium (`fb-ads`, `google_ads`, ...).

The list is read once per process, on first use.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import NamedTuple

REFERRERS_FILE = Path(__file__).parent / "data" / "referrers.json"

GOOGLE_HOST = re.compile(r"google\.(?:com?\.)?[a-z]{2,3}")
YANDEX_HOST = re.compile(r"(?:.+\.)?(?:yandex\.(?:com?\.)?[a-z]{2,3}|ya\.ru)")
PORTALS = frozenset({"google", "yahoo", "microsoft", "live", "office", "naver", "baidu", "apple"})
"""Second-level names whose unlisted subdomains are separate products, not the parent's engine."""

KINDS = frozenset({"search", "social", "email"})
RENAMED = {"Twitter": "X", "Youtube": "YouTube"}
"""The list's names replaced by the ones the spec and the networks use today."""

NAMED = {
    "gemini.google.com": "Google Gemini", "chatgpt.com": "ChatGPT", "chat.openai.com": "ChatGPT",
    "perplexity.ai": "Perplexity", "pplx.ai": "Perplexity", "claude.ai": "Claude",
    "copilot.microsoft.com": "Microsoft Copilot", "copilot.com": "Microsoft Copilot",
    "phind.com": "Phind", "deepseek.com": "DeepSeek", "grok.com": "Grok",
    "t.me": "Telegram", "telegram.org": "Telegram", "telegram.me": "Telegram",
    "discord.com": "Discord", "discordapp.com": "Discord", "whatsapp.com": "WhatsApp",
    "wa.me": "WhatsApp", "slack.com": "Slack", "messenger.com": "Messenger",
    "teams.microsoft.com": "Microsoft Teams", "statics.teams.cdn.office.net": "Microsoft Teams",
    "officeapps.live.com": "Microsoft 365", "ntp.msn.com": "Bing",
    "baidu.com": "Baidu", "sogou.com": "Sogou", "naver.com": "Naver", "m.naver.com": "Naver",
    "m.search.naver.com": "Naver", "seznam.cz": "Seznam", "kagi.com": "Kagi",
    "startpage.com": "Startpage", "qwant.com": "Qwant", "tiktok.com": "TikTok",
    "threads.net": "Threads", "threads.com": "Threads", "linktr.ee": "Linktree",
    "wikipedia.org": "Wikipedia", "producthunt.com": "Product Hunt",
    "steamcommunity.com": "Steam Community", "temu.com": "Temu",
}
"""Hosts (and their subdomains) the vendored list lacks or names otherwise."""

TAG_ALIASES = {
    "fb": "Facebook", "fb-ads": "Facebook", "fbads": "Facebook", "fbad": "Facebook",
    "facebook-ads": "Facebook", "facebook_ads": "Facebook", "fcb": "Facebook",
    "facebook_ad": "Facebook", "facebook_feed_ad": "Facebook", "ig": "Instagram",
    "yt": "YouTube", "yt-ads": "YouTube", "reddit-ads": "Reddit", "google_ads": "Google",
    "google-ads": "Google", "googleads": "Google", "gads": "Google", "google ads": "Google",
    "adwords": "Google", "twitter-ads": "X", "tiktokads": "TikTok", "tik.tok": "TikTok",
    "twitter": "X", "x (twitter)": "X", "li": "LinkedIn",
}
"""utm_source shorthands campaigns use for a network (Plausible's `custom_sources.json`, and `li`)."""

PAID_TAGS = frozenset({tag for tag in TAG_ALIASES if tag.endswith(("ads", "ad"))} | {"adwords"})


class Named(NamedTuple):
    name: str
    kind: str | None  # "search", "social" or "email" when the list says so


GOOGLE = Named("Google", "search")
YANDEX = Named("Yandex", "search")


def name_of_host(host: str | None) -> Named | None:
    """The source a normalised referrer host (no `www.`) belongs to, None when unknown."""
    if not host:
        return None
    if GOOGLE_HOST.fullmatch(host):
        return GOOGLE
    if YANDEX_HOST.fullmatch(host):
        return YANDEX
    hosts = _hosts()
    candidate = host
    while True:
        named = hosts.get(candidate)
        if named is not None:
            return named
        parent = candidate.partition(".")[2]
        if "." not in parent or parent.split(".")[0] in PORTALS:
            return None
        candidate = parent


def name_of_tag(utm_source: str | None) -> Named | None:
    """The source a `utm_source` value names: a shorthand, a name in any case, or a host."""
    tag = (utm_source or "").strip().lower()
    if not tag:
        return None
    aliased = TAG_ALIASES.get(tag)
    if aliased is not None:
        return _names().get(aliased.lower(), Named(aliased, None))
    return _names().get(tag) or (name_of_host(tag.removeprefix("www.")) if "." in tag else None)


@cache
def _hosts() -> dict[str, Named]:
    """Host to source, from the vendored list and `NAMED`."""
    listed = json.loads(REFERRERS_FILE.read_text(encoding="utf-8"))
    hosts = {}
    for key, entry in listed.items():
        name, kind = entry.get("source"), entry.get("medium")
        if "/" in key or not isinstance(name, str) or kind == "unknown":
            continue  # entries with a path narrow a host already listed
        hosts[key.removeprefix("www.")] = Named(RENAMED.get(name, name), kind if kind in KINDS else None)
    kinds = {named.name: named.kind for named in hosts.values() if named.kind}
    hosts.update((host, Named(name, kinds.get(name))) for host, name in NAMED.items())
    return hosts


@cache
def _names() -> dict[str, Named]:
    """Every known source by its lowercased name (and its name before `RENAMED`)."""
    names: dict[str, Named] = {}
    for named in (GOOGLE, YANDEX, *_hosts().values()):
        if named.kind or named.name.lower() not in names:
            names[named.name.lower()] = named
    for old, new in RENAMED.items():
        names.setdefault(old.lower(), names[new.lower()])
    return names
