"""Goals, CSV and the export in the dashboard: the goals card and its filter chips, goals
managed in the settings, and every downloaded file equal to the API's own answer to the same
request, in headless Chromium against the real service."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from browser.dashboard_helpers import METRICS, seed, shown_totals, sign_in, wait_ready
from helpers import DAY, HOUR, now_ms

GOALS = [{"event": "signup"}, {"page": "/pri*", "name": "Pricing"}, {"event": "purchase"}]
# Purchases in two currencies; 19.90 + 0.30 makes 20.20, which floating point would not.
PURCHASES = [("buyer-1", "19.90", "EUR"), ("buyer-2", "0.30", "EUR"), ("buyer-2", "5", "USD"),
             ("buyer-3", "1200", "JPY")]


@pytest.fixture(scope="module")
def service(module_tracker_server):
    """The seeded service, with goals and purchases, that the module's tests read."""
    server = module_tracker_server(TRACKER_TRUSTED_PROXIES="127.0.0.1")
    seed(server)
    with server.client() as client:
        for goal in GOALS:
            client.post("/sites/default/goals", json=goal).raise_for_status()
        for number, (user, amount, currency) in enumerate(PURCHASES):
            client.post("/track", json={
                "userId": user, "sessionId": f"s-{user}", "event": "purchase", "eventId": f"buy-{number}",
                "timestamp": now_ms() - (number + 1) * HOUR, "data": {"path": "/checkout"},
                "revenue": {"amount": amount, "currency": currency}}).raise_for_status()
    return server


@pytest.fixture
def own_service(tracker_server):
    server = tracker_server(TRACKER_TRUSTED_PROXIES="127.0.0.1")
    seed(server, users=4)
    return server


def days_window() -> tuple[str, dict]:
    """A custom window of whole UTC days ending today: the dashboard's query, and the
    parameters its reads send (the same on both sides, however long the test takes)."""
    today = datetime.now(UTC).date()
    first = today - timedelta(days=6)
    start = int(datetime(first.year, first.month, first.day, tzinfo=UTC).timestamp() * 1000)
    window = {"from": start, "to": start + 7 * DAY, "tz": "UTC"}
    return f"?from={first.isoformat()}&to={today.isoformat()}&tz=UTC", window


def api(service, path: str, **parameters):
    with service.client() as client:
        answer = client.get(path, params=parameters)
    answer.raise_for_status()
    return answer


def shown_goals(page: Page) -> list[dict]:
    found = []
    for row in page.locator('[data-breakdown="goal"] [data-row]').all():
        revenue = {span.get_attribute("data-revenue"): {"total": span.get_attribute("data-total"),
                                                         "average": span.get_attribute("data-average")}
                   for span in row.locator("[data-revenue]").all()}
        found.append({"value": row.get_attribute("data-value"), "visitors": int(row.get_attribute("data-visitors")),
                      "events": int(row.get_attribute("data-events")),
                      "conversionRate": float(row.get_attribute("data-rate")), "revenue": revenue})
    return found


def test_the_goals_card_equals_breakdown_by_goal_and_a_click_filters(service, watched):
    page = watched.page
    query, window = days_window()
    sign_in(page, service, query=query)
    expected = api(service, "/breakdown", by="goal", limit=100, **window).json()["results"]
    assert {row["value"] for row in expected} == {"signup", "Pricing", "purchase"}
    assert shown_goals(page) == expected
    purchase = next(row for row in expected if row["value"] == "purchase")
    assert purchase["revenue"]["EUR"] == {"total": "20.20", "average": "10.10"}
    card = page.locator('[data-card="Goals"]')
    expect(card.locator('[data-revenue="EUR"]')).to_contain_text("20.20 EUR")
    expect(card.locator('[data-revenue="JPY"]')).to_contain_text("1200 JPY")

    card.locator('[data-row][data-value="signup"] button.label').click()
    wait_ready(page)
    chip = page.locator('[data-filter="goal:signup"]')
    expect(chip).to_be_visible()
    assert "filter=goal%3Asignup" in page.url
    filtered = api(service, "/stats", filter="goal:signup", **window).json()["totals"]
    assert shown_totals(page) == pytest.approx({name: filtered[name] for name in METRICS})
    conversions = page.locator('[data-metric="conversions"]')
    expect(conversions).to_have_attribute("data-raw", str(filtered["conversions"]))
    assert filtered["conversions"] > 0
    chip.click()
    wait_ready(page)
    expect(page.locator("[data-filter]")).to_have_count(0)
    expect(conversions).to_be_hidden()
    assert not watched.errors


