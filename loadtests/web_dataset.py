"""A public web site's traffic for `analytics_bench.py --web`: movements and their contexts.

Distributions are skewed the way real traffic is, a few large values and a
long tail: users (a Pareto share of the movements each), entry and other
pages (Zipf over a few hundred paths), referrers (many direct visits, Google
under a dozen country domains, Bing, DuckDuckGo, Facebook, t.co, Reddit,
Hacker News, ..., and a Zipf tail of a few thousand blog hosts), UTM tags on
about one visit in ten (paid search, newsletters, paid social, partners),
countries (a few big ones, a long tail, a few unknown addresses) and
browsers, systems and devices. Each user keeps one country and one or two
devices over the 30 days. Visits start more often in the European and
American daytime; about 30% bounce (one page view), the others run a dozen
movements, seconds to two minutes apart.

Page views carry `data` as tracker.js sends it: path, title, referrer (the
external one on a visit's first page view, "" for direct visits, the
previous page of the site after that), host, and utm on the landing page
only. Clicks, scrolls, outbound links, downloads and signups (with a plan)
come between page views.

A visit's context (browser, OS, device, country) is the one the service
would derive from the user's User-Agent header and address: written here
from the table below directly, not by calling the parsers, so the data set
is data. The families in `AGENTS` are what `tracker.enrich.useragent.parse`
gives for those headers (checked once by hand).
"""

from __future__ import annotations

import bisect
import math
import random
from collections.abc import Iterator, Sequence
from itertools import accumulate
from typing import NamedTuple, TypeVar

import msgspec

from tracker.storage.rows import Context, MovementRow, encode_context

T = TypeVar("T")
DAY = 86_400_000
HOST = "www.example-shop.com"
BOUNCE = 0.3
MEAN_EXTRA_MOVEMENTS = 14  # a visit that does not bounce: 2 + about this many movements
MAX_USER_SHARE = 40  # no user has more than this many times the mean user's movements


class Weighted:
    """Values drawn with fixed weights (bisection on the cumulative weights)."""

    def __init__(self, pairs: Sequence[tuple[T, float]]):
        self.values = [value for value, _weight in pairs]
        self.cumulative = list(accumulate(weight for _value, weight in pairs))

    def pick(self, rng: random.Random):
        return self.values[bisect.bisect_right(self.cumulative, rng.random() * self.cumulative[-1])]


def zipf(values: Sequence[T], exponent: float = 1.1, scale: float = 1.0) -> list[tuple[T, float]]:
    return [(value, scale / (rank + 1) ** exponent) for rank, value in enumerate(values)]


class Agent(NamedTuple):
    user_agent: str
    browser: str | None
    os: str | None
    device: str | None


_WIN = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
_MAC = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7)"
_IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko)"

