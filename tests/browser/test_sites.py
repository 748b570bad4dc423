"""Several sites in the dashboard: the picker, a site key's limits, and the admin's settings
(sites, keys, share links), in headless Chromium against the real service."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx2 as httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from browser.conftest import SHOP
from browser.dashboard_helpers import (
    METRICS,
    HeldBack,
    breakdown,
    rows,
    shown_totals,
    sign_in,
    stale_movement,
    stats,
    wait_ready,
)

HOSTILE_NAME = '<img src=x onerror="document.title=\'owned\'">Shop'
# The reads a dashboard makes for one site; each must name it.
SITE_READS = {"/stats", "/breakdown", "/funnels", "/retention", "/live", "/live/visitors",
              "/analytics", "/movements"}
FUNNEL = ["page:/", "page:/pricing", "signup"]


def query(page: Page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def api(service, path: str, token: str | None = None, method: str = "GET", body: dict | None = None,
        **parameters) -> httpx.Response:
    """The service's answer, as the admin unless `token` is given."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with service.client() as client:
        return client.request(method, path, params=parameters, headers=headers, json=body)


def site_of(service, site_id: str) -> dict:
    answer = api(service, f"/sites/{site_id}")
    answer.raise_for_status()
    return answer.json()


def open_settings(page: Page, service) -> None:
    sign_in(page, service, query=f"?site={SHOP}&view=settings&tz=UTC")


def test_the_picker_switches_sites_and_every_panel_equals_the_api(two_sites, watched):
    page = watched.page
    sign_in(page, two_sites)
    assert query(page)["site"] == ["default"]
    assert shown_totals(page) == pytest.approx({name: stats(two_sites, site="default")[name] for name in METRICS})
    picker = page.locator("[data-site]")
    expect(picker).to_be_visible()
    assert picker.locator("option").all_inner_texts() == ["default", SHOP]

    before = len(watched.requests)
    picker.select_option(SHOP)
    wait_ready(page)
    assert query(page)["site"] == [SHOP]
    expected = stats(two_sites, site=SHOP)
    assert expected != stats(two_sites, site="default")  # else the check below could not tell them apart
    assert shown_totals(page) == pytest.approx({name: expected[name] for name in METRICS})
    live = api(two_sites, "/live/visitors", site=SHOP).json()
    expect(page.locator('[data-metric="liveVisitors"]')).to_have_attribute("data-raw", str(live["visitors"]))
    tabs = page.locator("[data-tab]:not([data-tab=prop])")
    for index in range(tabs.count()):
        tabs.nth(index).click()
        card = tabs.nth(index).locator("xpath=ancestor::article")
        dimension = card.locator("[data-breakdown]").get_attribute("data-breakdown")
        expect(card.locator("[data-breakdown]")).not_to_have_attribute("aria-busy", "true")
        assert rows(page, dimension) == breakdown(two_sites, dimension, site=SHOP), dimension

    page.click('[data-view-link="funnels"]')
    wait_ready(page)
    funnel = api(two_sites, "/funnels", site=SHOP, timeRange="7d", tz="UTC", step=FUNNEL).json()
    shown = page.locator("[data-funnel] [data-step]")
    assert [(step.get_attribute("data-step"), int(step.get_attribute("data-count"))) for step in shown.all()] \
        == [(step["step"], step["count"]) for step in funnel["steps"]]
    page.click('[data-view-link="retention"]')
    wait_ready(page)
    cohorts = api(two_sites, "/retention", site=SHOP, timeRange="7d", tz="UTC", period="day").json()
    table = [[int(cell.get_attribute("data-raw")) for cell in row.locator("td[data-raw]").all()]
             for row in page.locator("[data-retention] tbody tr").all()]
    assert table == [cohort["returned"] for cohort in cohorts["cohorts"]]

    reads = [request for request in watched.requests[before:] if urlsplit(request.url).path in SITE_READS]
    assert reads and all(parse_qs(urlsplit(request.url).query)["site"] == [SHOP] for request in reads)
    page.go_back()
    page.go_back()
    page.go_back()
    wait_ready(page)
    assert query(page)["site"] == ["default"]
    assert shown_totals(page) == pytest.approx({name: stats(two_sites, site="default")[name] for name in METRICS})
    assert watched.errors == []


