"""The JavaScript client in headless Chromium, against the real service on another origin."""

from __future__ import annotations

import json
import re
import time
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page

UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
QUEUE_KEY = "userTracker.queue"


def cors_error(status: int, retry_after: str | None = None) -> dict:
    """route.fulfill arguments for an error answered the way the service answers it."""
    headers = {"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": "Retry-After",
               "Content-Type": "application/json"}
    if retry_after is not None:
        headers["Retry-After"] = retry_after
    body = json.dumps({"error": "from_test", "detail": f"status {status}"})
    return {"status": status, "headers": headers, "body": body}


def names(movements: list[dict]) -> list[str]:
    return [m["event"] if m["event"] != "page_view" else f"view {m['data']['path']}"
            for m in movements]


def stored_queue(page: Page) -> list[dict]:
    return page.evaluate(f"JSON.parse(localStorage.getItem('{QUEUE_KEY}') || '[]')")


def assert_once(movements: list[dict]) -> None:
    ids = [m["eventId"] for m in movements]
    assert all(UUID4.match(i) for i in ids), ids
    assert len(set(ids)) == len(ids), "an event was stored twice"


def test_page_views_events_and_spa_navigation_arrive_exactly_once(site):
    page = site.open("module.html", "u-spa", flushInterval=60000)
    page.evaluate("""() => {
        userTracker.track("signup", {plan: "pro"});
        history.pushState({}, "", "/pricing");
        history.replaceState({}, "", "/pricing?tab=2");
        history.replaceState({}, "", "/plans");
        history.pushState({}, "", "/plans?tab=2");
        userTracker.track("click");
    }""")
    page.go_back()
    page.wait_for_function("location.pathname === '/plans'")
    assert page.evaluate("userTracker.flush()") is True

    movements = site.wait_for_movements("u-spa", 7)
    assert names(movements) == ["view /module.html", "signup", "view /pricing", "view /plans",
                                "view /plans", "click", "view /plans"]
    assert movements[1]["data"] == {"plan": "pro"}
    assert movements[2]["data"]["referrer"] == site.url("module.html", "u-spa", flushInterval=60000)
    assert_once(movements)
    assert len({m["sessionId"] for m in movements}) == 1
    assert len(site.requests("/session")) == 1


def open_as(site, user: str | None, query: dict | None = None, **options) -> Page:
    """module.html tracking as `user`; with None anonymously, answered by `site.accept()`."""
    if user is None:
        site.accept()
        query = {"anonymous": "", **(query or {})}
    return site.open("module.html", user, query=query, **options)


@pytest.mark.parametrize("user", ["u-fields", None], ids=["identified", "anonymous"])
def test_page_view_carries_path_title_referrer_and_host(site, user):
    referrer = "https://news.example.org/item?id=7"
    page = open_as(site, user, referer=referrer, flushInterval=60000)
    assert page.evaluate("userTracker.flush()") is True

    [view] = site.events()
    expected = {"path": "/module.html", "title": "Module page", "referrer": referrer,
                "host": urlsplit(site.origin).netloc}
    assert view["data"] == expected
    if user:
        assert site.wait_for_movements(user, 1)[0]["data"] == expected


@pytest.mark.parametrize("user", ["u-utm", None], ids=["identified", "anonymous"])
def test_page_view_carries_only_the_utm_parameters_present(site, user):
    query = {"utm_source": "newsletter", "utm_campaign": "spring sale", "utm_term": "",
             "utm_id": "9", "ref": "x"}
    page = open_as(site, user, query=query, flushInterval=60000)
    page.evaluate("history.pushState({}, '', '/plans?utm_medium=email')")
    page.evaluate("history.pushState({}, '', '/plans')")
    assert page.evaluate("userTracker.flush()") is True

    views = [e["data"] for e in site.events()]
    assert views[0]["utm"] == {"source": "newsletter", "campaign": "spring sale"}
    assert views[1]["utm"] == {"medium": "email"}
    assert "utm" not in views[2]
    assert views[2]["host"] == views[0]["host"]
    if user:
        assert [m["data"] for m in site.wait_for_movements(user, 3)] == views


