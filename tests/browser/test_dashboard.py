"""The dashboard at GET / in headless Chromium, against the real service and its JSON answers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, expect

from browser.dashboard_helpers import (
    HOSTILE_EVENT,
    HOSTILE_PATH,
    METRICS,
    WINDOW,
    HeldBack,
    breakdown,
    rows,
    seed,
    shown_totals,
    sign_in,
    stats,
    wait_ready,
)

VIEWS = ("overview", "funnels", "retention", "live", "user", "settings")


@pytest.fixture(scope="module")
def service(module_tracker_server):
    """The seeded service the module's tests read."""
    server = module_tracker_server(TRACKER_TRUSTED_PROXIES="127.0.0.1")
    seed(server)
    return server


@pytest.fixture
def own_service(tracker_server):
    """A seeded service of the test's own, for a test that changes what is stored."""
    server = tracker_server(TRACKER_TRUSTED_PROXIES="127.0.0.1")
    seed(server)
    return server


def test_sign_in_keeps_the_token_for_the_tab_only(service, watched):
    page = watched.page
    page.goto(service.url + "/")
    expect(page.locator("body")).to_have_attribute("data-state", "signin")
    sign_in(page, service)
    stored = page.evaluate("() => [sessionStorage.getItem('tracker.readToken'), localStorage.length]")
    assert stored == [service.token, 0]
    calls = [request for request in watched.requests if urlsplit(request.url).path == "/stats"]
    assert calls and all(request.headers["authorization"] == f"Bearer {service.token}" for request in calls)
    assert all(service.token not in request.url for request in watched.requests)
    assert service.token not in page.url


def test_remember_keeps_the_token_across_tabs(service, browser):
    context = browser.new_context()
    try:
        page = context.new_page()
        sign_in(page, service, remember=True)
        assert page.evaluate("() => [sessionStorage.length, localStorage.getItem('tracker.readToken')]") == [0, service.token]
        again = context.new_page()
        again.goto(service.url + "/?range=7d&tz=UTC")
        wait_ready(again)
        page.click("[data-sign-out]")
        assert page.evaluate("() => localStorage.length") == 0
    finally:
        context.close()


def test_a_wrong_token_gets_a_clear_message(service, watched):
    page = watched.page
    page.goto(service.url + "/")
    page.fill("input[name=token]", "not-the-token")
    page.click("form[data-signin] button[type=submit]")
    expect(page.locator("[data-signin-error]")).to_contain_text("refused")
    expect(page.locator("body")).to_have_attribute("data-state", "signin")
    assert page.evaluate("() => sessionStorage.length + localStorage.length") == 0


def test_a_token_that_stops_working_asks_again(service, watched):
    page = watched.page
    page.goto(service.url + "/")
    page.evaluate("() => sessionStorage.setItem('tracker.readToken', 'stale')")
    page.goto(service.url + "/?range=7d&tz=UTC")
    expect(page.locator("[data-signin-error]")).to_contain_text("refused")
    expect(page.locator("input[name=token]")).to_be_visible()


def test_totals_equal_stats(service, watched):
    sign_in(watched.page, service)
    expected = stats(service)
    assert shown_totals(watched.page) == pytest.approx({name: expected[name] for name in METRICS})
    assert expected["visitors"] > 0 and expected["pageviews"] > 0


def test_every_breakdown_tab_equals_breakdown(service, watched):
    page = watched.page
    sign_in(page, service)
    tabs = page.locator("[data-tab]")
    seen = set()
    for index in range(tabs.count()):
        tab = tabs.nth(index)
        name = tab.get_attribute("data-tab")
        if name == "prop":
            continue
        tab.click()
        card = tab.locator("xpath=ancestor::article")
        dimension = card.locator("[data-breakdown]").get_attribute("data-breakdown")
        expect(card.locator("[data-breakdown]")).not_to_have_attribute("aria-busy", "true")
        assert rows(page, dimension) == breakdown(service, dimension), dimension
        seen.add(dimension)
    assert {"source", "channel", "referrer", "page", "entryPage", "exitPage", "country",
            "device", "browser", "os", "event", "utmCampaign"} <= seen
    assert len({value for value, _ in rows(page, "event")}) >= 2


