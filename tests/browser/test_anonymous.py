"""The client's anonymous mode: events without ids, and nothing kept in the browser.

The service does not store anonymous events yet, so `site.accept()` answers
/track in its place and the tests look at what the client sent.
"""

from __future__ import annotations

import json
import re

from playwright.sync_api import Page

UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
ANONYMOUS = {"anonymous": ""}
HIDDEN = """() => {
    Object.defineProperty(document, "visibilityState", {value: "hidden", configurable: true});
    document.dispatchEvent(new Event("visibilitychange"));
}"""
STORED = """async () => ({
    localStorage: localStorage.length,
    sessionStorage: sessionStorage.length,
    cookies: document.cookie,
    indexedDB: (await indexedDB.databases()).map(d => d.name),
})"""


def assert_nothing_stored(site, page: Page) -> None:
    assert page.evaluate(STORED) == {"localStorage": 0, "sessionStorage": 0, "cookies": "",
                                     "indexedDB": []}
    assert site.context.cookies() == []


def assert_anonymous(events: list[dict]) -> None:
    assert events
    for event in events:
        assert "userId" not in event and "sessionId" not in event, event
        assert UUID4.match(event["eventId"]), event
    assert len({e["eventId"] for e in events}) == len(events)


def test_script_tag_tracks_anonymously(site):
    site.accept()
    page = site.open("anonymous.html")
    page.evaluate("userTracker.track('signup', {plan: 'pro'})")
    assert page.evaluate("userTracker.flush()") is True

    events = site.events()
    assert [e["event"] for e in events] == ["page_view", "signup"]
    assert events[0]["data"]["title"] == "Anonymous page"
    assert_anonymous(events)
    assert site.requests("/session") == []
    assert_nothing_stored(site, page)


def test_initialize_with_null_tracks_anonymously(site):
    site.accept()
    page = site.open("module.html")
    options = {"endpoint": site.service.url, "flushInterval": 60000}
    assert page.evaluate("options => userTracker.initialize(null, options)", options) is True
    page.evaluate("userTracker.track('click'); history.pushState({}, '', '/next')")
    assert page.evaluate("userTracker.flush()") is True
    page.evaluate("userTracker.track('leave')")
    page.evaluate(HIDDEN)
    site.pause(0.3)

    events = site.events()
    assert [e["event"] for e in events] == ["page_view", "click", "page_view", "leave"]
    assert site.requests("/track")[-1].resource_type == "ping"
    assert_anonymous(events)
    assert site.requests("/session") == []
    assert_nothing_stored(site, page)


def test_a_missing_user_id_is_refused_not_taken_for_anonymous(site):
    page = site.open("module.html")
    for user in ("undefined", "''"):
        error = page.evaluate(f"""endpoint => {{
            try {{ userTracker.initialize({user}, {{endpoint}}); }} catch (e) {{ return e.name; }}
        }}""", site.service.url)
        assert error == "TypeError"
    assert site.requests("/track") == []


def test_unsent_anonymous_events_wait_in_memory_only(site):
    site.route("/track", lambda route: route.abort())
    page = site.open("module.html", query=ANONYMOUS, flushInterval=60000, retryDelay=60000)
    page.evaluate("userTracker.track('a'); userTracker.track('b')")
    assert page.evaluate("userTracker.flush()") is False
    assert len(site.requests("/track")) == 1
    assert_nothing_stored(site, page)

    site.unroute("/track")
    site.accept()
    page.evaluate("dispatchEvent(new Event('online'))")  # retries at once
    assert page.evaluate("userTracker.flush()") is True
    failed, delivered = site.requests("/track")
    assert failed.body == delivered.body
    sent = json.loads(delivered.body)["events"]
    assert [e["event"] for e in sent] == ["page_view", "a", "b"]
    assert_anonymous(sent)
    assert_nothing_stored(site, page)

    page.reload()
    assert page.evaluate("userTracker.flush()") is True
    assert [e["event"] for e in site.events()[6:]] == ["page_view"], "the reload sent old events"
