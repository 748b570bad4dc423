"""A brute-force /stats and /breakdown: every number computed from the plain list of movements.

Shares no code with the service. A stored movement is a dict with `userId`,
`sessionId`, `timestamp`, `event`, `data` and the context of the request that
stored it: `browser`, `os`, `device`, `country`, `region`, `city` (None when
left out). The list is in the order the service stored the movements, which
breaks ties between equal timestamps.

Referrer hosts name a search engine or social network only for the few
networks the tests use (`NETWORK_HOSTS`, `NETWORK_NAMES`, and `Google` for any
`google.*`): data naming other networks would be counted as plain referrals.

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

PAID_MEDIUMS = frozenset({"cpc", "ppc", "paid", "paidsearch", "paid_social", "paidsocial"})
SOCIAL_PAID_MEDIUMS = frozenset({"paid_social", "paidsocial"})
EMAIL_WORDS = frozenset({"email", "newsletter"})

NETWORK_HOSTS = {
    "t.co": ("X", "social"), "twitter.com": ("X", "social"), "x.com": ("X", "social"),
    "facebook.com": ("Facebook", "social"), "bing.com": ("Bing", "search"),
    "duckduckgo.com": ("DuckDuckGo", "search"),
}
NETWORK_NAMES = {"google": ("Google", "search"), "bing": ("Bing", "search"),
                 "facebook": ("Facebook", "social"), "x": ("X", "social")}
"""The networks a `utm_source` value names (as campaigns write them: lowercase)."""


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
    return {"referrer": referrer, **utm, "source": source(referrer, utm["utmSource"]),
            "channel": channel(referrer, utm)}


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


def network_of_host(host: str | None) -> tuple[str, str] | None:
    if host is None:
        return None
    if host.startswith("google."):
        return ("Google", "search")
    return NETWORK_HOSTS.get(host)


def source(referrer: str | None, utm_source: str | None) -> str:
    if utm_source is not None:
        return utm_source
    network = network_of_host(referrer)
    return network[0] if network else referrer or "Direct"


def channel(referrer: str | None, utm: dict[str, str | None]) -> str:
    """The first rule that holds, in the order the spec lists them."""
    medium, utm_source = utm["utmMedium"], utm["utmSource"]
    network = NETWORK_NAMES.get(utm_source or "") or network_of_host(referrer)
    if referrer is None and not any(utm.values()):
        return "Direct"
    if medium in PAID_MEDIUMS:
        social = medium in SOCIAL_PAID_MEDIUMS or (network is not None and network[1] == "social")
        return "Paid Social" if social else "Paid Search"
    if medium in EMAIL_WORDS or utm_source in EMAIL_WORDS:
        return "Email"
    if network is not None:
        return "Organic Social" if network[1] == "social" else "Organic Search"
    return "Referral" if referrer is not None else "Other"


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