@pytest.mark.parametrize("user", ["u-click", None], ids=["identified", "anonymous"])
def test_page_view_says_which_click_ids_the_url_carried_never_their_values(site, user):
    query = {"gclid": "Cj0KCQiA-secret", "msclkid": "", "fbclid": "IwAR0", "utm_source": "google"}
    page = open_as(site, user, query=query, flushInterval=60000)
    page.evaluate("history.pushState({}, '', '/plans?wbraid=abc&gbraid=def')")
    page.evaluate("history.pushState({}, '', '/plans')")
    assert page.evaluate("userTracker.flush()") is True

    views = [e["data"] for e in site.events()]
    assert views[0]["clickId"] == {"gclid": True}
    assert views[1]["clickId"] == {"gbraid": True, "wbraid": True}
    assert "clickId" not in views[2]
    assert "Cj0KCQiA-secret" not in json.dumps(views)  # nor in the next view's referrer
    assert views[2]["referrer"].endswith("/plans")
    if user:
        assert [m["data"] for m in site.wait_for_movements(user, 3)] == views


def test_session_carries_device_info(site):
    page = site.open("module.html", "u-device")
    assert page.evaluate("userTracker.flush()") is True
    session_id = site.wait_for_movements("u-device", 1)[0]["sessionId"]

    device = site.session("u-device", session_id)["deviceInfo"]
    assert device["language"] == "en-US"
    assert device["timeZone"] == "UTC"
    assert device["userAgent"].startswith("Mozilla/5.0")
    assert device["screen"] == {"width": 1280, "height": 720}


def test_queue_flushes_at_twenty_events(site):
    page = site.open("module.html", "u-size", flushInterval=60000, pageViews=False)
    page.evaluate("userTracker.track('first')")
    assert page.evaluate("userTracker.flush()") is True
    before = len(site.requests("/track"))

    page.evaluate("for (let i = 1; i < 20; i++) userTracker.track('e' + i)")
    site.pause(0.5)
    assert len(site.requests("/track")) == before
    page.evaluate("userTracker.track('e20')")

    assert len(site.wait_for_movements("u-size", 21)) == 21
    batches = site.requests("/track")[before:]
    assert [len(json.loads(b.body)["events"]) for b in batches] == [20]


def test_queue_flushes_when_old_enough(site):
    page = site.open("module.html", "u-age", flushInterval=800, pageViews=False)
    page.evaluate("userTracker.track('first')")
    assert page.evaluate("userTracker.flush()") is True
    before = len(site.requests("/track"))

    started = time.monotonic()
    page.evaluate("userTracker.track('second'); userTracker.track('third')")
    assert len(site.wait_for_movements("u-age", 3, timeout=5)) == 3
    sent = site.requests("/track")[before:]
    assert len(sent) == 1
    assert sent[0].at - started > 0.6


HIDE = {
    "hidden": """() => {
        Object.defineProperty(document, "visibilityState", {value: "hidden", configurable: true});
        document.dispatchEvent(new Event("visibilitychange"));
    }""",
    "pagehide": "() => dispatchEvent(new PageTransitionEvent('pagehide', {persisted: true}))",
}


@pytest.mark.parametrize("leave", ["close", "hidden", "pagehide"])
def test_queued_events_are_beaconed_when_the_page_goes_away(site, leave):
    page = site.open("module.html", f"u-leave-{leave}", flushInterval=60000)
    assert page.evaluate("userTracker.flush()") is True
    page.evaluate("userTracker.track('a'); userTracker.track('b', {n: 2})")
    assert len(stored_queue(page)) == 2
    if leave == "close":
        page.close()
    else:
        page.evaluate(HIDE[leave])

    movements = site.wait_for_movements(f"u-leave-{leave}", 3)
    assert names(movements) == ["view /module.html", "a", "b"]
    assert_once(movements)
    if leave != "close":
        [beacon] = site.requests("/track")[1:]
        assert beacon.resource_type == "ping"
        assert beacon.content_type.startswith("text/plain")
        assert stored_queue(page) == []