AGENTS = Weighted([
    (Agent(f"{_WIN} Chrome/124.0.0.0 Safari/537.36", "Chrome", "Windows", "desktop"), 27),
    (Agent(f"{_IPHONE} Version/17.4 Mobile/15E148 Safari/604.1", "Mobile Safari", "iOS", "mobile"), 20),
    (Agent("Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
           "Chrome/124.0.0.0 Mobile Safari/537.36", "Chrome Mobile", "Android", "mobile"), 15),
    (Agent(f"{_MAC} AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
           "Chrome", "Mac OS X", "desktop"), 8),
    (Agent(f"{_MAC} AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
           "Safari", "Mac OS X", "desktop"), 7),
    (Agent(f"{_WIN} Chrome/124.0.0.0 Safari/537.36 Edg/124.0.0.0", "Edge", "Windows", "desktop"), 5),
    (Agent("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0",
           "Firefox", "Windows", "desktop"), 4),
    (Agent("Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
           "Version/17.4 Mobile/15E148 Safari/604.1", "Mobile Safari", "iOS", "tablet"), 3),
    (Agent("Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
           "SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36",
           "Samsung Internet", "Android", "mobile"), 2),
    (Agent(f"{_IPHONE} CriOS/124.0.6367.88 Mobile/15E148 Safari/604.1",
           "Chrome Mobile iOS", "iOS", "mobile"), 2),
    (Agent("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
           "Chrome/124.0.0.0 Mobile Safari/537.36", "Chrome Mobile", "Android", "mobile"), 1.5),
    (Agent("Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
           "Firefox", "Linux", "desktop"), 1.2),
    (Agent("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
           "Chrome/124.0.0.0 Safari/537.36", "Chrome", "Linux", "desktop"), 1),
    (Agent("Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:125.0) Gecko/20100101 Firefox/125.0",
           "Firefox", "Mac OS X", "desktop"), 1),
    (Agent("Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) "
           "Chrome/124.0.0.0 Safari/537.36", "Chrome", "Android", "tablet"), 1),
    (Agent("Mozilla/5.0 (Windows NT 6.1; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
           "Chrome/109.0.0.0 Safari/537.36", "Chrome", "Windows", "desktop"), 0.6),
    (Agent(f"{_WIN} Chrome/124.0.0.0 Safari/537.36 OPR/110.0.0.0", "Opera", "Windows", "desktop"), 0.5),
    (Agent("Mozilla/5.0 (Android 14; Mobile; rv:125.0) Gecko/125.0 Firefox/125.0",
           "Firefox Mobile", "Android", "mobile"), 0.5),
    (Agent(f"{_IPHONE} Mobile/15E148 [FBAN/FBIOS;FBAV/460.0.0.38.108;FBDV/iPhone15,2;FBSN/iOS;"
           "FBSV/17.4;FBLC/en_US]", "Facebook", "iOS", "mobile"), 0.5),
    (Agent("Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) "
           "Chrome/124.0.0.0 Safari/537.36", "Chrome", "Chrome OS", "desktop"), 0.4),
    (Agent("", None, None, None), 0.3),  # no User-Agent header (allowed for users with an id)
])

_BIG_COUNTRIES = [("US", 27), ("DE", 8), ("GB", 7), ("IN", 6), ("FR", 5), ("CA", 4), ("BR", 3.5),
                  ("NL", 3), ("ES", 3), ("IT", 3), ("AU", 2.5), ("PL", 2), ("JP", 2), ("SE", 1.5)]
_OTHER_COUNTRIES = (
    "CH MX AT BE TR ID RU UA DK NO FI IE PT CZ RO IL KR SG AR ZA PH VN TH MY NZ CO CL GR HU PK EG NG "
    "BD SK BG HR RS LT LV EE SI TW HK AE SA KE MA PE VE EC UY CR DO GT PA LK NP KZ BY GE AM AZ IS LU "
    "MT CY TN DZ GH TZ UG ET QA KW OM BH JO LB IR IQ MN KH LA MM BO PY HN SV NI JM TT").split()
COUNTRIES = Weighted([*_BIG_COUNTRIES, *zipf(_OTHER_COUNTRIES, 1.0, 1.4), (None, 1.5)])

_TOPICS = ("shoes boots sneakers jackets coats shirts dresses jeans bags watches hats scarves gloves "
           "socks belts sunglasses wallets backpacks").split()
_PATHS = (["/", "/sale", "/pricing", "/products", "/blog", "/search", "/cart", "/account", "/login",
           "/signup", "/about", "/contact", "/shipping", "/returns", "/faq", "/checkout"]
          + [f"/products/{topic}" for topic in _TOPICS]
          + [f"/blog/{year}/{topic}-guide" for year in (2023, 2024, 2025) for topic in _TOPICS]
          + [f"/products/{topic}/{n}" for topic in _TOPICS for n in range(1, 13)])
_SHUFFLED = random.Random(7).sample(_PATHS, len(_PATHS))
# Visits land mostly on the home page, sale and product lists, then any of a few hundred pages.
ENTRY_PATHS = Weighted(zipf(_PATHS[:4], 1.0, 3.0) + zipf(_SHUFFLED, 1.1))
PAGES = Weighted(zipf(_PATHS[:12], 1.0, 1.5) + zipf(_SHUFFLED, 1.0))

_GOOGLES = Weighted([("www.google.com", 60), ("www.google.de", 8), ("www.google.co.uk", 7),
                     ("www.google.fr", 4), ("www.google.co.in", 4), ("www.google.ca", 3),
                     ("www.google.com.br", 3), ("www.google.es", 2), ("www.google.it", 2),
                     ("www.google.nl", 2), ("www.google.com.au", 2), ("www.google.pl", 1),
                     ("www.google.co.jp", 1), ("news.google.com", 1)])