def test_a_site_key_reads_its_own_site_alone(two_sites, watched):
    key = api(two_sites, f"/sites/{SHOP}/keys", method="POST").json()["key"]
    page = watched.page
    sign_in(page, two_sites, token=key)
    assert query(page)["site"] == [SHOP]
    expected = stats(two_sites, site=SHOP)
    assert shown_totals(page) == pytest.approx({name: expected[name] for name in METRICS})
    expect(page.locator("[data-site-picker]")).to_be_hidden()  # one site: out of the way
    expect(page.locator('[data-view-link="settings"]')).to_be_hidden()
    expect(page.locator('[data-view-link="user"]')).to_be_visible()

    # Another site's view, asked for through the URL: every read is refused, nothing shows.
    before = len(watched.requests)
    page.goto(f"{two_sites.url}/?site=default&range=7d&tz=UTC")
    wait_ready(page)
    expect(page.locator("[data-error]")).to_contain_text("another site")
    assert all(page.get_attribute(f'[data-metric="{name}"]', "data-raw") is None for name in METRICS)
    reads = [request for request in watched.requests[before:] if urlsplit(request.url).path in SITE_READS]
    assert reads and {request.response().status for request in reads} == {403}
    assert all("403" in error for error in watched.errors)  # the browser's own report of each


@pytest.mark.parametrize("path, parameters", [
    ("/stats", {}), ("/breakdown", {"by": "page"}), ("/funnels", {"step": ["page:/", "signup"]}),
    ("/retention", {}), ("/live/visitors", {}), ("/live", {}), ("/analytics", {}),
    ("/movements", {"userId": "user-1"}), ("/session", {"sessionId": "s-1-0"}),
    ("/users/user-1/export", {}), ("/users/user-1/erasure", {}),
])
def test_a_site_key_is_refused_every_read_of_another_site(two_sites, path, parameters):
    key = api(two_sites, f"/sites/{SHOP}/keys", method="POST").json()["key"]
    answer = api(two_sites, path, token=key, site="default", **parameters)
    assert answer.status_code == 403 and answer.json()["error"] == "forbidden"


def test_a_site_key_manages_nothing(two_sites):
    key = api(two_sites, f"/sites/{SHOP}/keys", method="POST").json()["key"]
    assert [site["id"] for site in api(two_sites, "/sites", token=key).json()["sites"]] == [SHOP]
    assert api(two_sites, "/users/user-1", token=key, method="DELETE", site="default").status_code == 403
    for method, path in (("GET", f"/sites/{SHOP}/keys"), ("POST", f"/sites/{SHOP}/keys"),
                         ("GET", f"/sites/{SHOP}/shares"), ("DELETE", f"/sites/{SHOP}"),
                         ("PATCH", f"/sites/{SHOP}"), ("POST", "/sites")):
        assert api(two_sites, path, token=key, method=method).status_code == 403, (method, path)
    assert api(two_sites, "/movements", token=key, userId="user-1").status_code == 200