def test_offline_events_wait_in_local_storage_and_arrive_once_after_reload(site):
    failed = []
    for path in ("/track", "/session"):
        site.route(path, lambda route: failed.append(route.request.url) or route.abort())
    page = site.open("module.html", "u-offline", flushInterval=60000, retryDelay=50)
    page.evaluate("userTracker.track('a'); userTracker.track('b')")
    assert page.evaluate("userTracker.flush()") is False
    assert failed
    assert [e["event"] for e in stored_queue(page)] == ["page_view", "a", "b"]
    assert site.movements("u-offline") == []

    site.unroute("/track")
    site.unroute("/session")
    page.reload()
    assert page.evaluate("userTracker.flush()") is True

    movements = site.wait_for_movements("u-offline", 4)
    assert names(movements) == ["view /module.html", "a", "b", "view /module.html"]
    assert_once(movements)
    session_ids = {m["sessionId"] for m in movements}
    assert len(session_ids) == 1
    assert site.session("u-offline", session_ids.pop())["deviceInfo"]["language"] == "en-US"
    assert stored_queue(page) == []


def test_stored_queue_is_bounded_and_sent_by_the_next_page(own_site):
    site = own_site
    options = {"maxQueue": 5, "pageViews": False, "retryDelay": 50}
    page = site.open("module.html", "u-bounded", **options)
    site.service.stop()
    page.evaluate("for (let i = 0; i < 8; i++) userTracker.track('e' + i)")
    assert page.evaluate("userTracker.flush()") is False
    assert [e["event"] for e in stored_queue(page)] == ["e3", "e4", "e5", "e6", "e7"]
    page.goto("about:blank")  # its beacon fails too: the service is down

    site.service.start()
    assert site.movements("u-bounded") == []
    page.goto(site.url("module.html", "u-bounded", **options))
    assert names(site.wait_for_movements("u-bounded", 5)) == ["e3", "e4", "e5", "e6", "e7"]


def test_coming_back_online_retries_at_once(site):
    page = site.open("module.html", "u-online", pageViews=False, retryDelay=60000)
    site.context.set_offline(True)
    page.evaluate("userTracker.track('a')")
    assert page.evaluate("userTracker.flush()") is False
    assert page.evaluate("navigator.onLine") is False

    site.context.set_offline(False)
    assert names(site.wait_for_movements("u-online", 1, timeout=5)) == ["a"]


@pytest.mark.parametrize("failure", ["503", "429", "network"])
def test_retryable_failure_is_retried_then_delivered(site, failure):
    attempts = []

    def fail_once(route):
        attempts.append(time.monotonic())
        if len(attempts) > 1:
            route.continue_()
        elif failure == "network":
            route.abort()
        else:
            route.fulfill(**cors_error(int(failure), retry_after="1"))

    site.route("/track", fail_once)
    page = site.open("module.html", f"u-retry-{failure}", pageViews=False, retryDelay=50)
    page.evaluate("userTracker.track('a')")
    assert page.evaluate("userTracker.flush()") is False

    assert names(site.wait_for_movements(f"u-retry-{failure}", 1)) == ["a"]
    assert len(attempts) == 2
    if failure != "network":
        assert attempts[1] - attempts[0] >= 0.9, "Retry-After was not honoured"


def test_refused_batch_is_dropped_not_retried(site):
    attempts = []
    site.route("/track", lambda route: attempts.append(1) or route.fulfill(**cors_error(422)))
    page = site.open("module.html", "u-refused", pageViews=False, retryDelay=50, debug=True)
    logged = []
    page.on("console", lambda message: logged.append(message.text))
    page.evaluate("userTracker.track('bad')")
    assert page.evaluate("userTracker.flush()") is False
    page.wait_for_timeout(1000)

    assert len(attempts) == 1
    assert stored_queue(page) == []
    assert len([text for text in logged if "refused" in text]) == 1

    site.unroute("/track")
    page.evaluate("userTracker.track('good')")
    assert page.evaluate("userTracker.flush()") is True
    assert names(site.wait_for_movements("u-refused", 1)) == ["good"]


