"""A brute-force /stats and /breakdown: every number computed from the plain list of movements.

Shares no code with the service. A stored movement is a dict with `userId`,
`sessionId`, `timestamp`, `event`, `data` and the context of the request that
stored it: `browser`, `os`, `device`, `country`, `region`, `city` (None when
left out). The list is in the order the service stored the movements, which
breaks ties between equal timestamps.

Sources have a name and a GA4 category only for the few the tests use
(`HOSTS`, `TAGS`, and `Google` for a bare `google.<tld>`): data naming other
sources would be counted as plain referrals. The channel is GA4's default
channel group, its rules transcribed in order from Google's help page and
Plausible's additions (`CHANNEL_RULES`).

Windows are given explicitly (`start` inclusive, `end` exclusive); buckets
come from `analytics_reference`, the same rule as /analytics.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from urllib.parse import urlsplit

import msgspec

from analytics_reference import bucket_starts, expected_bucket

UTM_KEYS = {"utmSource": "source", "utmMedium": "medium", "utmCampaign": "campaign",
            "utmTerm": "term", "utmContent": "content"}
CONTEXT_DIMENSIONS = ("browser", "os", "device", "country", "region", "city")
VISIT_DIMENSIONS = ("entryPage", "exitPage", "referrer", "source", "channel", *UTM_KEYS,
                    *CONTEXT_DIMENSIONS)
FILTER_DIMENSIONS = (*VISIT_DIMENSIONS, "page")

HOSTS = {
    "t.co": ("X", "social"), "twitter.com": ("X", "social"), "x.com": ("X", "social"),
    "facebook.com": ("Facebook", "social"), "bing.com": ("Bing", "search"),
    "duckduckgo.com": ("DuckDuckGo", "search"), "yandex.com.tr": ("Yandex", "search"),
    "t.me": ("Telegram", "social"), "chatgpt.com": ("ChatGPT", "ai"),
    "amazon.com": ("Amazon", "shopping"), "youtube.com": ("YouTube", "video"),
}
"""Referrer hosts (without `www.`) the tests use that name a source, with its category."""
TAGS = {"google": "search", "bing": "search", "facebook": "social", "fb-ads": "social",
        "yt": "video", "x": "social"}
"""The categories of the `utm_source` values the tests use (compared lowercased)."""
PAID_TAGS = {"fb-ads"}
CLICK_NETWORKS = {"gclid": "Google", "gbraid": "Google", "wbraid": "Google", "msclkid": "Bing"}


class UnknownDimension(ValueError):
    """A filter or `by` names no dimension: the service answers 422."""


class MissingEvent(ValueError):
    """`by=prop:KEY` without `event`: the service answers 422."""


@dataclass
class Visit:
    """One (userId, sessionId) pair: its movements in storage order and its dimensions."""

    user: str
    session: str
    movements: list[dict]
    first: int
    last: int
    dimensions: dict[str, str | None]

    @property
    def bounced(self) -> bool:
        return len(self.movements) == 1

    @property
    def duration(self) -> int:
        return self.last - self.first

    @property
    def paths(self) -> set:
        return {path_of(m) for m in self.movements if m["event"] == "page_view"}


def data_of(movement: dict) -> dict:
    return movement.get("data") or {}


def path_of(movement: dict) -> str | None:
    path = data_of(movement).get("path")
    return path if isinstance(path, str) else None


def timestamp(movement: dict) -> int:
    return movement["timestamp"]


def build_visits(stored: list[dict]) -> list[Visit]:
    grouped: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for movement in stored:
        grouped[(movement["userId"], movement["sessionId"])].append(movement)
    return [visit_of(user, session, movements) for (user, session), movements in grouped.items()]


def visit_of(user: str, session: str, movements: list[dict]) -> Visit:
    # min and max keep the first of equal items: storage order breaks ties.
    first = min(movements, key=timestamp)
    views = [m for m in movements if m["event"] == "page_view"]
    entry = min(views, key=timestamp, default=None)
    exit_ = max(reversed(views), key=timestamp, default=None)  # of equal ones, the stored last
    dimensions = {
        "entryPage": path_of(entry) if entry else None,
        "exitPage": path_of(exit_) if exit_ else None,
        **acquisition(data_of(entry) if entry else {}),
        **{name: first.get(name) for name in CONTEXT_DIMENSIONS},
    }
    return Visit(user, session, movements, first["timestamp"], max(map(timestamp, movements)),
                 dimensions)


def acquisition(data: dict) -> dict[str, str | None]:
    """referrer, the utm fields, source and channel from the entry page view's data."""
    referrer = referrer_host(data.get("referrer"), data.get("host"))
    utm = utm_fields(data.get("utm"))
    clicks = data.get("clickId")
    clicks = {key for key, value in clicks.items() if value is True} if isinstance(clicks, dict) else set()
    named = source(referrer, utm["utmSource"], clicks)
    return {"referrer": referrer, **utm, "source": named, "channel": channel(referrer, utm, named, clicks)}