def test_event_properties(service, watched):
    page = watched.page
    sign_in(page, service)
    page.locator('[data-breakdown="event"] [data-row][data-value="signup"] button').click()
    page.fill('[data-card="Events"] input[name=key]', "plan")
    page.click('[data-card="Events"] form button[type=submit]')
    expect(page.locator('[data-breakdown="prop:plan"] [data-row]').first).to_be_visible()
    assert rows(page, "prop:plan") == breakdown(service, "prop:plan", event="signup")


def test_a_click_filters_the_page_and_the_url_reproduces_it(service, watched, browser):
    page = watched.page
    sign_in(page, service)
    row = page.locator('[data-breakdown="channel"] [data-row]').first
    channel = row.get_attribute("data-value")
    row.locator("button").click()
    expect(page.locator(f'[data-filter="channel:{channel}"]')).to_be_visible()
    wait_ready(page)
    assert parse_qs(urlsplit(page.url).query)["filter"] == [f"channel:{channel}"]
    filtered = stats(service, filter=f"channel:{channel}")
    assert shown_totals(page) == pytest.approx({name: filtered[name] for name in METRICS})
    assert rows(page, "page") == breakdown(service, "page", filter=f"channel:{channel}")

    shared = browser.new_context()  # somebody else opening the link: signs in, sees the same view
    try:
        other = shared.new_page()
        sign_in(other, service, query="?" + urlsplit(page.url).query)
        assert shown_totals(other) == shown_totals(page)
        expect(other.locator(f'[data-filter="channel:{channel}"]')).to_be_visible()
    finally:
        shared.close()

    page.click(f'[data-filter="channel:{channel}"]')
    expect(page.locator("[data-filter]")).to_have_count(0)
    wait_ready(page)
    assert "filter" not in parse_qs(urlsplit(page.url).query)
    assert shown_totals(page) == pytest.approx({name: stats(service)[name] for name in METRICS})


def tour(page: Page) -> None:
    for view in VIEWS:
        page.click(f'[data-view-link="{view}"]')
        wait_ready(page)
        if view == "user":
            page.fill("input[name=userId]", "user-1")
            page.click("[data-user-form] button[type=submit]")
            page.wait_for_selector("[data-movements] tbody tr")


def test_every_request_stays_on_the_origin_without_errors(service, watched):
    sign_in(watched.page, service)
    tour(watched.page)
    assert watched.requests
    assert {urlsplit(request.url).netloc for request in watched.requests} == {urlsplit(service.url).netloc}
    assert watched.errors == []


def test_stored_strings_are_shown_as_text(service, watched):
    page = watched.page
    sign_in(page, service)
    page.locator('[data-card="Pages"] [data-tab="page"]').click()
    for dimension, text in (("page", HOSTILE_PATH), ("event", HOSTILE_EVENT)):
        row = page.locator(f'[data-breakdown="{dimension}"] [data-row]').filter(has_text=text)
        expect(row).to_have_count(1)
        assert row.get_attribute("data-value") == text
    assert page.locator("main img, main b").count() == 0
    assert page.title() != "owned"
    assert watched.errors == []


@pytest.mark.parametrize("view", VIEWS)
def test_a_phone_screen_needs_no_horizontal_scroll(service, browser, view):
    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        sign_in(page, service, query=f"?view={view}&range=7d&tz=UTC&user=user-1&filter=page:{HOSTILE_PATH}")
        if view == "user":
            page.wait_for_selector("[data-movements] tbody tr")
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 375
    finally:
        context.close()


