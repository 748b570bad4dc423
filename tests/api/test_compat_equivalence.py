"""The same visits through /track, /api/event and /api/send: the dashboard cannot tell them apart.

Three sites of one real service each get the same three visitors, one site
through each ingest path; every /stats total and series, and every
/breakdown, must be equal across the three. Plausible's and Umami's scripts
send no time (nor does /track here), so each movement takes the server's
clock on arrival: a visit's duration is at most the time the sending took,
and durations are compared to within that (a fraction of a second on an idle
machine, more under load).
"""

from __future__ import annotations

import time

from helpers import HOUR, MINUTE, now_ms

DESKTOP = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
           "Chrome/124.0.0.0 Safari/537.36")
PHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
         "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1")
QUERY = "?utm_source=newsletter&utm_medium=email&utm_campaign=spring&gclid=abc"
# What tracker.js sends of that query.
TAGS = {"utm": {"source": "newsletter", "medium": "email", "campaign": "spring"}, "clickId": {"gclid": True}}
# (visitor's address, User-Agent, what happens: a page view with its query and referrer, or an event)
VISITS = [
    ("81.2.69.160", DESKTOP, [("page", "/pricing" + QUERY, "https://www.google.com/search?q=x"),
                              ("page", "/docs", "https://HOST/pricing"),
                              ("event", "signup", {"plan": "pro"})]),
    ("8.8.8.8", PHONE, [("page", "/", "https://t.co/abc")]),
    ("9.9.9.9", DESKTOP, [("page", "/blog/caf%C3%A9", ""), ("event", "signup", {"plan": "free"})]),
]
DIMENSIONS = ["page", "entryPage", "exitPage", "referrer", "source", "channel", "utmSource", "utmMedium",
              "utmCampaign", "utmTerm", "utmContent", "browser", "os", "device", "country", "event"]


def through_track(http, site: str, host: str, kind: str, what: str, extra, headers: dict) -> None:
    if kind == "event":
        body = {"event": what, "site": site, "data": {**extra, "path": "/pricing", "host": host}}
    else:
        path, query = what.partition("?")[::2]
        body = {"event": "page_view", "site": site,
                "data": {"path": path, "title": "A page", "referrer": extra.replace("HOST", host), "host": host,
                         **(TAGS if query else {})}}
    assert http.post("/track", json=body, headers=headers).status_code == 200


def through_plausible(http, site: str, host: str, kind: str, what: str, extra, headers: dict) -> None:
    if kind == "event":
        body = {"n": what, "u": f"https://{host}/pricing", "d": host, "p": extra}
    else:
        body = {"n": "pageview", "u": f"https://{host}{what}", "d": host, "r": extra.replace("HOST", host)}
    answer = http.post("/api/event", json=body, headers={**headers, "Content-Type": "text/plain"})
    assert (answer.status_code, answer.text) == (202, "ok")


def through_umami(http, site: str, host: str, kind: str, what: str, extra, headers: dict) -> None:
    payload = {"website": site, "hostname": host, "screen": "1920x1080", "language": "en-GB"}
    if kind == "event":
        payload.update(url="/pricing", name=what, data=extra)
    else:
        payload.update(url=what.replace("%", "%25"), title="A%20page", referrer=extra.replace("HOST", host))
    answer = http.post("/api/send", json={"type": "event", "payload": payload}, headers=headers)
    assert answer.status_code == 200


PATHS = {"track.example": through_track, "plausible.example": through_plausible,
         "umami.example": through_umami}


def test_every_read_is_the_same_through_every_path(tracker_server):
    server = tracker_server(TRACKER_TRUSTED_PROXIES="127.0.0.1")
    with server.client() as http:
        sites = {}
        for host in PATHS:
            made = http.post("/sites", json={"id": host.split(".")[0], "domains": [host]})
            assert made.status_code == 201
            sites[host] = made.json()
        started = time.monotonic()
        for address, agent, steps in VISITS:
            headers = {"User-Agent": agent, "X-Forwarded-For": address}
            for kind, what, extra in steps:
                for host, send in PATHS.items():
                    site = sites[host]["umamiId"] if send is through_umami else sites[host]["id"]
                    send(http, site, host, kind, what, extra, headers)
        sending = time.monotonic() - started
        now = now_ms()
        answers = {host: reads(http, sites[host]["id"], now) for host in PATHS}
    expected = answers["track.example"]
    for read, answer in expected.items():
        assert answer.get("results", True), f"{read}: nothing to compare"
        for host in ("plausible.example", "umami.example"):
            assert_same(answers[host][read], answer, sending, f"{host} {read}")
    assert expected["stats"]["totals"]["visitors"] == 3 and expected["stats"]["totals"]["pageviews"] == 4
    assert {row["value"]: row["pageviews"] for row in expected["page"]["results"]} == {
        "/pricing": 1, "/docs": 1, "/": 1, "/blog/caf%C3%A9": 1}
    assert {row["value"]: row["events"] for row in expected["prop"]["results"]} == {"pro": 1, "free": 1}
    assert {row["value"] for row in expected["channel"]["results"]} >= {"Email", "Organic Social", "Direct"}
    assert {row["value"]: row["visitors"] for row in expected["device"]["results"]} == {"desktop": 2,
                                                                                       "mobile": 1}


def reads(http, site: str, now: int) -> dict:
    window = {"site": site, "from": now - HOUR, "to": now + MINUTE}
    found = {"stats": http.get("/stats", params=window).json(),
             "prop": http.get("/breakdown", params={**window, "by": "prop:plan", "event": "signup"}).json()}
    for dimension in DIMENSIONS:
        found[dimension] = http.get("/breakdown", params={**window, "by": dimension}).json()
    return found


def assert_same(found, expected, within: float, where: str = "$") -> None:
    """Equal answers, but for visit durations (seconds) within `within` of each other."""
    if isinstance(expected, dict):
        assert isinstance(found, dict) and found.keys() == expected.keys(), where
        for key in expected:
            if key == "visitDuration":
                assert abs(found[key] - expected[key]) <= within, f"{where}.{key}"
            else:
                assert_same(found[key], expected[key], within, f"{where}.{key}")
    elif isinstance(expected, list):
        assert isinstance(found, list) and len(found) == len(expected), where
        for index, (item, wanted) in enumerate(zip(found, expected)):
            assert_same(item, wanted, within, f"{where}[{index}]")
    else:
        assert found == expected, f"{where}: {found!r} != {expected!r}"