def test_goals_are_added_and_deleted_in_the_settings(own_service, watched):
    page = watched.page
    sign_in(page, own_service, query="?view=settings&tz=UTC")
    panel = page.locator('[data-panel="goals"]')
    expect(panel.locator("[data-goals] li")).to_have_text(["No goals."])
    form = panel.locator("form[data-new-goal]")
    form.locator("input[name=goalTarget]").fill("signup")
    form.locator("button[type=submit]").click()
    expect(panel.locator('[data-goal="signup"]')).to_be_visible()
    form.locator("select[name=kind]").select_option("page")
    form.locator("input[name=goalTarget]").fill("/docs/*")
    form.locator("input[name=goalName]").fill("Read the docs")
    form.locator("button[type=submit]").click()
    expect(panel.locator('[data-goal="Read the docs"]')).to_contain_text("page /docs/*")
    stored = api(own_service, "/sites/default/goals").json()["goals"]
    assert [(goal["name"], goal["event"], goal["page"]) for goal in stored] \
        == [("signup", "signup", None), ("Read the docs", None, "/docs/*")]

    form.locator("select[name=kind]").select_option("event")
    form.locator("input[name=goalTarget]").fill("signup")
    form.locator("button[type=submit]").click()
    expect(panel.locator("[data-goals-status]")).to_contain_text("Not added")

    panel.locator('[data-goal="signup"] [data-delete-goal]').click()
    expect(panel.locator('[data-goal="signup"]')).to_have_count(0)
    stored = api(own_service, "/sites/default/goals").json()["goals"]
    assert [goal["name"] for goal in stored] == ["Read the docs"]
    page.click('[data-view-link="overview"]')
    wait_ready(page)
    assert [row["value"] for row in shown_goals(page)] == ["Read the docs"]


def download(page: Page, button) -> bytes:
    with page.expect_download() as info:
        button.click()
    return Path(info.value.path()).read_bytes()


def test_every_cards_csv_equals_the_apis_csv_for_the_same_request(service, watched):
    page = watched.page
    query, window = days_window()
    filters = ["goal:signup"]
    sign_in(page, service, query=query + "&filter=goal%3Asignup")
    csv_of = {"format": "csv", "site": "default", **window, "filter": filters}

    chart = page.locator(".chart-box [data-download-csv]")
    series = download(page, chart)
    assert series == api(service, "/stats", compare="previous", **csv_of).content
    assert series.startswith(b"t,visitors,visits,pageviews")

    tabs = page.locator('[data-card] [data-tab]:not([data-tab="prop"])')
    for index in range(tabs.count()):
        tab = tabs.nth(index)
        tab.click()
        card = tab.locator("xpath=ancestor::article")
        expect(card.locator("[data-breakdown]")).not_to_have_attribute("aria-busy", "true")
        by = card.locator("[data-breakdown]").get_attribute("data-breakdown")
        got = download(page, card.locator("[data-download-csv]"))
        assert got == api(service, "/breakdown", by=by, limit=10, **csv_of).content, by

    goals = download(page, page.locator('[data-card="Goals"] [data-download-csv]'))
    expected = api(service, "/breakdown", by="goal", limit=100, **csv_of).content
    assert goals == expected
    assert list(csv.DictReader(io.StringIO(goals.decode())))[0]["value"] == "signup"
    assert not watched.errors


def test_export_downloads_the_windows_zip_as_the_api_answers_it(service, watched):
    page = watched.page
    query, window = days_window()
    sign_in(page, service, query=query)
    with page.expect_download() as info:
        page.click("[data-export]")
    got = info.value
    today = datetime.now(UTC).date()
    assert got.suggested_filename == f"default-{today - timedelta(days=6)}-{today}.zip"
    answer = api(service, "/sites/default/export", **window).content
    with zipfile.ZipFile(got.path()) as shown, zipfile.ZipFile(io.BytesIO(answer)) as answered:
        assert shown.namelist() == answered.namelist()
        assert "goals.csv" in shown.namelist()
        for name in shown.namelist():
            assert shown.read(name) == answered.read(name), name
        assert b"20.20" in shown.read("goals.csv")