def referrer_host(referrer: object, page_host: object) -> str | None:
    if not isinstance(referrer, str):
        return None
    parts = urlsplit(referrer)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    host = bare_host(parts.hostname)
    return None if host == page_host_of(page_host) else host


def page_host_of(page_host: object) -> str | None:
    """`data.host` as compared with a referrer: `location.host` may carry a port and `www.`."""
    if not isinstance(page_host, str):
        return None
    hostname = urlsplit("//" + page_host).hostname
    return bare_host(hostname) if hostname else None


def bare_host(hostname: str) -> str:
    return hostname.lower().removeprefix("www.")


def utm_fields(utm: object) -> dict[str, str | None]:
    """The utm strings; a blank one is what the page's query had no value for: absent."""
    found = utm if isinstance(utm, dict) else {}
    return {name: value if isinstance(value := found.get(key), str) and value.strip() else None
            for name, key in UTM_KEYS.items()}


def host_entry(host: str | None) -> tuple[str, str] | None:
    if host is None:
        return None
    if host.startswith("google.") and host.count(".") <= 2:
        return ("Google", "search")
    return HOSTS.get(host)


def source(referrer: str | None, utm_source: str | None, clicks: set[str]) -> str:
    if utm_source is not None:
        return utm_source
    if referrer is not None:
        entry = host_entry(referrer)
        return entry[0] if entry else referrer
    networks = sorted(CLICK_NETWORKS[c] for c in clicks if c in CLICK_NETWORKS)
    return networks[0] if networks else "Direct"


def channel(referrer: str | None, utm: dict[str, str | None], named: str, clicks: set[str]) -> str:
    """The first of `CHANNEL_RULES` that holds."""
    # utm_term and utm_content say nothing of where a visit came from (GA4 reads neither).
    tagged = any(utm[key] for key in ("utmSource", "utmMedium", "utmCampaign"))
    if referrer is None and not tagged and not clicks & CLICK_NETWORKS.keys():
        return "Direct"
    tag, medium, campaign = (
        (utm[key] or "").strip().lower() for key in ("utmSource", "utmMedium", "utmCampaign"))
    if utm["utmSource"] is not None:
        category = TAGS.get(tag)
    else:
        category = (host_entry(referrer) or (None, None))[1]
    facts = {"tag": tag, "medium": medium, "campaign": campaign, "category": category,
             "referrer": referrer, "source": named.lower(), "clicks": clicks}
    return next(name for name, holds in CHANNEL_RULES if holds(facts))


def paid_medium(medium: str) -> bool:
    return medium in ("ppc", "retargeting") or "cp" in medium or medium.startswith("paid")


def shopping_campaign(campaign: str) -> bool:
    return "shopping" in campaign or any(
        campaign[i:i + 4] == "shop" and (i == 0 or not ("a" <= campaign[i - 1] <= "z") or campaign[i - 1] == "e")
        for i in range(len(campaign)))


def is_paid(f: dict) -> bool:
    return paid_medium(f["medium"]) or f["tag"] in PAID_TAGS


