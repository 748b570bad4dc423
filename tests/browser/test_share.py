"""A share link's page in headless Chromium: one site read-only, behind its password when it
has one, and clear words once the link is revoked or expired."""

from __future__ import annotations

import re
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx2 as httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from browser.conftest import SHOP
from browser.dashboard_helpers import METRICS, READY, Watched, shown_totals, stats, wait_ready
from helpers import now_ms

PASSWORD = "open sesame"
# Every path a share link's page may ask for: its page and files, and the link's aggregates.
AGGREGATES = re.compile(r"^/share/[^/]+(/(site|stats|breakdown|funnels|retention|live/visitors|auth))?$")
FILES = re.compile(r"^/dashboard/[a-zA-Z0-9/._-]+$")


def make_share(service, **terms) -> dict:
    with service.client() as client:
        answer = client.post(f"/sites/{SHOP}/shares", json=terms)
    answer.raise_for_status()
    return answer.json()


def revoke(service, share: dict) -> None:
    with service.client() as client:
        client.delete(f"/sites/{SHOP}/shares/{share['id']}").raise_for_status()


def state(page: Page) -> str:
    return page.get_attribute("body", "data-state")


@pytest.fixture
def stranger(browser: Browser) -> BrowserContext:
    """A browser that was never signed in, as whoever a link is sent to."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    yield context
    context.close()


def test_a_share_link_shows_its_site_and_asks_for_aggregates_alone(two_sites, stranger):
    share = make_share(two_sites)
    page = stranger.new_page()
    page.goto(two_sites.url + "/")  # a token this browser keeps must not travel with the link's reads
    page.evaluate(f"() => sessionStorage.setItem('tracker.readToken', '{two_sites.token}')")
    watched = Watched(page)
    page.goto(share["url"] + "?range=7d&tz=UTC")
    wait_ready(page)
    expected = stats(two_sites, site=SHOP)
    assert shown_totals(page) == pytest.approx({name: expected[name] for name in METRICS})
    expect(page.locator("[data-site-name]")).to_have_text(SHOP)
    for hidden in ("[data-site-picker]", "[data-sign-out]", "[data-signin-panel]",
                   '[data-view-link="live"]', '[data-view-link="user"]', '[data-view-link="settings"]'):
        expect(page.locator(hidden)).to_be_hidden()

    row = page.locator('[data-breakdown="page"] [data-row] button').first
    page.locator('[data-card="Pages"] [data-tab="page"]').click()
    row.click()
    wait_ready(page)
    for view in ("funnels", "retention"):
        page.click(f'[data-view-link="{view}"]')
        wait_ready(page)
    for view in ("live", "user", "settings"):  # not open to a link, even when asked for by the URL
        page.goto(f"{share['url']}?view={view}&user=user-1&range=7d&tz=UTC")
        wait_ready(page)
        expect(page.locator('[data-view="overview"]')).to_be_visible()

    paths = {urlsplit(request.url).path for request in watched.requests}
    assert {p for p in paths if not (AGGREGATES.match(p) or FILES.match(p))} == set()
    assert any(p.endswith("/breakdown") for p in paths) and any(p.endswith("/funnels") for p in paths)
    assert all("authorization" not in request.headers for request in watched.requests)
    assert watched.errors == []


def test_a_revoked_link_stops_in_an_open_tab_at_its_next_refresh(two_sites, stranger):
    share = make_share(two_sites)
    page = stranger.new_page()
    page.goto(share["url"])
    wait_ready(page)
    revoke(two_sites, share)

    page.click('[data-range="24h"]')
    expect(page.locator("body")).to_have_attribute("data-state", "gone")
    expect(page.locator("[data-share-gone-panel]")).to_contain_text("revoked")
    expect(page.locator("main")).to_be_hidden()
    expect(page.locator("[data-controls]")).to_be_hidden()
    page.reload()
    expect(page.locator("body")).to_have_attribute("data-state", "gone")
    expect(page.locator("[data-share-gone-panel]")).to_contain_text("revoked")


def test_an_expired_link_says_so(two_sites, stranger):
    share = make_share(two_sites, expires=now_ms() + 3000)
    page = stranger.new_page()
    page.goto(share["url"])
    wait_ready(page)
    time.sleep(max(0, (share["expires"] - now_ms()) / 1000) + 0.2)

    page.click('[data-view-link="retention"]')
    expect(page.locator("body")).to_have_attribute("data-state", "gone")
    expect(page.locator("[data-gone-title]")).to_have_text("This link has expired")
    page.reload()
    expect(page.locator("[data-gone-title]")).to_have_text("This link has expired")


def test_the_password_form_opens_the_link_and_refuses_a_wrong_one(two_sites, stranger):
    share = make_share(two_sites, password=PASSWORD)
    watched = Watched(stranger.new_page())
    page = watched.page
    page.goto(share["url"] + "?range=7d&tz=UTC")
    expect(page.locator("body")).to_have_attribute("data-state", "password")
    expect(page.locator("[data-signin-panel]")).to_be_hidden()
    page.fill("[data-share-password] input[name=password]", "open sesame?")
    page.click("[data-share-password] button[type=submit]")
    expect(page.locator("[data-share-error]")).to_have_text("That is not the password of this link.")
    assert state(page) == "password"
    assert not any(urlsplit(r.url).path.endswith("/stats") for r in watched.requests)

    page.fill("[data-share-password] input[name=password]", PASSWORD)
    page.click("[data-share-password] button[type=submit]")
    wait_ready(page)
    expected = stats(two_sites, site=SHOP)
    assert shown_totals(page) == pytest.approx({name: expected[name] for name in METRICS})
    assert page.evaluate("document.cookie") == ""  # HttpOnly: no script reads it
    page.reload()
    page.wait_for_selector(READY)  # the cookie opens it again, no password asked


def test_too_many_wrong_passwords_say_to_wait(two_sites, stranger):
    share = make_share(two_sites, password=PASSWORD)
    for _ in range(10):
        answer = httpx.post(f"{share['url']}/auth", json={"password": "guess"})
        assert answer.status_code == 401
    page = stranger.new_page()
    page.goto(share["url"])
    expect(page.locator("body")).to_have_attribute("data-state", "password")
    page.fill("[data-share-password] input[name=password]", PASSWORD)
    page.click("[data-share-password] button[type=submit]")
    expect(page.locator("[data-share-error]")).to_have_text(
        "Too many wrong passwords. Wait 15 minutes, then try again.")
    assert state(page) == "password"


def unavailable(route) -> None:
    route.fulfill(status=503, content_type="application/json",
                  body='{"error": "overloaded", "detail": "try again later"}')


def test_a_link_the_service_does_not_answer_says_so(two_sites, stranger):
    share = make_share(two_sites, password=PASSWORD)
    page = stranger.new_page()
    page.goto(share["url"])
    expect(page.locator("body")).to_have_attribute("data-state", "password")
    page.route(f"{share['url']}/auth", unavailable)
    page.fill("[data-share-password] input[name=password]", PASSWORD)
    page.click("[data-share-password] button[type=submit]")
    expect(page.locator("[data-share-error]")).to_have_text("The service did not answer: try again later")

    page.route(f"{share['url']}/site", unavailable)
    page.reload()
    expect(page.locator("body")).to_have_attribute("data-state", "error")
    expect(page.locator("[data-gone-title]")).to_have_text("The dashboard could not be opened")
    expect(page.locator("[data-gone-text]")).to_contain_text("try again later")


@pytest.mark.parametrize("shown", ["dashboard", "password", "gone"])
def test_a_phone_screen_needs_no_horizontal_scroll_on_a_share_link(own_two_sites, browser: Browser, shown):
    two_sites = own_two_sites
    with two_sites.client() as client:
        client.patch(f"/sites/{SHOP}", json={"name": "A rather long site name that goes on " * 2})
    share = make_share(two_sites, **({"password": PASSWORD} if shown == "password" else {}))
    if shown == "gone":
        revoke(two_sites, share)
    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        page.goto(share["url"] + "?range=7d&tz=UTC")
        expect(page.locator("body")).to_have_attribute("data-state", "ready" if shown == "dashboard" else shown)
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 375
    finally:
        context.close()


def test_a_share_links_csv_is_the_links_own_answer_and_it_has_no_export(two_sites, stranger):
    share = make_share(two_sites)
    page = stranger.new_page()
    page.goto(share["url"] + "?range=30d&tz=UTC")
    wait_ready(page)
    expect(page.locator("[data-export]")).to_be_hidden()
    card = page.locator('[data-card="Pages"]')
    card.locator('[data-tab="page"]').click()
    expect(card.locator("[data-breakdown]")).not_to_have_attribute("aria-busy", "true")
    with page.expect_download() as info:
        card.locator("[data-download-csv]").click()
    got = Path(info.value.path()).read_bytes()
    with httpx.Client() as client:  # no token: the link's path alone
        answer = client.get(f"{share['url']}/breakdown", params={
            "timeRange": "30d", "tz": "UTC", "by": "page", "limit": 10, "format": "csv", "site": SHOP})
    answer.raise_for_status()
    assert got == answer.content
    assert got.count(b"\r\n") > 2
