"""Plausible's Events API bodies read as Plausible reads them, into the movements /track takes."""

from __future__ import annotations

import json

import pytest

from tracker.ingest import plausible
from tracker.storage.registry import Site, Sites

URL = "https://example.com/pricing?utm_source=news&gclid=1#plans"


def read(**body) -> plausible.PlausibleEvent:
    return plausible.read(plausible.decode(json.dumps(body).encode()))


READS = [
    ("a page view, short names", {"n": "pageview", "u": URL, "d": "example.com", "r": "https://t.co/x"},
     "page_view", ["example.com"],
     {"path": "/pricing", "host": "example.com", "utm": {"source": "news"}, "clickId": {"gclid": True},
      "referrer": "https://t.co/x"}),
    ("long names", {"name": "pageview", "url": "https://example.com/", "domain": "example.com",
                    "referrer": "https://google.com/"},
     "page_view", ["example.com"], {"path": "/", "host": "example.com", "referrer": "https://google.com/"}),
    ("a custom event keeps its page, not the visit's source",
     {"n": "Signup", "u": URL, "d": "example.com", "r": "https://t.co/", "p": {"plan": "pro", "seats": 3}},
     "Signup", ["example.com"], {"plan": "pro", "seats": 3, "path": "/pricing", "host": "example.com"}),
    ("props as JSON text (plausible-tracker sends them so)",
     {"n": "Signup", "u": URL, "d": "example.com", "p": '{"plan": "pro"}'},
     "Signup", ["example.com"], {"plan": "pro", "path": "/pricing", "host": "example.com"}),
    ("meta is props too", {"n": "x", "u": URL, "d": "example.com", "m": {"a": "1"}},
     "x", ["example.com"], {"a": "1", "path": "/pricing", "host": "example.com"}),
    ("props Plausible drops: objects, lists, null, blank",
     {"n": "x", "u": URL, "d": "example.com", "p": {"o": {}, "l": [1], "n": None, "b": " ", "ok": False}},
     "x", ["example.com"], {"ok": False, "path": "/pricing", "host": "example.com"}),
    ("props that are no object are none", {"n": "x", "u": URL, "d": "example.com", "p": "[1, 2]"},
     "x", ["example.com"], {"path": "/pricing", "host": "example.com"}),
    ("a prop never replaces what the URL says",
     {"n": "pageview", "u": "https://example.com/real", "d": "example.com", "p": {"path": "/fake"}},
     "page_view", ["example.com"], {"path": "/real", "host": "example.com"}),
    ("hash mode keeps the fragment in the path", {"n": "pageview", "u": URL, "d": "example.com", "h": 1},
     "page_view", ["example.com"],
     {"path": "/pricing#plans", "host": "example.com", "utm": {"source": "news"}, "clickId": {"gclid": True}}),
    ("several domains, www. dropped", {"n": "x", "u": URL, "d": "www.a.example, b.example"},
     "x", ["a.example", "b.example"], {"path": "/pricing", "host": "example.com"}),
    ("no domain: the URL's host", {"n": "x", "u": "https://www.shop.example:8443/"},
     "x", ["shop.example"], {"path": "/", "host": "www.shop.example:8443"}),
    ("a number as the name (404 tracking)", {"n": 404, "u": URL, "d": "example.com"},
     "404", ["example.com"], {"path": "/pricing", "host": "example.com"}),
    ("engagement is read, and does not count", {"n": "engagement", "u": URL, "d": "example.com", "sd": 50, "e": 900},
     "engagement", ["example.com"], {"path": "/pricing", "host": "example.com"}),
    ("h, i, v and w are accepted", {"n": "x", "u": URL, "d": "example.com", "h": 0, "i": False, "v": 36, "w": 1280},
     "x", ["example.com"], {"path": "/pricing", "host": "example.com"}),
]


@pytest.mark.parametrize("body, event, domains, data", [case[1:] for case in READS],
                         ids=[case[0] for case in READS])
def test_reads(body, event, domains, data):
    taken = read(**body)
    assert (taken.event, taken.domains, taken.data) == (event, domains, data)
    assert taken.counts == (event != "engagement")


