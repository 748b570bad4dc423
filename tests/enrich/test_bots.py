"""bots.is_bot: missing headers, crawlers, HTTP libraries and headless browsers; people pass."""

from __future__ import annotations

import bot_cases
import pytest

from tracker.enrich import bots
from tracker.enrich.bots import is_bot

CHROME_WINDOWS = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
                  "Chrome/131.0.0.0 Safari/537.36")

BOTS = [
    ("googlebot", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"),
    ("bingbot", "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)"),
    ("ahrefs", "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)"),
    ("facebook link preview", "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)"),
    ("curl", "curl/8.5.0"),
    ("wget", "Wget/1.21.4"),
    ("python-requests", "python-requests/2.32.3"),
    ("go http client", "Go-http-client/1.1"),
    ("headless chrome", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
                        "HeadlessChrome/131.0.0.0 Safari/537.36"),
    ("java", "Java/17.0.10"),
    ("postman", "PostmanRuntime/7.43.0"),
    ("urllib3", "python-urllib3/2.2.3"),
    ("node's fetch", "node"),
    ("deno", "Deno/2.1.4"),
    ("gptbot", "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)"),
    ("perplexity fetching for a user", "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; "
                                       "Perplexity-User/1.0; +https://perplexity.ai/perplexity-user)"),
    ("anthropic", "anthropic-ai"),
]

PEOPLE = [
    ("chrome on windows", CHROME_WINDOWS),
    ("firefox on linux", "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"),
    ("safari on a mac", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
                        "(KHTML, like Gecko) Version/18.1 Safari/605.1.15"),
    ("safari on an iphone", "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
                            "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"),
    ("chrome on android", "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 "
                          "(KHTML, like Gecko) Chrome/131.0.6778.81 Mobile Safari/537.36"),
    ("edge on windows", CHROME_WINDOWS + " Edg/131.0.0.0"),
    ("facebook app browser", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
                             "(KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/470.0.0.40.107;FBBV/612;"
                             "FBDV/iPhone15,2;FBMD/iPhone;FBSN/iOS;FBSV/17.5;FBSS/3;FBCR/;FBID/phone;FBLC/en_US;"
                             "FBOP/80]"),
]


@pytest.mark.parametrize("name, header", BOTS, ids=[row[0] for row in BOTS])
def test_listed_crawlers_libraries_and_headless_browsers_are_bots(name, header):
    assert is_bot(header) is True


@pytest.mark.parametrize("name, header", PEOPLE, ids=[row[0] for row in PEOPLE])
def test_browsers_people_use_are_not_bots(name, header):
    assert is_bot(header) is False


@pytest.mark.parametrize("header", [None, "", " ", "\t"])
def test_missing_or_blank_header_is_a_bot(header):
    assert is_bot(header) is True


def test_each_distinct_header_is_matched_once():
    bots.cache_clear()
    is_bot(CHROME_WINDOWS)
    is_bot(CHROME_WINDOWS)
    is_bot("curl/8.5.0")
    info = bots.cache_info()
    assert (info.hits, info.misses, info.currsize) == (1, 2, 2)


def test_cache_is_bounded_and_keys_are_cut():
    bots.cache_clear()
    padded = CHROME_WINDOWS.ljust(bots.MAX_LENGTH, " ")
    is_bot(padded + "A" * 5000)
    is_bot(padded + "B" * 5000)
    assert bots.cache_info().currsize == 1
    assert bots.cache_info().maxsize == bots.CACHE_SIZE


PEER_TABLES = ["MATOMO_BOTS", "MATOMO_LIBRARIES", "MAKERS"]


@pytest.mark.parametrize("table", PEER_TABLES)
def test_every_bot_of_matomos_tables_and_of_the_makers_is_caught(table):
    assert [header for header in getattr(bot_cases, table) if not is_bot(header)] == []


def test_crawler_detects_crawlers_are_caught_at_least_as_often_as_when_measured():
    caught = sum(map(is_bot, bot_cases.CRAWLER_DETECT))
    assert caught >= 101, f"{caught} of {len(bot_cases.CRAWLER_DETECT)}"


def test_browsers_of_matomos_fixtures_pass():
    assert [header for header in bot_cases.PEOPLE if is_bot(header)] == []

