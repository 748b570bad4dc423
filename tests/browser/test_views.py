"""What the dashboard's views do to be read right, in headless Chromium against the real
service: the live count moves with the live stream (asked only once signed in), partial buckets
are marked, an empty site shows its script tag and then its first event, retention counts
signed-in users unless asked otherwise and its table says that it scrolls, funnels give each
step's conversion from the one before, and their CSV equals the API's."""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect

from browser.dashboard_helpers import CHROME, WINDOW, seed, sign_in, wait_ready
from helpers import DAY, HOUR, now_ms

FUNNEL = ["page:/", "page:/pricing", "signup"]
LIVE = '[data-metric="liveVisitors"]'
# Forty users first seen three days ago, one of whom comes back the next day: 1 in 40.
FEW_BACK = 40


def three_days_ago() -> int:
    now = now_ms()
    return now - now % DAY - 3 * DAY + HOUR


@pytest.fixture(scope="module")
def service(module_tracker_server):
    """The seeded service, with a day of mostly one-time users and anonymous visitors."""
    server = module_tracker_server(TRACKER_TRUSTED_PROXIES="127.0.0.1")
    seed(server)
    joined = three_days_ago()
    events = [{"userId": f"once-{n}", "sessionId": f"once-{n}", "event": "page_view",
               "timestamp": joined, "data": {"path": "/"}} for n in range(FEW_BACK)]
    events.append({"userId": "once-0", "sessionId": "once-0b", "event": "page_view",
                   "timestamp": joined + DAY, "data": {"path": "/"}})
    anonymous = [{"event": "page_view", "timestamp": joined + k * DAY, "data": {"path": "/"}} for k in range(3)]
    with server.client() as client:
        for batch, headers in ((events, {}), (anonymous, {"User-Agent": CHROME, "X-Forwarded-For": "8.8.4.4"})):
            answer = client.post("/track", json={"events": batch}, headers=headers)
            assert answer.status_code == 200, answer.text
    return server


def api(service, path: str, **parameters) -> dict:
    with service.client() as client:
        answer = client.get(path, params=parameters)
    answer.raise_for_status()
    return answer.json()


def live_visitors(service, **parameters) -> int:
    return api(service, "/live/visitors", **parameters)["visitors"]


def test_the_live_count_follows_the_stream_and_waits_for_sign_in(own_service, watched):
    service = own_service
    page = watched.page
    page.goto(f"{service.url}/?range=7d&tz=UTC")
    page.wait_for_selector("body[data-state=signin]")
    page.wait_for_timeout(300)
    asked = [urlsplit(r.url).path for r in watched.requests]
    assert not {"/live", "/live/visitors"} & set(asked)  # nothing asked before sign-in
    page.fill("input[name=token]", service.token)
    page.click("form[data-signin] button[type=submit]")
    wait_ready(page)
    expect(page.locator(LIVE)).to_have_attribute("data-raw", str(live_visitors(service)))
    before = live_visitors(service)
    with service.client() as client:
        client.post("/track", json={"userId": "arrives", "sessionId": "s-arrives", "event": "page_view",
                                    "data": {"path": "/"}}).raise_for_status()
    assert live_visitors(service) == before + 1
    # Far sooner than the 30 s between the count's own requests.
    expect(page.locator(LIVE)).to_have_attribute("data-raw", str(before + 1), timeout=5000)

    page.click('[data-view-link="live"]')  # the feed reads the same stream: no second one
    wait_ready(page)
    with service.client() as client:
        client.post("/track", json={"userId": "second", "sessionId": "s-second", "event": "page_view",
                                    "data": {"path": "/"}, "eventId": "e-second"}).raise_for_status()
    expect(page.locator('[data-feed] [data-movement="e-second"]')).to_contain_text("second")
    expect(page.locator(LIVE)).to_have_attribute("data-raw", str(before + 2), timeout=5000)
    streams = [r for r in watched.requests if urlsplit(r.url).path == "/live"]
    assert len(streams) == 1
    assert watched.errors == []


@pytest.fixture
def own_service(tracker_server):
    server = tracker_server(TRACKER_TRUSTED_PROXIES="127.0.0.1")
    seed(server, users=4)
    return server


def test_partial_buckets_are_marked_and_whole_ones_are_not(service, watched):
    page = watched.page
    sign_in(page, service, query="?range=24h&tz=UTC")
    answer = api(service, "/stats", timeRange="24h", tz="UTC")
    assert answer["series"][0]["t"] < answer["from"]  # a rolling day cuts its first hour
    chart = page.locator("[data-chart]")
    expect(chart).to_have_attribute("data-partial", "first last")
    expect(page.locator("[data-chart-caption]")).to_contain_text("dashed: the first and last hour are partial")
    labels = page.locator(".u-legend .u-series th").all_inner_texts()
    assert "Visitors, partial bucket" in labels

    yesterday = time.strftime("%Y-%m-%d", time.gmtime(now_ms() / 1000 - 86400))
    earlier = time.strftime("%Y-%m-%d", time.gmtime(now_ms() / 1000 - 4 * 86400))
    page.goto(f"{service.url}/?from={earlier}&to={yesterday}&tz=UTC")
    wait_ready(page)
    expect(chart).to_have_attribute("data-partial", "")
    expect(page.locator("[data-chart-caption]")).not_to_contain_text("partial")