def test_range_buttons_work_from_the_keyboard(service, watched):
    page = watched.page
    sign_in(page, service)
    for _ in range(30):
        if page.evaluate("() => document.activeElement.dataset.range") == "24h":
            break
        page.keyboard.press("Tab")
    else:
        pytest.fail("Tab never reached the 24h range button")
    page.keyboard.press("Enter")
    expect(page.locator('[data-range="24h"]')).to_have_attribute("aria-pressed", "true")
    wait_ready(page)
    assert parse_qs(urlsplit(page.url).query)["range"] == ["24h"]
    page.keyboard.press("Tab")
    page.keyboard.press("Space")
    expect(page.locator('[data-range="7d"]')).to_have_attribute("aria-pressed", "true")
    wait_ready(page)
    assert shown_totals(page) == pytest.approx({name: stats(service)[name] for name in METRICS})


def test_live_visitors_and_the_live_feed(own_service, watched):
    service = own_service
    page = watched.page
    sign_in(page, service)
    with service.client() as client:
        live = client.get("/live/visitors").json()
    expect(page.locator('[data-metric="liveVisitors"]')).to_have_attribute("data-raw", str(live["visitors"]))
    assert live["visitors"] >= 2
    page.click('[data-view-link="live"]')
    wait_ready(page)
    with service.client() as client:
        client.post("/track", json={"userId": "newcomer", "sessionId": "s-new", "event": "page_view",
                                    "data": {"path": HOSTILE_PATH}, "eventId": "e-live"}).raise_for_status()
    arrived = page.locator('[data-feed] [data-movement="e-live"]')
    expect(arrived).to_contain_text(HOSTILE_PATH)
    expect(arrived).to_contain_text("newcomer")


def test_funnel_and_retention_views_equal_their_endpoints(service, watched):
    page = watched.page
    steps = ["page:/", "page:/pricing", "signup"]
    query = "&".join(f"step={step}" for step in steps)
    sign_in(page, service, query=f"?view=funnels&range=7d&tz=UTC&{query}")
    with service.client() as client:
        funnel = client.get("/funnels", params={**WINDOW, "step": steps}).json()
        cohorts = client.get("/retention", params={**WINDOW, "period": "day"}).json()
    shown = page.locator("[data-funnel] [data-step]")
    assert [(item.get_attribute("data-step"), int(item.get_attribute("data-count"))) for item in shown.all()] \
        == [(step["step"], step["count"]) for step in funnel["steps"]]
    page.click('[data-view-link="retention"]')
    wait_ready(page)
    table = [[int(cell.get_attribute("data-raw")) for cell in row.locator("td[data-raw]").all()]
             for row in page.locator("[data-retention] tbody tr").all()]
    assert table == [cohort["returned"] for cohort in cohorts["cohorts"]]


def test_a_users_page_pages_movements_and_erases_after_confirming(own_service, watched):
    service = own_service
    page = watched.page
    sign_in(page, service, query="?view=user&range=7d&tz=UTC&user=user-3")
    with service.client() as client:
        stored = client.get("/movements", params={"userId": "user-3", "limit": 1000}).json()["movements"]
    expect(page.locator("[data-movements] tbody tr")).to_have_count(len(stored))
    with page.expect_download() as download:
        page.click("text=Export (NDJSON)")
    exported = Path(download.value.path()).read_text().splitlines()
    assert download.value.suggested_filename == "user-3.ndjson"
    with service.client() as client:
        assert exported == client.get("/users/user-3/export").text.splitlines()
    page.click("text=Erase this user…")
    confirm = page.locator("[data-confirm-ok]")
    expect(confirm).to_be_disabled()
    page.fill("input[name=confirm]", "user-3")
    confirm.click()
    expect(page.locator("[data-user] [role=status]")).to_contain_text("Erased")
    with service.client() as client:
        assert client.get("/movements", params={"userId": "user-3"}).json()["movements"] == []