def test_session_rotates_after_inactivity(site):
    page = site.open("module.html", "u-rotate", sessionTimeout=2, pageViews=False)
    page.evaluate("userTracker.track('early'); userTracker.track('early2')")
    assert page.evaluate("userTracker.flush()") is True
    page.wait_for_timeout(2500)
    page.evaluate("userTracker.track('late'); userTracker.track('later')")
    assert page.evaluate("userTracker.flush()") is True

    movements = site.wait_for_movements("u-rotate", 4)
    assert names(movements) == ["early", "early2", "late", "later"]
    sessions = [m["sessionId"] for m in movements]
    assert sessions[0] == sessions[1] and sessions[2] == sessions[3]
    assert sessions[0] != sessions[2]
    assert len(site.requests("/session")) == 2
    assert site.session("u-rotate", sessions[2])["deviceInfo"]["timeZone"] == "UTC"


def test_session_survives_reload_within_the_timeout(site):
    page = site.open("module.html", "u-reload")
    assert page.evaluate("userTracker.flush()") is True
    page.reload()
    assert page.evaluate("userTracker.flush()") is True

    movements = site.wait_for_movements("u-reload", 2)
    assert len(movements) == 2
    assert movements[0]["sessionId"] == movements[1]["sessionId"]
    assert len(site.requests("/session")) == 1


def test_ids_fall_back_to_get_random_values_without_random_uuid(site):
    site.context.add_init_script("delete Crypto.prototype.randomUUID")
    page = site.open("module.html", "u-fallback")
    assert page.evaluate("typeof crypto.randomUUID") == "undefined"
    page.evaluate("userTracker.track('a')")
    assert page.evaluate("userTracker.flush()") is True

    movements = site.wait_for_movements("u-fallback", 2)
    assert len(movements) == 2
    assert_once(movements)
    assert UUID4.match(movements[0]["sessionId"])


def test_script_tag_starts_by_itself(site):
    page = site.open("tag.html", "u-tag")
    page.evaluate("history.pushState({}, '', '/next')")

    movements = site.wait_for_movements("u-tag", 2)
    assert names(movements) == ["view /tag.html", "view /next"]
    assert movements[0]["data"]["title"] == "Tag page"


def test_nothing_is_tracked_before_initialize(site):
    page = site.open("module.html")
    page.evaluate("userTracker.track('early'); userTracker.trackPageView('/early')")
    assert page.evaluate("userTracker.flush()") is True
    assert site.requests("/track") == [] and stored_queue(page) == []

    page.evaluate(f"userTracker.initialize('u-late', {{endpoint: '{site.service.url}'}})")
    assert page.evaluate("userTracker.flush()") is True
    assert names(site.wait_for_movements("u-late", 1)) == ["view /module.html"]


@pytest.mark.parametrize("signal", ["doNotTrack", "globalPrivacyControl"])
@pytest.mark.parametrize("respect", [True, False])
def test_privacy_signals_are_respected_when_asked(site, signal, respect):
    value = '"1"' if signal == "doNotTrack" else "true"
    site.context.add_init_script(
        f"Object.defineProperty(Navigator.prototype, '{signal}', {{get: () => {value}}})")
    user = f"u-private-{signal}-{respect}"
    page = site.open("module.html", user, respectDnt=respect)
    page.evaluate("userTracker.track('a')")
    page.evaluate("userTracker.flush()")
    page.wait_for_timeout(300)

    tracked = bool(site.requests("/track") or site.requests("/session"))
    assert tracked is not respect
    assert len(site.movements(user)) == (0 if respect else 2)


def test_get_analytics_reads_with_the_token(site):
    page = site.open("module.html", "u-stats")
    page.evaluate("userTracker.track('signup')")
    assert page.evaluate("userTracker.flush()") is True
    site.wait_for_movements("u-stats", 2)

    stats = page.evaluate("token => userTracker.getAnalytics('1h', {token, userId: 'u-stats'})",
                          site.service.token)
    assert stats["userId"] == "u-stats"
    assert stats["totals"]["movements"] == 2 and stats["totals"]["pageViews"] == 1
    assert stats["topPages"] == [{"path": "/module.html", "count": 1}]

    status = page.evaluate("userTracker.getAnalytics('1h', {token: 'wrong'}).catch(e => e.status)")
    assert status == 401