CHANNEL_RULES = [
    ("Cross-network", lambda f: "cross-network" in f["campaign"]),
    ("Paid Shopping", lambda f: (f["category"] == "shopping" or shopping_campaign(f["campaign"]))
     and paid_medium(f["medium"])),
    ("Paid Search", lambda f: (f["category"] == "search" and is_paid(f))
     or (f["source"] == "google" and f["clicks"] & {"gclid", "gbraid", "wbraid"})
     or (f["source"] == "bing" and "msclkid" in f["clicks"])),
    ("Paid Social", lambda f: f["category"] == "social" and is_paid(f)),
    ("Paid Video", lambda f: f["category"] == "video" and is_paid(f)),
    ("Display", lambda f: f["medium"] in ("display", "banner", "expandable", "interstitial", "cpm")),
    ("Paid Other", lambda f: paid_medium(f["medium"])),
    ("Organic Shopping", lambda f: f["category"] == "shopping" or shopping_campaign(f["campaign"])),
    ("Organic Social", lambda f: f["category"] == "social" or f["medium"] in (
        "social", "social-network", "social-media", "sm", "social network", "social media")),
    ("Organic Video", lambda f: f["category"] == "video" or "video" in f["medium"]),
    ("AI Assistants", lambda f: f["category"] == "ai"),
    ("Organic Search", lambda f: f["category"] == "search"),
    ("Email", lambda f: any(w in f["tag"] or w in f["medium"]
                            for w in ("email", "e-mail", "e_mail", "e mail", "newsletter"))),
    ("Affiliates", lambda f: f["medium"] == "affiliate"),
    ("Audio", lambda f: f["medium"] == "audio"),
    ("SMS", lambda f: "sms" in (f["tag"], f["medium"])),
    ("Mobile Push Notifications", lambda f: f["medium"].endswith("push") or "mobile" in f["medium"]
     or "notification" in f["medium"] or f["tag"] == "firebase"),
    ("Referral", lambda f: f["medium"] in ("referral", "app", "link") or f["referrer"] is not None),
    ("Unassigned", lambda f: True),
]
"""GA4's default channel group, in order: (channel, whether a visit's facts meet it)."""


def parse_filters(filters: list[str]) -> dict[str, set[str]]:
    """`DIM:VALUE` texts as {dimension: its values}."""
    chosen: dict[str, set[str]] = defaultdict(set)
    for text in filters:
        dimension, colon, value = text.partition(":")
        if not colon or dimension not in FILTER_DIMENSIONS:
            raise UnknownDimension(text)
        chosen[dimension].add(value)
    return dict(chosen)


def passes(visit: Visit, chosen: dict[str, set[str]]) -> bool:
    for dimension, values in chosen.items():
        found = visit.paths if dimension == "page" else {visit.dimensions[dimension]}
        if not found & values:
            return False
    return True


def counted_in(visit: Visit, pages: set[str], start: int, end: int) -> list[dict]:
    """The visit's movements in the window; with a page filter, page views of those paths only."""
    return [m for m in visit.movements if start <= m["timestamp"] < end
            and (not pages or m["event"] != "page_view" or path_of(m) in pages)]


def page_views_in(visit: Visit, pages: set[str], start: int, end: int) -> int:
    return sum(m["event"] == "page_view" for m in counted_in(visit, pages, start, end))


def ratio(part: float, whole: int) -> float:
    return part / whole if whole else 0.0


def visit_figures(started: list[Visit]) -> dict:
    """visitors, visits, bounceRate and visitDuration (seconds) of the visits counted."""
    return {"visitors": len({v.user for v in started}), "visits": len(started),
            "bounceRate": ratio(sum(v.bounced for v in started), len(started)),
            "visitDuration": ratio(sum(v.duration for v in started), len(started)) / 1000}


def totals(visits: list[Visit], pages: set[str], start: int, end: int) -> dict:
    figures = visit_figures([v for v in visits if start <= v.first < end])
    return {"visitors": figures["visitors"], "visits": figures["visits"],
            "pageviews": sum(page_views_in(v, pages, start, end) for v in visits),
            "bounceRate": figures["bounceRate"], "visitDuration": figures["visitDuration"]}