def test_the_admin_adds_edits_and_deletes_a_site(own_two_sites, watched):
    two_sites = own_two_sites
    page = watched.page
    open_settings(page, two_sites)
    # The site without domains is named, since a second site changes where its events go.
    expect(page.locator("[data-domains-first]")).to_contain_text("No domains yet: default.")
    form = page.locator("[data-new-site]")
    form.locator("input[name=siteId]").fill("blog.example")
    form.locator("input[name=siteName]").fill(HOSTILE_NAME)
    form.locator("input[name=domains]").fill("blog.example, www.blog.example")
    form.locator("select[name=timezone]").select_option("Europe/Paris")
    form.locator("button[type=submit]").click()
    expect(page.locator("[data-new-site-status]")).to_have_text("Added blog.example.")
    wait_ready(page)
    assert query(page)["site"] == ["blog.example"]
    made = site_of(two_sites, "blog.example")
    assert (made["name"], made["domains"], made["timezone"]) \
        == (HOSTILE_NAME, ["blog.example", "www.blog.example"], "Europe/Paris")
    expect(page.locator('[data-site] option[value="blog.example"]')).to_have_text(f"{HOSTILE_NAME} (blog.example)")

    edit = page.locator("[data-site-form]")
    expect(edit.locator("input[name=siteName]")).to_have_value(HOSTILE_NAME)
    edit.locator("input[name=siteName]").fill("Blog")
    edit.locator("input[name=domains]").fill("blog.example news.blog.example")
    edit.locator("select[name=timezone]").select_option("Asia/Tokyo")
    edit.locator("button[type=submit]").click()
    expect(page.locator("[data-site-status]")).to_have_text("Saved.")
    changed = site_of(two_sites, "blog.example")
    assert (changed["name"], changed["domains"], changed["timezone"]) \
        == ("Blog", ["blog.example", "news.blog.example"], "Asia/Tokyo")

    page.click("[data-delete-site]")
    expect(page.locator("[data-confirm-text]")).to_contain_text("blog.example")
    confirm = page.locator("[data-confirm-ok]")
    page.fill("input[name=confirm]", "blog.exampl")
    expect(confirm).to_be_disabled()
    page.fill("input[name=confirm]", "blog.example")
    confirm.click()
    listed = page.locator('[data-site-list] [data-site-item="blog.example"]')
    expect(listed).to_have_attribute("data-status", "deleting")
    expect(listed).to_contain_text("deleting")
    expect(listed).to_have_count(0, timeout=30000)
    assert api(two_sites, "/sites/blog.example").status_code == 404
    expect(page.locator('[data-site] option[value="blog.example"]')).to_have_count(0)
    assert query(page)["site"] != ["blog.example"]
    assert page.title() != "owned"
    assert watched.errors == []


def test_a_new_key_is_shown_once_copied_and_revoked(own_two_sites, browser: Browser):
    two_sites = own_two_sites
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    try:
        page = context.new_page()
        open_settings(page, two_sites)
        page.click("[data-add-key]")
        field = page.locator("[data-made-key] [data-copy-text]")
        key = field.input_value()
        assert key.startswith("tk_")
        page.click("[data-made-key] [data-copy]")
        expect(page.locator("[data-made-key] [role=status]")).to_have_text("Copied.")
        assert page.evaluate("navigator.clipboard.readText()") == key

        assert api(two_sites, "/stats", token=key, site=SHOP).status_code == 200
        [listed] = api(two_sites, f"/sites/{SHOP}/keys").json()["keys"]
        expect(page.locator("[data-keys] [data-key]")).to_have_attribute("data-key", listed["id"])
        page.reload()
        wait_ready(page)
        expect(page.locator("[data-keys] [data-key]")).to_have_count(1)
        assert key not in page.content()  # shown once

        page.click("[data-keys] [data-revoke]")
        expect(page.locator("[data-keys] [data-key]")).to_have_count(0)
        assert api(two_sites, "/stats", token=key, site=SHOP).status_code == 401
    finally:
        context.close()


def test_without_the_clipboard_copy_selects_the_text(two_sites, watched):
    page = watched.page
    page.add_init_script("Object.defineProperty(Navigator.prototype, 'clipboard', {get: () => undefined})")
    open_settings(page, two_sites)
    page.click("[data-add-key]")
    key = page.locator("[data-made-key] [data-copy-text]").input_value()
    page.click("[data-made-key] [data-copy]")
    expect(page.locator("[data-made-key] [role=status]")).to_contain_text("Ctrl+C")
    selected = page.evaluate("() => { const field = document.activeElement;"
                             " return field.value.slice(field.selectionStart, field.selectionEnd); }")
    assert selected == key