def test_custom_dates_and_zone_ask_for_that_local_window(service, watched):
    page = watched.page
    sign_in(page, service)
    page.select_option("[data-zone]", "Asia/Tokyo")
    wait_ready(page)
    assert parse_qs(urlsplit(page.url).query)["tz"] == ["Asia/Tokyo"]
    today = page.evaluate("() => new Intl.DateTimeFormat('en-CA', {timeZone: 'Asia/Tokyo'}).format(new Date())")
    start = page.evaluate("() => new Intl.DateTimeFormat('en-CA', {timeZone: 'Asia/Tokyo'})"
                          ".format(new Date(Date.now() - 3 * 86400000))")
    page.fill("[data-custom-range] input[name=from]", start)
    page.fill("[data-custom-range] input[name=to]", today)
    page.click("[data-custom-range] button[type=submit]")
    wait_ready(page)
    query = parse_qs(urlsplit(page.url).query)
    assert (query["from"], query["to"], query["tz"]) == ([start], [today], ["Asia/Tokyo"])
    assert page.locator('[data-range][aria-pressed="true"]').count() == 0
    # Midnight in Tokyo is 15:00 UTC the day before.
    stamp = page.evaluate(f"() => Date.parse('{start}T00:00:00+09:00')")
    end = page.evaluate(f"() => Date.parse('{today}T00:00:00+09:00') + 86400000")
    with service.client() as client:
        answer = client.get("/stats", params={"from": stamp, "to": end, "tz": "Asia/Tokyo"})
    expected = answer.json()["totals"]
    assert shown_totals(page) == pytest.approx({name: expected[name] for name in METRICS})



def answer_to(service, url: str) -> str:
    """What the service answers to the dashboard's request `url`."""
    parts = urlsplit(url)
    with service.client() as client:
        answer = client.get(f"{parts.path}?{parts.query}")
    answer.raise_for_status()
    return answer.text


def submit_user(user: str) -> Callable[[Page], None]:
    def submit(page: Page) -> None:
        page.fill("[data-user-form] input[name=userId]", user)
        page.click("[data-user-form] button[type=submit]")
    return submit


def click(selector: str) -> Callable[[Page], None]:
    return lambda page: page.click(selector)


def shown_rows(selector: str) -> Callable[[Page], list[str]]:
    return lambda page: [row.evaluate("row => row.outerHTML") for row in page.locator(selector).all()]


@dataclass
class Superseded:
    """A view, how to change what it asks twice in a row, and what it shows of an answer."""

    query: str
    path: str
    first: Callable[[Page], None]
    second: Callable[[Page], None]
    shown: Callable[[Page], object]
    stale: Callable[[object, str], str] = answer_to
    content_type: str = "application/json"


SUPERSEDED = {
    "overview": Superseded("?range=7d&tz=UTC", "/stats", click('[data-range="1h"]'),
                           click('[data-range="7d"]'), shown_totals),
    "funnels": Superseded("?view=funnels&range=7d&tz=UTC&step=page:/&step=signup", "/funnels",
                          click('[data-range="1h"]'), click('[data-range="7d"]'),
                          shown_rows("[data-funnel] [data-step]")),
    "retention": Superseded("?view=retention&range=7d&tz=UTC", "/retention", click('[data-range="1h"]'),
                            click('[data-range="7d"]'), shown_rows("[data-retention] tr")),
    "user": Superseded("?view=user&range=7d&tz=UTC&user=user-1", "/movements", submit_user("user-2"),
                       submit_user("user-1"), shown_rows("[data-movements] tr")),
}


@pytest.mark.parametrize("view", SUPERSEDED)
def test_a_slow_superseded_answer_is_never_drawn(service, watched, view):
    """The view asks, the user changes something before the answer came, the view asks again:
    the first answer, arriving last, must not replace the second's."""
    case = SUPERSEDED[view]
    page = watched.page
    sign_in(page, service, query=case.query)
    held = HeldBack(page, case.path)
    case.first(page)
    page.wait_for_function("() => document.body.dataset.state === 'loading'")
    case.second(page)
    wait_ready(page)
    newer = case.shown(page)
    assert len(held.urls) == 2
    stale = case.stale(service, held.urls[0])
    assert stale != answer_to(service, held.urls[1]), "the two answers must differ to tell them apart"
    held.release(stale, case.content_type)
    page.wait_for_timeout(500)
    assert case.shown(page) == newer
    assert held.failures == ["net::ERR_ABORTED"]
    assert watched.errors == []