def filtered_visits(stored: list[dict], filters: list[str]) -> tuple[list[Visit], set[str]]:
    """The visits passing the filters, and the paths of the page filter (empty without one)."""
    chosen = parse_filters(filters)
    return [v for v in build_visits(stored) if passes(v, chosen)], chosen.get("page", set())


def stats(stored: list[dict], start: int, end: int, zone: str | None = None,
          filters: list[str] = (), compare: bool = False) -> dict:
    """The /stats answer for an explicit window."""
    visits, pages = filtered_visits(stored, list(filters))
    bucket = expected_bucket(zone, start, end)
    starts = bucket_starts(bucket, zone, start, end)
    series = []
    for i, t in enumerate(starts):
        stop = starts[i + 1] if i + 1 < len(starts) else end
        counts = totals(visits, pages, max(t, start), stop)
        series.append({"t": t, "visitors": counts["visitors"], "visits": counts["visits"],
                       "pageviews": counts["pageviews"]})
    previous = None
    if compare:
        before = start - (end - start)
        previous = {"from": before, "to": start, "totals": totals(visits, pages, before, start)}
    return {"from": start, "to": end, "bucket": bucket, "totals": totals(visits, pages, start, end),
            "previous": previous, "series": series}


def breakdown(stored: list[dict], by: str, start: int, end: int, filters: list[str] = (),
              limit: int = 10, event: str | None = None) -> dict:
    """The /breakdown answer for an explicit window."""
    visits, pages = filtered_visits(stored, list(filters))
    if by in VISIT_DIMENSIONS:
        rows = visit_rows(visits, by, pages, start, end)
    elif by == "page":
        views = [(path_of(m), v) for v in visits for m in counted_in(v, pages, start, end)
                 if m["event"] == "page_view" and path_of(m) is not None]
        rows = tally(views, "pageviews")
    elif by == "event":
        rows = tally([(m["event"], v) for v in visits for m in counted_in(v, pages, start, end)],
                     "events")
    elif by.startswith("prop:"):
        if event is None:
            raise MissingEvent(by)
        key = by.removeprefix("prop:")
        rows = tally([(property_text(data_of(m).get(key)), v) for v in visits
                      for m in counted_in(v, pages, start, end) if m["event"] == event], "events")
    else:
        raise UnknownDimension(by)
    return {"by": by, "from": start, "to": end, "results": sorted(rows, key=row_order)[:limit]}


def visit_rows(visits: list[Visit], by: str, pages: set[str], start: int,
               end: int) -> list[dict]:
    """One row per value with visits started in the window or page views in it."""
    started: dict[str | None, list[Visit]] = defaultdict(list)
    views: dict[str | None, int] = defaultdict(int)
    for visit in visits:
        value = visit.dimensions[by]
        if start <= visit.first < end:
            started[value].append(visit)
        views[value] += page_views_in(visit, pages, start, end)
    values = set(started) | {value for value, count in views.items() if count}
    return [{"value": value, **visit_figures(started[value]), "pageviews": views[value]}
            for value in values]


def tally(found: list[tuple[str | None, Visit]], count_name: str) -> list[dict]:
    """Rows of (value, the visit of one movement) pairs: visitors, visits and the count."""
    groups: dict[str | None, list[Visit]] = defaultdict(list)
    for value, visit in found:
        groups[value].append(visit)
    return [{"value": value, "visitors": len({v.user for v in group}),
             "visits": len({(v.user, v.session) for v in group}), count_name: len(group)}
            for value, group in groups.items()]


def property_text(value: object) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, (bool, int, float)):
        return msgspec.json.encode(value).decode()
    return None


def row_order(row: dict) -> tuple:
    """Most visitors, then most pageviews (or events), then by value with null last."""
    count = row["pageviews"] if "pageviews" in row else row["events"]
    return (-row["visitors"], -count, row["value"] is None, row["value"] or "")