def test_an_empty_site_shows_its_tag_then_its_first_event(tracker_server, watched):
    service = tracker_server()
    page = watched.page
    sign_in(page, service)
    setup = page.locator("[data-setup]")
    expect(setup).to_be_visible()
    tag = setup.locator("[data-copy-text]").input_value()
    assert 'data-site="default"' in tag and f'src="{service.url}/tracker.js"' in tag
    expect(setup.locator("[data-waiting]")).to_contain_text("Waiting for the first event")
    with service.client() as client:
        client.post("/track", json={"userId": "first", "sessionId": "s", "event": "page_view",
                                    "data": {"path": "/hello"}}).raise_for_status()
    expect(setup).to_be_hidden(timeout=15000)
    expect(page.locator('[data-metric="visitors"]')).to_have_attribute("data-raw", "1")
    expect(page.locator('[data-breakdown="page"] [data-row][data-value="/hello"]')).to_have_count(1)


def shown_table(page: Page) -> list[list[int]]:
    return [[int(cell.get_attribute("data-raw")) for cell in row.locator("td[data-raw]").all()]
            for row in page.locator("[data-retention] tbody tr").all()]


def test_retention_counts_signed_in_users_unless_asked(service, watched):
    page = watched.page
    sign_in(page, service, query="?view=retention&range=7d&tz=UTC")
    identified = api(service, "/retention", period="day", **WINDOW)
    everyone = api(service, "/retention", period="day", identified="false", **WINDOW)
    assert identified != everyone  # the anonymous visitor's days are three more cohort users
    assert shown_table(page) == [c["returned"] for c in identified["cohorts"]]
    expect(page.locator("[data-retention-form] select[name=identified]")).to_have_value("true")
    expect(page.locator("[data-retention-who]")).to_contain_text("Signed-in users only")
    page.select_option("[data-retention-form] select[name=identified]", "false")
    page.click("[data-retention-form] button[type=submit]")
    wait_ready(page)
    assert parse_qs(urlsplit(page.url).query)["identified"] == ["false"]
    assert shown_table(page) == [c["returned"] for c in everyone["cohorts"]]
    expect(page.locator("[data-retention-who]")).to_contain_text("Every visitor")


def test_retention_on_a_phone_says_it_scrolls_and_low_rates_show(service, browser: Browser):
    context = browser.new_context(viewport={"width": 375, "height": 740})
    try:
        page = context.new_page()
        sign_in(page, service, query="?view=retention&range=30d&tz=UTC")
        scroller = page.locator("[data-retention]")
        assert scroller.evaluate("box => box.scrollWidth > box.clientWidth")
        frame = page.locator("[data-retention-frame]")
        expect(frame).to_have_attribute("data-more", "right")
        first = page.locator("[data-retention] tbody th").first
        assert first.evaluate("cell => getComputedStyle(cell).position") == "sticky"
        left = first.bounding_box()["x"]
        scroller.evaluate("box => box.scrollLeft = box.scrollWidth")
        expect(frame).not_to_have_attribute("data-more", "right")
        assert first.bounding_box()["x"] == pytest.approx(left, abs=1)  # the cohort column stays

        # The lowest non-zero rates, such as 1 in 40, are shaded clearly enough to see.
        shades = page.locator("[data-retention] td.shade").evaluate_all("""cells => cells.map(cell => {
            const [returned, users] = cell.title.split(" of ").map(Number);
            const alpha = getComputedStyle(cell).backgroundColor.match(/[\\d.]+(?=\\))/);
            return [users ? returned / users : 0, alpha ? Number(alpha[0]) : 0];
        })""")
        low = [alpha for rate, alpha in shades if 0 < rate < 0.1]
        assert low, "the seeded cohort has a rate under 10%"
        assert min(low) >= 0.2
        assert all(alpha == 0 for rate, alpha in shades if rate == 0)
    finally:
        context.close()


def download(page: Page, button) -> bytes:
    with page.expect_download() as info:
        button.click()
    return Path(info.value.path()).read_bytes()


def test_funnels_give_step_to_step_conversion_and_csv(service, watched):
    page = watched.page
    steps = "&".join(f"step={step}" for step in FUNNEL)
    sign_in(page, service, query=f"?view=funnels&range=7d&tz=UTC&{steps}")
    answer = api(service, "/funnels", step=FUNNEL, **WINDOW)["steps"]
    shown = page.locator("[data-funnel] [data-step]").all()
    assert shown[0].get_attribute("data-from-before") is None
    for before, step, item in zip(answer, answer[1:], shown[1:]):
        expected = step["count"] / before["count"] if before["count"] else 0
        assert float(item.get_attribute("data-from-before")) == pytest.approx(expected)
        expect(item.locator(".step-rate")).to_contain_text(f"of step {answer.index(before) + 1}")
    assert 0 < float(shown[1].get_attribute("data-from-before")) < 1

    with service.client() as client:
        funnel_csv = client.get("/funnels", params={**WINDOW, "step": FUNNEL, "by": "user", "format": "csv",
                                                    "site": "default"}).content
    got = download(page, page.locator("[data-funnel-tools] [data-download-csv]"))
    assert got == funnel_csv

    page.click('[data-view-link="retention"]')
    wait_ready(page)
    with service.client() as client:
        retention_csv = client.get("/retention", params={**WINDOW, "period": "day", "identified": "true",
                                                         "format": "csv", "site": "default"}).content
    assert download(page, page.locator("[data-retention-tools] [data-download-csv]")) == retention_csv
