"""What a request tells about its visitor (tracker/ingest/visitors.py).

The context logged with a request is derived from its User-Agent and address (browser, OS,
device, country) and holds neither of them; nothing known gives no context at all. An
anonymous visitor's id is a hash of address and User-Agent under the day's salt, keyed by
site (site 0 as before sites existed), so the same visitor has the same id all day on one
site and unrelated ids on two sites and on two days. The bot filter, when on, ignores
crawlers and requests without a User-Agent.
"""

from __future__ import annotations

import pytest

from helpers import DAY
from tracker.enrich.visitor_ids import visitor_id
from tracker.ingest.visitors import Visitors
from tracker.storage.rows import decode_context

NOW = 1_790_000_000_000
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
CRAWLER = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
PUBLIC = "8.8.8.8"


@pytest.fixture
def visitors(tmp_path):
    visitors = Visitors(tmp_path, bot_filter=True, geoip_db=None)
    yield visitors
    visitors.close()


def test_the_context_holds_what_was_derived_and_neither_address_nor_user_agent(visitors):
    logged = visitors.context(PUBLIC, BROWSER)
    assert logged is not None
    assert PUBLIC not in logged and "Mozilla" not in logged
    context = decode_context(logged)
    assert (context.browser, context.os, context.device, context.country) == (
        "Firefox", "Linux", "desktop", "US")
    assert (context.region, context.city) == (None, None)  # only with TRACKER_GEOIP_DB


def test_nothing_known_is_no_context(visitors):
    assert visitors.context("10.0.0.1", None) is None


def test_a_private_address_gives_no_country(visitors):
    assert decode_context(visitors.context("192.168.1.1", BROWSER)).country is None


def test_a_visitor_has_one_id_all_day_on_a_site(visitors):
    first = visitors.anonymous_id(PUBLIC, BROWSER, NOW, 1)
    assert first.startswith("anon:")
    assert visitors.anonymous_id(PUBLIC, BROWSER, NOW + 1, 1) == first
    assert visitors.anonymous_id(PUBLIC, BROWSER, NOW, 2) != first
    assert visitors.anonymous_id(PUBLIC, BROWSER, NOW, 0) != first


def test_another_address_or_browser_is_another_visitor(visitors):
    ids = {visitors.anonymous_id(address, agent, NOW, 0)
           for address in (PUBLIC, "8.8.4.4") for agent in (BROWSER, CRAWLER)}
    assert len(ids) == 4


def test_a_visitor_has_another_id_the_next_day(visitors):
    today = visitors.anonymous_id(PUBLIC, BROWSER, NOW, 0)
    assert visitors.anonymous_id(PUBLIC, BROWSER, NOW + DAY, 0) != today


def test_site_0_keeps_the_ids_it_had_before_sites_existed(visitors):
    salt = visitors.salts.for_time(NOW)
    assert visitors.anonymous_id(PUBLIC, BROWSER, NOW, 0) == visitor_id(salt, PUBLIC, BROWSER)


def test_every_process_on_a_data_directory_gives_a_visitor_the_same_id(visitors, tmp_path):
    other = Visitors(tmp_path, bot_filter=True, geoip_db=None)
    try:
        assert other.anonymous_id(PUBLIC, BROWSER, NOW, 3) == visitors.anonymous_id(PUBLIC, BROWSER, NOW, 3)
    finally:
        other.close()


@pytest.mark.parametrize(("user_agent", "ignored"), [(BROWSER, False), (CRAWLER, True), (None, True),
                                                     ("   ", True)])
def test_the_bot_filter_ignores_crawlers_and_requests_without_a_user_agent(visitors, user_agent, ignored):
    assert visitors.is_ignored(user_agent) is ignored


def test_without_the_bot_filter_nothing_is_ignored(tmp_path):
    visitors = Visitors(tmp_path, bot_filter=False, geoip_db=None)
    try:
        assert not visitors.is_ignored(CRAWLER) and not visitors.is_ignored(None)
    finally:
        visitors.close()


def test_lookups_are_reported_with_whether_the_cache_answered(tmp_path):
    lookups: list[tuple[str, bool]] = []
    visitors = Visitors(tmp_path, bot_filter=True, geoip_db=None,
                        on_lookup=lambda cache, hit: lookups.append((cache, hit)))
    agent = BROWSER + " visitors-test"  # not parsed before in this process
    visitors.context(PUBLIC, agent)
    visitors.context(PUBLIC, agent)
    visitors.is_ignored(agent)
    visitors.is_ignored(agent)
    assert lookups == [("useragent", False), ("useragent", True), ("bots", False), ("bots", True)]