_WORDS = ("daily style notes urban trail city vintage modern cozy bright simple little green "
          "north river").split()
_BLOGS = [f"{a}{b}{'' if n == 0 else n}.{tld}" for n in range(4) for a in _WORDS for b in _WORDS
          if a != b for tld in ("com", "blog")][:3000]
_TAIL_BLOGS = Weighted(zipf(_BLOGS, 0.9))
_NAMED_REFERRERS = Weighted([("https://www.bing.com/", 4), ("https://duckduckgo.com/", 2.5),
                             ("https://l.facebook.com/", 2.5), ("https://m.facebook.com/", 0.7),
                             ("https://t.co/", 2), ("https://www.reddit.com/r/malefashionadvice/", 1.5),
                             ("https://old.reddit.com/r/femalefashionadvice/", 0.5),
                             ("https://news.ycombinator.com/", 0.6), ("https://www.pinterest.com/", 1.5),
                             ("https://www.instagram.com/", 1.5), ("https://www.youtube.com/", 1),
                             ("https://www.linkedin.com/", 0.5), ("https://search.yahoo.com/", 0.8),
                             ("https://www.ecosia.org/", 0.6), ("https://yandex.ru/", 0.3),
                             ("https://www.baidu.com/", 0.2), ("https://android-app://com.slack/", 0.1)])

# (utm tags, the referrer of the landing page: "google" for one of Google's domains)
_CAMPAIGNS = Weighted([
    (({"source": "google", "medium": "cpc", "campaign": "brand"}, "google"), 1.6),
    (({"source": "google", "medium": "cpc", "campaign": "shoes-generic", "term": "running shoes"},
      "google"), 1.0),
    (({"source": "google", "medium": "cpc", "campaign": "summer-sale"}, "google"), 0.8),
    (({"source": "bing", "medium": "cpc", "campaign": "brand"}, "https://www.bing.com/"), 0.3),
    (({"source": "newsletter", "medium": "email", "campaign": "weekly"}, ""), 1.5),
    (({"source": "newsletter", "medium": "email", "campaign": "summer-sale",
       "content": "hero-button"}, ""), 0.8),
    (({"source": "facebook", "medium": "paid_social", "campaign": "summer-sale"},
      "https://l.facebook.com/"), 1.0),
    (({"source": "instagram", "medium": "paid_social", "campaign": "new-arrivals"},
      "https://l.instagram.com/"), 0.6),
    (({"source": "partner-blog", "medium": "referral"}, "https://dailystyle.blog/"), 0.3),
    (({"source": "producthunt"}, "https://www.producthunt.com/"), 0.1),
])
UTM_SHARE = 0.08

EVENTS = Weighted([("page_view", 52), ("click", 28), ("scroll", 14), ("outbound", 2), ("download", 1),
                   ("add_to_cart", 2.5), ("signup", 0.5)])
_TARGETS = Weighted(zipf(["a.nav", "button.buy", "a.product", "button.filter", "a.footer", "img.hero",
                          "button.size", "a.breadcrumb"], 1.0))
_PLANS = Weighted([("free", 70), ("plus", 25), ("business", 5)])


def acquisition(rng: random.Random) -> tuple[str, dict | None]:
    """The first page view's referrer URL ("" when direct) and UTM tags."""
    if rng.random() < UTM_SHARE:
        utm, came_from = _CAMPAIGNS.pick(rng)
        if came_from == "google":
            came_from = f"https://{_GOOGLES.pick(rng)}/"
        return came_from, utm
    draw = rng.random()
    if draw < 0.38:
        return "", None
    if draw < 0.66:
        return f"https://{_GOOGLES.pick(rng)}/", None
    if draw < 0.66 + 0.19:
        return _NAMED_REFERRERS.pick(rng), None
    if draw < 0.66 + 0.19 + 0.13:
        return f"https://{_TAIL_BLOGS.pick(rng)}/posts/{rng.randrange(1, 400)}", None
    return f"https://{HOST}/", None  # an internal link that started a new visit


