"""A visit's channel: Google Analytics 4's default channel group, as Plausible applies it.

Reports then compare with the tools site owners come from. The rules are
GA4's (support.google.com/analytics/answer/9756891), in Plausible's order
and with Plausible's additions (`AI Assistants`; `newsletter` as email;
shorthand campaign sources such as `fb-ads` as paid); the first that holds
names the channel. UTM values are compared lowercased and trimmed. The
source's category (search, social, video, shopping, email, AI assistant)
comes from Google's published list (`data/ga4-source-categories.csv`,
vendored), the additions in `ADDED_CATEGORIES`, and, for sources neither
knows, the kind the referrer list gives (`source_names.py`).

 1. Cross-network: utm_campaign contains `cross-network`.
 2. Paid Shopping: a shopping source or campaign (`shop`, `shopping`), paid medium.
 3. Paid Search: a search source with a paid medium or tag; or Google with a
    `gclid`, `gbraid` or `wbraid`, Bing with an `msclkid`.
 4. Paid Social, 5. Paid Video: a social / video source with a paid medium or tag.
 6. Display: utm_medium `display`, `banner`, `expandable`, `interstitial`, `cpm`.
 7. Paid Other: a paid medium: `^(.*cp.*|ppc|retargeting|paid.*)$`.
 8. Organic Shopping: a shopping source or campaign.
 9. Organic Social: a social source, or utm_medium `social`, `sm`, `social-media`, ...
10. Organic Video: a video source, or utm_medium containing `video`.
11. AI Assistants: an assistant (ChatGPT, Perplexity, Gemini, Claude, Copilot, ...).
12. Organic Search: a search source.
13. Email: an email source, or utm_source or utm_medium containing `email`,
    `e-mail`, `e_mail`, `e mail` or `newsletter`.
14. Affiliates: utm_medium `affiliate`. 15. Audio: utm_medium `audio`.
16. SMS: utm_source or utm_medium `sms`.
17. Mobile Push Notifications: utm_medium ending in `push` or containing
    `mobile` or `notification`, or utm_source `firebase`.
18. Referral: utm_medium `referral`, `app` or `link`, or any referrer.
19. Unassigned: UTM fields that fit none of the above (GA4's name for them).
20. Direct: no referrer, no UTM field and no click id.
"""

from __future__ import annotations

import csv
import re
from functools import cache
from pathlib import Path

from tracker.enrich.source_names import PAID_TAGS, PORTALS, Named, name_of_host, name_of_tag

CATEGORIES_FILE = Path(__file__).parent / "data" / "ga4-source-categories.csv"

ADDED_CATEGORIES = {
    "search": ("yahoo!", "ecosia", "brave", "brave search", "sogou", "kagi", "startpage"),
    "social": ("hacker news", "telegram", "slack", "producthunt", "product hunt", "github",
               "steamcommunity.com", "steam community", "statics.teams.cdn.office.net",
               "microsoft teams", "vkontakte", "threads", "discord", "bluesky", "mastodon", "x",
               "x.com", "x (twitter)"),
    "email": ("gmail",),
    "shopping": ("temu.com", "temu"),
    "ai": ("chatgpt", "chatgpt.com", "claude", "phind", "deepseek", "copilot",
           "microsoft copilot", "grok", "google gemini", "gemini", "perplexity"),
}
"""Sources Google's list lacks, categorised as Plausible does (its `@custom_source_categories`)."""

PAID_MEDIUM = re.compile(r"^(.*cp.*|ppc|retargeting|paid.*)$")
SHOPPING_CAMPAIGN = re.compile(r"^(.*(([^a-df-z]|^)shop|shopping).*)$")
DISPLAY_MEDIUMS = frozenset({"display", "banner", "expandable", "interstitial", "cpm"})
SOCIAL_MEDIUMS = frozenset({"social", "social-network", "social-media", "sm", "social network",
                            "social media"})
EMAIL_TAGS = ("email", "e-mail", "e_mail", "e mail", "newsletter")
REFERRAL_MEDIUMS = frozenset({"referral", "app", "link"})
PAID_CLICKS = {"google": frozenset({"gclid", "gbraid", "wbraid"}), "bing": frozenset({"msclkid"})}