def test_a_new_share_link_takes_a_password_and_an_expiry(own_two_sites, watched, browser: Browser):
    two_sites = own_two_sites
    page = watched.page
    open_settings(page, two_sites)
    local, expires = page.evaluate("""() => {
        const when = new Date(Date.now() + 2 * 86400000);
        when.setSeconds(0, 0);
        const pad = (n) => String(n).padStart(2, "0");
        const local = `${when.getFullYear()}-${pad(when.getMonth() + 1)}-${pad(when.getDate())}`
            + `T${pad(when.getHours())}:${pad(when.getMinutes())}`;
        return [local, when.getTime()];
    }""")
    form = page.locator("[data-new-share]")
    form.locator("input[name=password]").fill("open sesame")
    form.locator("input[name=expires]").fill(local)
    form.locator("button[type=submit]").click()
    url = page.locator("[data-made-share] [data-copy-text]").input_value()
    assert url.startswith(f"{two_sites.url}/share/")
    [listed] = api(two_sites, f"/sites/{SHOP}/shares").json()["shares"]
    assert (listed["password"], listed["expires"]) == (True, expires)
    item = page.locator(f'[data-shares] [data-share="{listed["id"]}"]')
    expect(item).to_contain_text("password · expires")

    stranger = browser.new_context()
    try:
        shared = stranger.new_page()
        shared.goto(url)
        expect(shared.locator("body")).to_have_attribute("data-state", "password")
        item.locator("[data-revoke]").click()
        expect(page.locator("[data-shares] [data-share]")).to_have_count(0)
        assert api(two_sites, f"/sites/{SHOP}/shares").json()["shares"] == []
        shared.reload()
        expect(shared.locator("body")).to_have_attribute("data-state", "gone")
    finally:
        stranger.close()


def test_the_forms_say_why_the_service_refused(own_two_sites, watched):
    two_sites = own_two_sites
    page = watched.page
    open_settings(page, two_sites)
    add = page.locator("[data-new-site]")
    add.locator("input[name=siteId]").fill(SHOP)
    add.locator("button[type=submit]").click()
    expect(page.locator("[data-new-site-status]")).to_contain_text("Not added:")
    expect(page.locator("[data-new-site-status]")).to_contain_text(SHOP)
    add.locator("input[name=siteId]").fill("other.example")
    add.locator("input[name=domains]").fill("shop.example/path")
    add.locator("button[type=submit]").click()
    expect(page.locator("[data-new-site-status]")).to_contain_text("is not a host name")

    edit = page.locator("[data-site-form]")
    edit.locator("input[name=domains]").fill("bad:host")
    edit.locator("button[type=submit]").click()
    expect(page.locator("[data-site-status]")).to_contain_text("Not saved:")
    assert site_of(two_sites, SHOP)["domains"] == [SHOP]

    share = page.locator("[data-new-share]")
    share.locator("input[name=expires]").fill("2001-01-01T00:00")
    share.locator("button[type=submit]").click()
    expect(page.locator("[data-shares-status]")).to_contain_text("must be in the future")

    api(two_sites, f"/sites/{SHOP}", method="DELETE").raise_for_status()
    page.goto(f"{two_sites.url}/?site=default&view=settings&tz=UTC")
    wait_ready(page)
    page.click("[data-delete-site]")
    page.fill("input[name=confirm]", "default")
    page.click("[data-confirm-ok]")
    expect(page.locator("[data-delete-status]")).to_contain_text("Not deleted:")
    assert site_of(two_sites, "default")["status"] == "live"


def test_an_empty_site_shows_how_to_add_the_script(own_two_sites, watched):
    two_sites = own_two_sites
    api(two_sites, "/sites", method="POST", body={"id": "new.example"}).raise_for_status()
    page = watched.page
    sign_in(page, two_sites, query="?site=new.example&range=7d&tz=UTC")
    setup = page.locator("[data-setup]")
    expect(setup).to_be_visible()
    tag = setup.locator("[data-copy-text]").input_value()
    assert tag == (f'<script src="{two_sites.url}/tracker.js" data-site="new.example" '
                   'data-anonymous defer></script>')

    # A site with traffic shows no tag, even over a window without any.
    today = page.evaluate("() => new Date().toISOString().slice(0, 10)")
    earlier = page.evaluate("() => new Date(Date.now() - 20 * 86400000).toISOString().slice(0, 10)")
    later = page.evaluate("() => new Date(Date.now() - 10 * 86400000).toISOString().slice(0, 10)")
    page.goto(f"{two_sites.url}/?site={SHOP}&from={earlier}&to={later}&tz=UTC")
    wait_ready(page)
    assert page.get_attribute('[data-metric="visitors"]', "data-raw") == "0"
    expect(page.locator('[data-breakdown="channel"]')).to_contain_text("Nothing in this range.")
    expect(setup).to_be_hidden()
    page.goto(f"{two_sites.url}/?site={SHOP}&from={earlier}&to={today}&tz=UTC")
    wait_ready(page)
    expect(setup).to_be_hidden()
    assert float(page.get_attribute('[data-metric="visitors"]', "data-raw")) > 0


