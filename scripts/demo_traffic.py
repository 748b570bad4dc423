"""A made-up month of traffic on two sites for the demo: visitors, their visits and the events
they post.

`month(now, scale, seed)` answers, for each site, one list per visitor of
that visitor's visits in time order. A `Visit` is what one browser posts in
one request to `POST /track`: its address (sent as `X-Forwarded-For`), its
`User-Agent` and its events, shaped as `tracker.js` with `data-site` sends
them (each names its site). The same `now`, `scale` and `seed` give the same
traffic. `SITES` says how each site is set up.

The first site is a small software product on `www.example.com`: the
service's `default` site, given its domains. About 60% of its visitors are
anonymous (no `userId`: the service derives one from the address and
User-Agent, so each has a pair of its own); the others are signed-in users,
some of whom come back on later days. The funnel home > pricing > signup >
purchase converts with a believable drop-off at each step.

The second is the product's blog, `blog.example.org`, with about half as
many visitors, from elsewhere: news aggregators and social sites more than
search, more of them in Europe and India. Nearly all read anonymously; a
few subscribers sign in to comment, and come back week after week. Visits
on both follow a daily rhythm on each visitor's local clock, fewer at
weekends, and grow over the month.

Every address is made up, drawn from blocks the Regional Internet
Registries assign to the visitor's country, so the service's offline
country lookup places it there.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
DAYS = 29  # the service refuses timestamps more than 30 days old
PRODUCT = "default"
BLOG = "blog.example.org"
# How `make demo` sets the sites up: the product is the default site, given its domains (as
# the docs tell an owner to do before adding a second site).
# Each site's goals (POST /sites/{id}/goals) and who gets its weekly email report.
GOALS = {
    PRODUCT: [{"event": "signup", "name": "Sign up"}, {"event": "purchase", "name": "Purchase"},
              {"page": "/docs/*", "name": "Read the docs"}],
    BLOG: [{"event": "subscribe", "name": "Subscribe"}],
}
REPORT_TO = "owner@example.com"
SITES = {
    PRODUCT: {"name": "Example", "domains": ["example.com", "www.example.com"], "timezone": "UTC"},
    BLOG: {"name": "Example blog", "domains": [BLOG], "timezone": "Europe/Berlin"},
}
HOST = "www.example.com"
VISITORS_AT_SCALE_1 = 9000
ANONYMOUS_SHARE = 0.6
READERS_AT_SCALE_1 = 4500
SUBSCRIBER_SHARE = 0.08

# country: (weight, UTC offset in hours, /16 blocks registered to that country)
COUNTRIES = {
    "US": (30, -5, ("24.0", "73.15", "98.200")),
    "DE": (11, 1, ("77.180", "84.150", "91.64")),
    "GB": (10, 0, ("81.96", "86.128", "90.192")),
    "IN": (9, 5.5, ("117.192", "106.192", "49.32")),
    "FR": (7, 1, ("90.0", "82.64", "86.192")),
    "BR": (6, -3, ("189.0", "179.100")),
    "CA": (6, -5, ("24.64", "70.48", "99.224")),
    "JP": (5, 9, ("126.0", "60.32", "219.96")),
    "NL": (5, 1, ("145.0", "77.160", "84.80")),
    "AU": (4, 10, ("1.120", "101.160", "58.160")),
    "ES": (4, 1, ("88.0", "83.32")),
    "SE": (3, 1, ("90.224", "83.248")),
}

# (weight, User-Agent with {v} for a browser version)
USER_AGENTS = (
    (24, "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Chrome/{v}.0.0.0 Safari/537.36"),
    (10, "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Chrome/{v}.0.0.0 Safari/537.36"),
    (6, "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:{v}.0) Gecko/20100101 Firefox/{v}.0"),
    (3, "Mozilla/5.0 (X11; Linux x86_64; rv:{v}.0) Gecko/20100101 Firefox/{v}.0"),
    (8, "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/18.{v} Safari/605.1.15"),
    (8, "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/{v}.0.0.0 Safari/537.36 Edg/{v}.0.0.0"),
    (18, "Mozilla/5.0 (iPhone; CPU iPhone OS 18_{v} like Mac OS X) AppleWebKit/605.1.15 "
         "(KHTML, like Gecko) Version/18.{v} Mobile/15E148 Safari/604.1"),
    (9, "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/{v}.0.0.0 Mobile Safari/537.36"),
    (9, "Mozilla/5.0 (Linux; Android 14; SM-S921B) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/{v}.0.0.0 Mobile Safari/537.36"),
    (5, "Mozilla/5.0 (iPad; CPU OS 18_{v} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/18.{v} Mobile/15E148 Safari/604.1"),
)
CHROME_VERSIONS = (129, 130, 131)
MINOR_VERSIONS = (0, 1, 2)

# name: (weight for a first visit, referrer URL, utm fields, landing pages)
SOURCES = {
    "direct": (26, "", None, ("/", "/", "/pricing", "/docs")),
    "google": (26, "https://www.google.com/", None,
               ("/", "/docs/install", "/blog/self-hosted-analytics", "/docs")),
    "bing": (5, "https://www.bing.com/", None, ("/", "/docs/install")),
    "duckduckgo": (5, "https://duckduckgo.com/", None, ("/", "/docs/install")),
    "x": (4, "https://t.co/q8Zk2LmN", None, ("/blog/launch-week", "/")),
    "facebook": (3, "https://www.facebook.com/", None, ("/", "/blog/launch-week")),
    "reddit": (5, "https://www.reddit.com/r/selfhosted/", None,
               ("/blog/self-hosted-analytics", "/")),
    "hackernews": (5, "https://news.ycombinator.com/item?id=41234567", None,
                   ("/blog/privacy-without-cookies", "/")),
    "github": (5, "https://github.com/example/tracker", None, ("/docs", "/docs/install", "/")),
    "blog": (4, "https://blog.example.org/2026/11/self-hosted-tools", None,
             ("/blog/self-hosted-analytics", "/")),
    "newsletter": (6, "", {"source": "newsletter", "medium": "email", "campaign": "monthly-digest"},
                   ("/blog/funnels-explained", "/pricing")),
    "ads": (6, "https://www.google.com/", {"source": "google", "medium": "cpc",
                                           "campaign": "brand-search", "term": "web analytics"},
            ("/", "/pricing")),
    "launch": (4, "https://www.producthunt.com/", {"source": "producthunt", "medium": "referral",
                                                   "campaign": "launch-week"},
               ("/", "/blog/launch-week")),
}
RETURN_SOURCES = {"direct": 70, "google": 20, "newsletter": 10}

# The blog: where its readers are, where they come from, what they read.
READER_COUNTRIES = {"DE": 18, "IN": 15, "US": 13, "FR": 12, "BR": 9, "NL": 7, "ES": 6, "GB": 5,
                    "SE": 5, "JP": 4, "CA": 3, "AU": 3}
POSTS = ("/2026/11/self-hosted-tools", "/2026/10/privacy-without-cookies",
         "/2026/09/sqlite-in-production")
READER_SOURCES = {
    "hackernews": (24, "https://news.ycombinator.com/item?id=41234567", None, POSTS[:1]),
    "reddit": (14, "https://www.reddit.com/r/selfhosted/", None, POSTS[::2]),
    "mastodon": (8, "https://mastodon.social/@example", None, POSTS[1:2] + ("/",)),
    "lobsters": (6, "https://lobste.rs/s/x1y2z3", None, POSTS[2:]),
    "google": (16, "https://www.google.com/", None, POSTS[1:]),
    "direct": (16, "", None, ("/",)),
    "newsletter": (10, "", {"source": "newsletter", "medium": "email", "campaign": "weekly-notes"},
                   POSTS[:1] + ("/",)),
    "product": (6, "https://www.example.com/", None, ("/", POSTS[1])),
}
READER_RETURN_SOURCES = {"direct": 45, "newsletter": 40, "mastodon": 15}
READER_TITLES = {
    "/": "The Example blog",
    POSTS[0]: "Self-hosted tools we rely on",
    POSTS[1]: "Privacy without cookies",
    POSTS[2]: "SQLite in production",
    "/about": "About - The Example blog",
    "/subscribe": "Subscribe - The Example blog",
}
READER_NEXT = {
    "/": ((30, POSTS[0]), (20, POSTS[1]), (15, POSTS[2]), (10, "/about"), (25, None)),
    "/about": ((35, "/subscribe"), (65, None)),
    "/subscribe": ((100, None),),
}
POST_NEXT = ((18, "/"), (14, "/subscribe"), (12, "another post"), (56, None))

TITLES = {
    "/": "Example - analytics you host yourself",
    "/pricing": "Pricing - Example",
    "/docs": "Documentation - Example",
    "/docs/install": "Install - Example",
    "/docs/api": "API reference - Example",
    "/signup": "Sign up - Example",
    "/blog/self-hosted-analytics": "Why we host our analytics ourselves",
    "/blog/privacy-without-cookies": "Privacy without cookies",
    "/blog/launch-week": "Launch week",
    "/blog/funnels-explained": "Funnels, explained",
    "/app": "Dashboard - Example",
    "/app/settings": "Settings - Example",
}
# Where a visitor goes next from each page: (weight, page); None leaves the site.
NEXT_PAGE = {
    "/": ((34, "/pricing"), (18, "/docs"), (10, "/blog/self-hosted-analytics"), (32, None)),
    "/pricing": ((22, "/signup"), (14, "/docs"), (10, "/"), (54, None)),
    "/docs": ((40, "/docs/install"), (15, "/docs/api"), (10, "/pricing"), (35, None)),
    "/docs/install": ((18, "/docs/api"), (14, "/pricing"), (68, None)),
    "/docs/api": ((12, "/docs"), (10, "/pricing"), (78, None)),
    "/signup": ((100, None),),
    "/app": ((30, "/app/settings"), (15, "/docs/api"), (12, "/pricing"), (43, None)),
    "/app/settings": ((100, None),),
}
EAGER_NEXT = {"/": {"/pricing": 50}, "/pricing": {"/signup": 55, None: 25},
              "/docs": {"/pricing": 25}, "/docs/install": {"/pricing": 30}}
BLOG_NEXT = ((25, "/"), (20, "/pricing"), (10, "/blog/funnels-explained"), (45, None))
PLANS = (("starter", 9), ("pro", 29), ("team", 99))
# Purchases carry revenue: in euros from these countries, in US dollars from the others.
EURO_COUNTRIES = {"DE", "FR", "ES", "IT", "NL"}
PLAN_WEIGHTS = (50, 38, 12)
MAX_PAGES = 8


@dataclass
class Visit:
    """One request's worth: a visit's events as one browser posts them."""

    address: str
    user_agent: str
    events: list[dict] = field(default_factory=list)


@dataclass
class Visitor:
    """Who visits: where from, with what, and (when signed in) as whom."""

    country: str
    address: str
    user_agent: str
    user_id: str | None


def revenue(country: str, amount: int) -> dict:
    """The plan's price in the visitor's currency, as a decimal string (no float drift)."""
    return {"amount": f"{amount}.00", "currency": "EUR" if country in EURO_COUNTRIES else "USD"}


class Month:
    """The product's month: one seeded random source and the instant the month ends."""

    site = PRODUCT
    host = HOST
    titles = TITLES
    countries = {code: weight for code, (weight, _, _) in COUNTRIES.items()}

    def __init__(self, now: int, seed: int) -> None:
        self.now = now
        self.start = now - DAYS * DAY_MS + HOUR_MS
        self.random = random.Random(seed)
        self.addresses: set[str] = set()

    def visitors(self, scale: float) -> list[list[Visit]]:
        count = max(20, round(VISITORS_AT_SCALE_1 * scale))
        anonymous = round(count * ANONYMOUS_SHARE)
        return ([self.anonymous_visits(self.visitor(None)) for _ in range(anonymous)]
                + [self.user_visits(self.visitor(f"user-{n + 101}")) for n in range(count - anonymous)])

    def visitor(self, user_id: str | None) -> Visitor:
        country = self.pick(self.countries)
        return Visitor(country, self.address(country), self.user_agent(), user_id)

    def address(self, country: str) -> str:
        """A made-up address, new to this month, in a block registered to the country."""
        blocks = COUNTRIES[country][2]
        for _ in range(1000):
            address = f"{self.random.choice(blocks)}.{self.random.randrange(256)}.{self.random.randrange(1, 255)}"
            if address not in self.addresses:
                self.addresses.add(address)
                return address
        raise RuntimeError(f"no unused address left for {country}")

    def user_agent(self) -> str:
        template = self.pick({agent: weight for weight, agent in USER_AGENTS})
        versions = CHROME_VERSIONS if "Chrome/" in template or "Firefox/" in template else MINOR_VERSIONS
        return template.format(v=self.random.choice(versions))

    # Visitors and their visits

    def anonymous_visits(self, visitor: Visitor) -> list[Visit]:
        """One visit, sometimes a second a few days later: their ids cannot be tied across days."""
        first = self.first_visit_time(visitor.country)
        visits = [self.visit(visitor, first, self.pick(self.first_source_weights()), signed_up=None)]
        if self.random.random() < 0.15:
            later = self.return_time(visitor.country, first)
            if later is not None:
                visits.append(self.visit(visitor, later, self.pick(RETURN_SOURCES), signed_up=None))
        return visits

    def user_visits(self, visitor: Visitor) -> list[Visit]:
        """A signed-in user: signs up on the first visit (or did before), often comes back."""
        at = self.first_visit_time(visitor.country)
        signed_up = self.random.random() < 0.5  # before this month
        visits = [self.visit(visitor, at, self.pick(self.first_source_weights()), signed_up)]
        for _ in range(12):
            signed_up = signed_up or any(e["event"] == "signup" for e in visits[-1].events)
            if self.random.random() > (0.72 if signed_up else 0.5):
                break
            at = self.return_time(visitor.country, at)
            if at is None:
                break
            visitor = self.maybe_other_device(visitor)
            visits.append(self.visit(visitor, at, self.pick(RETURN_SOURCES), signed_up))
        return visits

    def maybe_other_device(self, visitor: Visitor) -> Visitor:
        if self.random.random() < 0.2:
            return Visitor(visitor.country, self.address(visitor.country), self.user_agent(),
                           visitor.user_id)
        return visitor

    def visit(self, visitor: Visitor, at: int, source: str, signed_up: bool | None) -> Visit:
        """A walk through the site from the source's landing page; a user may sign up or buy."""
        _, referrer, utm, landings = SOURCES[source]
        session = visitor.user_id and {"userId": visitor.user_id,
                                       "sessionId": f"s-{self.random.getrandbits(64):016x}"}
        visit = Visit(visitor.address, visitor.user_agent)
        page = self.landing(landings, signed_up)
        previous = referrer
        for _ in range(MAX_PAGES):
            at = self.page_view(visit, session, at, page, previous, utm)
            utm, previous = None, f"https://{self.host}{page}"
            if page == "/signup" and signed_up is False and self.random.random() < 0.75:
                at = self.sign_up(visit, session, at)
                signed_up, page = True, "/app"
                continue
            if page == "/pricing" and signed_up:
                at = self.maybe_buy(visit, session, at, visitor.country)
            if (page := self.next_page(page, eager=signed_up is False)) is None:
                break
        return visit

    def landing(self, landings: tuple[str, ...], signed_up: bool | None) -> str:
        """A signed-in user often opens the app, or the pricing page to upgrade."""
        if signed_up:
            page = self.pick({"/app": 50, "/pricing": 20, None: 30})
            if page:
                return page
        return self.random.choice(landings)

    def page_view(self, visit: Visit, session: dict | None, at: int, page: str, referrer: str,
                  utm: dict | None) -> int:
        data = {"path": page, "title": self.titles[page], "referrer": referrer, "host": self.host}
        if utm:
            data["utm"] = utm
        self.add(visit, session, at, "page_view", data)
        return at + self.random.randint(8_000, 150_000)

    def sign_up(self, visit: Visit, session: dict | None, at: int) -> int:
        plan, _ = self.plan()
        self.add(visit, session, at, "signup", {"plan": plan})
        return at + self.random.randint(5_000, 40_000)

    def maybe_buy(self, visit: Visit, session: dict | None, at: int, country: str) -> int:
        """add_to_cart, checkout, purchase: each step loses some on the way."""
        plan, amount = self.plan()
        for event, chance in (("add_to_cart", 0.5), ("checkout", 0.75), ("purchase", 0.8)):
            if self.random.random() >= chance:
                break
            self.add(visit, session, at, event, {"plan": plan, "amount": amount},
                     revenue(country, amount) if event == "purchase" else None)
            at += self.random.randint(10_000, 90_000)
        return at

    def add(self, visit: Visit, session: dict | None, at: int, event: str, data: dict,
            revenue: dict | None = None) -> None:
        if at > self.now - 60_000:  # nothing from the future
            return
        eventId = str(uuid.UUID(int=self.random.getrandbits(128), version=4))
        visit.events.append({**(session or {}), "site": self.site, "event": event,
                             "timestamp": at, "data": data, "eventId": eventId,
                             **({"revenue": revenue} if revenue else {})})


    def next_page(self, page: str, eager: bool) -> str | None:
        """Where the visitor goes next; a user who has not signed up yet is `eager` to."""
        choices = BLOG_NEXT if page.startswith("/blog/") else NEXT_PAGE[page]
        weights = {target: weight for weight, target in choices}
        if eager and page in EAGER_NEXT:
            weights.update(EAGER_NEXT[page])
        return self.pick(weights)

    def plan(self) -> tuple[str, int]:
        return self.random.choices(PLANS, PLAN_WEIGHTS)[0]

    # When

    def first_source_weights(self) -> dict[str, int]:
        return {name: weight for name, (weight, _, _, _) in SOURCES.items()}

    def first_visit_time(self, country: str) -> int:
        """A day weighted by weekday and the month's growth, at a busy local hour."""
        days = [self.start + d * DAY_MS for d in range(DAYS)]
        weights = [self.day_weight(d, day) for d, day in enumerate(days)]
        for _ in range(100):
            day = self.random.choices(days, weights)[0]
            at = self.at_local_hour(day, country)
            if self.start <= at < self.now - HOUR_MS:
                return at
        return self.now - 2 * HOUR_MS

    def return_time(self, country: str, after: int) -> int | None:
        """One to nine days later, at a busy local hour; None when that is past the month."""
        day = after + round(self.random.expovariate(1 / 3) * DAY_MS) + DAY_MS // 2
        at = self.at_local_hour(day, country)
        return at if after + HOUR_MS < at < self.now - HOUR_MS else None

    def day_weight(self, index: int, day_start: int) -> float:
        weekday = (day_start // DAY_MS + 3) % 7  # 1970-01-01 was a Thursday; 0 is Monday
        return (0.55 if weekday >= 5 else 1.0) * (1 + 0.6 * index / DAYS)

    def at_local_hour(self, day: int, country: str) -> int:
        """An instant on `day`'s UTC date when the local clock shows a busy hour (peak 14-17)."""
        hour = self.random.choices(range(24), LOCAL_HOUR_WEIGHTS)[0]
        offset = COUNTRIES[country][1]
        midnight = day - day % DAY_MS
        return midnight + round((hour - offset) * HOUR_MS) + self.random.randrange(HOUR_MS)

    def pick(self, weights: dict):
        return self.random.choices(list(weights), list(weights.values()))[0]


class Readers(Month):
    """The blog's month: readers arrive on a post from elsewhere, read on or leave, and some
    subscribe; subscribers sign in to comment and come back each week."""

    site = BLOG
    host = BLOG
    titles = READER_TITLES
    countries = READER_COUNTRIES

    def visitors(self, scale: float) -> list[list[Visit]]:
        count = max(10, round(READERS_AT_SCALE_1 * scale))
        subscribers = max(1, round(count * SUBSCRIBER_SHARE))
        return ([self.reader_visits(self.visitor(None)) for _ in range(count - subscribers)]
                + [self.reader_visits(self.visitor(f"reader-{n + 1}")) for n in range(subscribers)])

    def reader_visits(self, visitor: Visitor) -> list[Visit]:
        """A first visit; a subscriber comes back most weeks, another reader now and then."""
        at = self.first_visit_time(visitor.country)
        sources = {name: weight for name, (weight, _, _, _) in READER_SOURCES.items()}
        visits = [self.read(visitor, at, self.pick(sources))]
        again = 0.8 if visitor.user_id else 0.1
        for _ in range(6):
            if self.random.random() > again:
                break
            at = self.return_time(visitor.country, at + 3 * DAY_MS)
            if at is None:
                break
            visits.append(self.read(visitor, at, self.pick(READER_RETURN_SOURCES)))
        return visits

    def read(self, visitor: Visitor, at: int, source: str) -> Visit:
        _, referrer, utm, landings = READER_SOURCES[source]
        session = visitor.user_id and {"userId": visitor.user_id,
                                       "sessionId": f"s-{self.random.getrandbits(64):016x}"}
        visit = Visit(visitor.address, visitor.user_agent)
        page: str | None = self.random.choice(landings)
        previous = referrer
        while page is not None and len(visit.events) < MAX_PAGES:
            at = self.page_view(visit, session, at, page, previous, utm)
            utm, previous = None, f"https://{self.host}{page}"
            at = self.act_on(visit, session, at, page, subscribed=bool(visitor.user_id))
            page = self.next_read(page)
        return visit

    def act_on(self, visit: Visit, session: dict | None, at: int, page: str,
               subscribed: bool) -> int:
        """Subscribe on /subscribe; follow a post's link to the product now and then."""
        if page == "/subscribe" and not subscribed and self.random.random() < 0.6:
            self.add(visit, session, at, "subscribe", {"list": "weekly-notes"})
            return at + self.random.randint(5_000, 30_000)
        if page in POSTS and self.random.random() < 0.08:
            self.add(visit, session, at, "outbound_click", {"target": HOST})
        return at

    def next_read(self, page: str) -> str | None:
        weights = {target: weight for weight, target in
                   (POST_NEXT if page in POSTS else READER_NEXT[page])}
        chosen = self.pick(weights)
        if chosen == "another post":
            return self.random.choice([post for post in POSTS if post != page])
        return chosen


LOCAL_HOUR_WEIGHTS = (1, 1, 1, 1, 1, 2, 3, 5, 8, 10, 11, 12, 11, 12, 14, 15, 15, 13, 10, 9, 8, 6,
                      4, 2)


def month(now: int, scale: float = 1.0, seed: int = 17) -> dict[str, list[list[Visit]]]:
    """For each site, every visitor's visits (each non-empty, in time order) for the 29 days
    before `now`."""
    made = {PRODUCT: Month(now, seed).visitors(scale),
            BLOG: Readers(now, seed + 1).visitors(scale)}
    return {site: [[v for v in visits if v.events] for visits in visitors
                   if any(v.events for v in visits)] for site, visitors in made.items()}