REJECTIONS = [
    ("no url", {"n": "pageview", "d": "example.com"}, {"url": ["is required"]}),
    ("a url that is no string", {"n": "pageview", "u": 5, "d": "example.com"}, {"url": ["must be a valid url"]}),
    ("a url over 2000 bytes", {"n": "pageview", "u": "https://example.com/" + "a" * 2000, "d": "example.com"},
     {"url": ["must be a valid url"]}),
    ("a url that does not parse", {"n": "pageview", "u": "http://[::1/", "d": "example.com"},
     {"url": ["must be a valid url"]}),
    ("a data: url", {"n": "pageview", "u": "data:text/html,hi", "d": "example.com"},
     {"url": ["scheme is not allowed"]}),
    ("no name", {"u": URL, "d": "example.com"}, {"event_name": ["can't be blank"]}),
    ("a name that is no string", {"n": ["x"], "u": URL, "d": "example.com"}, {"event_name": ["is invalid"]}),
    ("a blank domain", {"n": "x", "u": URL, "d": " "}, {"domain": ["can't be blank"]}),
    ("no domain and no host", {"n": "x", "u": "/path"}, {"domain": ["can't be blank"]}),
    ("every broken field at once", {"d": ""}, {"event_name": ["can't be blank"], "url": ["is required"],
                                             "domain": ["can't be blank"]}),
]


@pytest.mark.parametrize("body, errors", [case[1:] for case in REJECTIONS], ids=[case[0] for case in REJECTIONS])
def test_rejections(body, errors):
    with pytest.raises(plausible.Rejected) as raised:
        read(**body)
    assert raised.value.errors == errors


@pytest.mark.parametrize("body", [b"", b"not json", b"[1, 2]", b'"text"', b"\xff\xfe"])
def test_a_body_that_is_no_json_object_is_rejected_as_plausible_does(body):
    with pytest.raises(plausible.Rejected) as raised:
        plausible.decode(body)
    assert raised.value.errors == {"request": ["Unable to parse request body as json"]}


@pytest.mark.parametrize("value, expected", [
    ({"amount": 19.9, "currency": "EUR"}, {"amount": "19.9", "currency": "EUR"}),
    ({"amount": 5, "currency": "JPY"}, {"amount": "5", "currency": "JPY"}),
    ('{"amount": "5.00", "currency": "USD"}', {"amount": "5.00", "currency": "USD"}),
    ({"amount": 1}, None),
    ("not json", None),
    (None, None),
])
def test_revenue(value, expected):
    assert plausible.revenue_of(value) == expected


def site(number: int, site_id: str, *domains: str) -> Site:
    return Site(number, site_id, site_id, "UTC", f"uuid-{number}", 0, None, domains)


SITES = Sites((site(0, "default"), site(1, "shop", "shop.example", "www.shop.example"),
               site(2, "blog.example", "blog.example")))


@pytest.mark.parametrize("domain, expected", [
    ("shop.example", "shop"),
    ("www.shop.example", "shop"),
    ("Shop.Example", "shop"),
    ("blog.example", "blog.example"),  # by its id (and its domain)
    ("shop", "shop"),  # by its id
    ("elsewhere.example", None),  # no site: dropped, never stored in another
])
def test_the_site_a_domain_names(domain, expected):
    found = plausible.site_for(domain, SITES)
    assert (found.id if found else None) == expected


def test_the_only_site_without_domains_takes_every_domain():
    assert plausible.site_for("anything.example", Sites((site(0, "default"),))).id == "default"
    assert plausible.site_for("anything.example", Sites((site(1, "shop", "shop.example"),))) is None


def test_an_event_for_several_sites_is_one_movement_in_each():
    taken = read(n="x", u=URL, d="shop.example,www.shop.example,blog.example,nowhere.example")
    placed = plausible.movements(taken, SITES)
    assert [movement.site for movement, _path in placed] == ["shop", "blog.example"]


@pytest.mark.parametrize("body, field", [
    ({"n": "x" * 65, "u": URL, "d": "shop.example"}, "event_name"),
    ({"n": "tab\there", "u": URL, "d": "shop.example"}, "event_name"),
])
def test_movements_keep_the_limits_of_track(body, field):
    with pytest.raises(plausible.Rejected) as raised:
        plausible.movements(read(**body), SITES)
    assert list(raised.value.errors) == [field]


def test_revenue_goes_along_on_the_movement_and_a_bad_one_is_dropped():
    body = {"n": "Purchase", "u": URL, "d": "shop.example"}
    [(good, _)] = plausible.movements(read(**body, **{"$": {"amount": "19.90", "currency": "EUR"}}), SITES)
    [(bad, _)] = plausible.movements(read(**body, **{"$": {"amount": "a lot", "currency": "EUR"}}), SITES)
    assert (good.event, bad.event) == ("Purchase", "Purchase")
    assert (str(good.revenue.amount), good.revenue.currency) == ("19.90", "EUR")
    assert bad.revenue is None