def test_site_names_are_shown_as_text(own_two_sites, watched):
    two_sites = own_two_sites
    api(two_sites, f"/sites/{SHOP}", method="PATCH", body={"name": HOSTILE_NAME}).raise_for_status()
    page = watched.page
    open_settings(page, two_sites)
    expect(page.locator(f'[data-site] option[value="{SHOP}"]')).to_have_text(f"{HOSTILE_NAME} ({SHOP})")
    expect(page.locator(f'[data-site-item="{SHOP}"] .label')).to_have_text(HOSTILE_NAME)
    expect(page.locator(f'[data-site-item="{SHOP}"]')).to_contain_text(f"{SHOP} · {SHOP} · UTC")
    expect(page.locator("[data-site-form] input[name=siteName]")).to_have_value(HOSTILE_NAME)
    assert page.locator("header img, main img").count() == 0
    assert page.title() != "owned"
    assert watched.errors == []


@pytest.mark.parametrize("shown", ["settings", "empty site"])
def test_a_phone_screen_needs_no_horizontal_scroll_in_the_site_views(own_two_sites, browser: Browser, shown):
    two_sites = own_two_sites
    api(two_sites, f"/sites/{SHOP}", method="PATCH",
        body={"name": "A rather long site name that goes on " * 2,
              "domains": [SHOP, "a-very-long-subdomain-name-for-testing.shop.example"]}).raise_for_status()
    api(two_sites, "/sites", method="POST", body={"id": "new.example"}).raise_for_status()
    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        if shown == "settings":
            api(two_sites, f"/sites/{SHOP}/shares", method="POST", body={"password": "pw"}).raise_for_status()
            open_settings(page, two_sites)
            page.click("[data-add-key]")
            page.click("[data-new-share] button[type=submit]")
            expect(page.locator("[data-made-share] [data-copy-text]")).to_be_visible()
        else:
            sign_in(page, two_sites, query="?site=new.example&range=7d&tz=UTC")
            expect(page.locator("[data-setup]")).to_be_visible()
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 375
    finally:
        context.close()


def unavailable(route) -> None:
    route.fulfill(status=503, content_type="application/json",
                  body='{"error": "overloaded", "detail": "try again later"}')


def test_a_service_that_does_not_answer_the_sign_in_is_said_so(two_sites, watched):
    page = watched.page
    page.route(f"{two_sites.url}/sites", unavailable)
    page.goto(f"{two_sites.url}/?range=7d&tz=UTC")
    page.fill("input[name=token]", two_sites.token)
    page.click("form[data-signin] button[type=submit]")
    expect(page.locator("[data-signin-error]")).to_contain_text("did not answer: try again later")
    assert page.evaluate("() => sessionStorage.length + localStorage.length") == 0

    # A kept token is kept: the page asks again, and a reload tries again.
    page.evaluate(f"() => sessionStorage.setItem('tracker.readToken', '{two_sites.token}')")
    page.reload()
    expect(page.locator("[data-signin-error]")).to_contain_text("Reload the page to try again")
    assert page.evaluate("() => sessionStorage.getItem('tracker.readToken')") == two_sites.token
    page.unroute(f"{two_sites.url}/sites")
    page.reload()
    wait_ready(page)


def test_a_superseded_sites_live_stream_is_never_drawn(two_sites, watched):
    """The live feed of one site, left for another before its stream answered: the first
    stream's movements, arriving last, must not appear."""
    page = watched.page
    sign_in(page, two_sites, query="?view=live&range=7d&tz=UTC")
    held = HeldBack(page, "/live")
    page.locator("[data-site]").select_option(SHOP)
    page.wait_for_function("() => document.body.dataset.state === 'loading'")
    page.locator("[data-site]").select_option("default")
    wait_ready(page)
    expect(page.locator("[data-live-status]")).to_contain_text("Connected")
    assert len(held.urls) == 2
    assert parse_qs(urlsplit(held.urls[0]).query)["site"] == [SHOP]
    held.release(stale_movement(held.urls[0]), "text/event-stream")
    page.wait_for_timeout(500)
    expect(page.locator("[data-feed] li")).to_have_count(0)
    assert held.failures == ["net::ERR_ABORTED"]