def channel(referrer: str | None, utm: tuple[str | None, ...], source: str,
            click_ids: frozenset[str] = frozenset()) -> str:
    """The channel of a visit: its referrer host, UTM fields (source, medium, campaign, ...),
    the source it was given and the click ids of its page URL."""
    tag, medium, campaign = (_word(value) for value in utm[:3])
    if referrer is None and not any(utm) and not click_ids:
        return "Direct"
    kind = category(referrer, utm[0])
    paid = bool(PAID_MEDIUM.match(medium)) or tag in PAID_TAGS
    shopping = kind == "shopping" or bool(SHOPPING_CAMPAIGN.match(campaign))
    if "cross-network" in campaign:
        return "Cross-network"
    if shopping and PAID_MEDIUM.match(medium):
        return "Paid Shopping"
    if (kind == "search" and paid) or click_ids & PAID_CLICKS.get(source.lower(), frozenset()):
        return "Paid Search"
    if kind in ("social", "video") and paid:
        return f"Paid {kind.title()}"
    return _unpaid(referrer, tag, medium, kind, shopping)


def _unpaid(referrer: str | None, tag: str, medium: str, kind: str | None, shopping: bool) -> str:
    if medium in DISPLAY_MEDIUMS:
        return "Display"
    if PAID_MEDIUM.match(medium):
        return "Paid Other"
    if shopping:
        return "Organic Shopping"
    if kind == "social" or medium in SOCIAL_MEDIUMS:
        return "Organic Social"
    if kind == "video" or "video" in medium:
        return "Organic Video"
    if kind == "ai":
        return "AI Assistants"
    if kind == "search":
        return "Organic Search"
    return _tagged(referrer, tag, medium, kind)


def _tagged(referrer: str | None, tag: str, medium: str, kind: str | None) -> str:
    if kind == "email" or any(word in tag or word in medium for word in EMAIL_TAGS):
        return "Email"
    if medium in ("affiliate", "audio"):
        return "Affiliates" if medium == "affiliate" else "Audio"
    if "sms" in (tag, medium):
        return "SMS"
    if medium.endswith("push") or "mobile" in medium or "notification" in medium or tag == "firebase":
        return "Mobile Push Notifications"
    if medium in REFERRAL_MEDIUMS or referrer is not None:
        return "Referral"
    return "Unassigned"


def category(referrer: str | None, utm_source: str | None) -> str | None:
    """`search`, `social`, `video`, `shopping`, `email`, `ai` or None for the visit's source:
    its utm_source when set (as GA4 reads it), else its referrer host."""
    if utm_source is not None and utm_source.strip():
        tag = utm_source.strip().lower()
        return _category_of(tag, name_of_tag(tag))
    if referrer is None:
        return None
    return _category_of(referrer, name_of_host(referrer)) or _parent_category(referrer)


def _category_of(key: str, named: Named | None) -> str | None:
    categories = _categories()
    found = categories.get(key)
    if found is None and named is not None:
        found = categories.get(named.name.lower(), named.kind)
    return found


def _parent_category(host: str) -> str | None:
    """The category Google's list gives the nearest parent domain (not through a portal)."""
    categories = _categories()
    parent = host.partition(".")[2]
    while "." in parent and parent.split(".")[0] not in PORTALS:
        if parent in categories:
            return categories[parent]
        parent = parent.partition(".")[2]
    return None


@cache
def _categories() -> dict[str, str]:
    """Lowercased source or host to category: Google's list, then the additions."""
    with CATEGORIES_FILE.open(encoding="utf-8", newline="") as listed:
        rows = list(csv.reader(listed))[1:]
    found = {source.strip().lower(): kind.removeprefix("SOURCE_CATEGORY_").lower()
             for source, kind in rows}
    for kind, sources in ADDED_CATEGORIES.items():
        found.update(dict.fromkeys(sources, kind))
    return found


def _word(value: str | None) -> str:
    return value.strip().lower() if value else ""