def page_view(path: str, referrer: str, utm: dict | None) -> str:
    data = {"path": path, "title": f"Example Shop - {path}", "referrer": referrer, "host": HOST}
    if utm:
        data["utm"] = utm
    return msgspec.json.encode(data).decode()


def other_data(event: str, path: str, rng: random.Random) -> str:
    if event == "click":
        data = {"path": path, "target": _TARGETS.pick(rng)}
    elif event == "scroll":
        data = {"path": path, "depth": rng.choice((25, 50, 75, 100))}
    elif event == "outbound":
        data = {"url": f"https://{_TAIL_BLOGS.pick(rng)}/"}
    elif event == "download":
        data = {"file": f"/files/size-guide-{rng.randrange(8)}.pdf"}
    elif event == "add_to_cart":
        data = {"path": path, "price": rng.choice((19.9, 29.9, 49.0, 89.0, 129.0))}
    else:
        data = {"plan": _PLANS.pick(rng)}
    return msgspec.json.encode(data).decode()


def visit_start(now: int, rng: random.Random) -> int:
    """A start in the last 30 days (not in its first hour), more often in the 8-22 UTC daytime."""
    while True:
        at = now - 60_000 - rng.randrange(30 * DAY - 3_600_000)
        hour = at % DAY / 3_600_000
        if rng.random() < 0.55 + 0.45 * math.sin(math.pi * (hour - 8) / 14) * (8 <= hour <= 22):
            return at


def visit_rows(user_id: str, session_id: str, start: int, budget: int, now: int,
               rng: random.Random) -> list[MovementRow]:
    """One visit: a landing page view, then movements seconds apart, at most `budget`."""
    length = 1 if rng.random() < BOUNCE else 2 + int(rng.expovariate(1 / MEAN_EXTRA_MOVEMENTS))
    path = ENTRY_PATHS.pick(rng)
    referrer, utm = acquisition(rng)
    rows = [MovementRow(user_id, session_id, start, "page_view", page_view(path, referrer, utm), None)]
    at = start
    for _ in range(min(length, budget) - 1):
        at += rng.randrange(2_000, 120_000)
        if at >= now:
            break
        event = EVENTS.pick(rng)
        if event == "page_view":
            previous, path = path, PAGES.pick(rng)
            data = page_view(path, f"https://{HOST}{previous}", None)
        else:
            data = other_data(event, path, rng)
        rows.append(MovementRow(user_id, session_id, at, event, data, None))
    return rows


def budgets(movements: int, users: int, rng: random.Random) -> list[int]:
    """Movements per user: Pareto shares (a few heavy users, many light ones), at least one."""
    weights = [min(rng.paretovariate(1.6), 1.6 / 0.6 * MAX_USER_SHARE) for _ in range(users)]
    total = sum(weights)
    return [max(1, round(movements * weight / total)) for weight in weights]


def generate(movements: int, users: int, now: int, batch_size: int,
             seed: int = 1) -> Iterator[tuple[list[MovementRow], list[str | None]]]:
    """Batches of (rows, contexts aligned with them), users in random order, each user's
    visits whole in one batch."""
    rng = random.Random(seed)
    contexts: dict[tuple[Agent, str | None], str | None] = {}
    rows: list[MovementRow] = []
    row_contexts: list[str | None] = []
    for user, budget in zip(rng.sample(range(users), users), budgets(movements, users, rng)):
        country = COUNTRIES.pick(rng)
        devices = [AGENTS.pick(rng)] + ([AGENTS.pick(rng)] if rng.random() < 0.25 else [])
        visit = 0
        while budget > 0:
            agent = devices[0] if len(devices) == 1 or rng.random() < 0.7 else devices[1]
            key = (agent, country)
            if key not in contexts:
                contexts[key] = encode_context(Context(agent.browser, agent.os, agent.device,
                                                       country, None, None))
            found = visit_rows(f"user-{user}", f"s-{user}-{visit}", visit_start(now, rng), budget,
                               now, rng)
            rows += found
            row_contexts += [contexts[key]] * len(found)
            budget -= len(found)
            visit += 1
        if len(rows) >= batch_size:
            yield rows, row_contexts
            rows, row_contexts = [], []
    if rows:
        yield rows, row_contexts