def test_track_carries_revenue_as_given_and_ignores_a_bad_one(site):
    page = site.open("module.html", "u-rev", flushInterval=60000)
    page.evaluate("""() => {
        userTracker.track("purchase", {plan: "pro"}, {revenue: {amount: "19.90", currency: "EUR"}});
        userTracker.track("purchase", null, {revenue: {amount: 1500, currency: "JPY"}});
        userTracker.track("purchase", null, {revenue: {amount: "lots", currency: "EUR"}});
        userTracker.track("purchase", null, {revenue: {amount: 5, currency: "eur"}});
        userTracker.track("after");
    }""")
    assert page.evaluate("userTracker.flush()") is True
    movements = site.wait_for_movements("u-rev", 4)
    assert names(movements) == ["view /module.html", "purchase", "purchase", "after"]
    assert [m.get("revenue") for m in movements] == [
        None, {"amount": "19.90", "currency": "EUR"}, {"amount": "1500", "currency": "JPY"}, None]


def add_site(site, site_id: str) -> None:
    """A second site, so that an event naming no site and no known host is refused (422); on
    a service of the test's own, since it changes where other tests' events go."""
    with site.service.client() as client:
        client.post("/sites", json={"id": site_id}).raise_for_status()


def test_data_site_sends_every_event_and_the_session_to_that_site(own_site):
    site = own_site
    add_site(site, "2024")  # all digits: the attribute must stay text
    page = site.open("site-tag.html", "u-tagged")
    page.evaluate("history.pushState({}, '', '/next'); userTracker.track('signup')")
    assert page.evaluate("userTracker.flush()") is True

    movements = site.wait_for_movements("u-tagged", 3, site="2024")
    assert names(movements) == ["view /site-tag.html", "view /next", "signup"]
    assert {e["site"] for e in site.events()} == {"2024"}
    [announced] = site.requests("/session")
    assert json.loads(announced.body)["site"] == "2024"
    assert site.movements("u-tagged", site="default") == []
    with site.service.client() as client:
        session = client.get("/session", params={"sessionId": movements[0]["sessionId"],
                                                 "site": "2024"})
    assert session.status_code == 200 and session.json()["session"]["deviceInfo"]


@pytest.mark.parametrize("user", ["u-option", None], ids=["identified", "anonymous"])
def test_initialize_takes_the_site_as_an_option(own_site, user):
    site = own_site
    add_site(site, "shop.example")
    if user is None:
        site.accept()
    query = {"anonymous": ""} if user is None else None
    page = site.open("module.html", user, query=query, site="shop.example", flushInterval=60000)
    page.evaluate("userTracker.track('buy', {sku: 'A'})")
    assert page.evaluate("userTracker.flush()") is True

    assert [(e["event"], e["site"]) for e in site.events()] == [("page_view", "shop.example"),
                                                               ("buy", "shop.example")]
    if user:
        assert names(site.wait_for_movements(user, 2, site="shop.example")) \
            == ["view /module.html", "buy"]


def test_a_malformed_site_is_refused_at_initialize(site):
    page = site.open("module.html")
    thrown = page.evaluate(f"""() => {{
        try {{
            userTracker.initialize('u-bad', {{endpoint: '{site.service.url}', site: 'Not A Site'}});
        }} catch (error) {{
            return error.name + ': ' + error.message;
        }}
    }}""")
    assert thrown.startswith("TypeError") and "site" in thrown
    assert page.evaluate("userTracker.flush()") is True
    assert site.requests("/track") == []


def test_get_analytics_reads_the_initialized_site(own_site):
    site = own_site
    add_site(site, "shop.example")
    page = site.open("module.html", "u-site-stats", site="shop.example")
    assert page.evaluate("userTracker.flush()") is True
    site.wait_for_movements("u-site-stats", 1, site="shop.example")

    stats = page.evaluate("token => userTracker.getAnalytics('1h', {token, userId: 'u-site-stats'})",
                          site.service.token)
    assert stats["totals"]["movements"] == 1
    other = page.evaluate("token => userTracker.getAnalytics('1h', {token, site: 'default',"
                          " userId: 'u-site-stats'})", site.service.token)
    assert other["totals"]["movements"] == 0
