"""A page's URL as the data fields tracker.js sends: path, host, UTM fields and click ids."""

from __future__ import annotations

import pytest

from tracker.enrich.page_url import as_location_path, page_fields

CASES = [
    ("a plain URL", "https://example.com/pricing", {"path": "/pricing", "host": "example.com"}),
    ("no path is the root", "https://example.com", {"path": "/", "host": "example.com"}),
    ("the host keeps its port, lowercased", "http://Shop.Example:8080/a",
     {"path": "/a", "host": "shop.example:8080"}),
    ("user info is not the host", "https://user:pw@example.com/a", {"path": "/a", "host": "example.com"}),
    ("the query and fragment are not the path", "https://example.com/a?x=1#top",
     {"path": "/a", "host": "example.com"}),
    ("UTM fields present and not blank, the first of each",
     "https://example.com/?utm_source=news&utm_medium=email&utm_campaign=&utm_source=other&utm_term=a+b",
     {"path": "/", "host": "example.com",
      "utm": {"source": "news", "medium": "email", "term": "a b"}}),
    ("click ids by presence only, never their values", "https://example.com/?gclid=abc&msclkid=x&fbclid=y",
     {"path": "/", "host": "example.com", "clickId": {"gclid": True, "msclkid": True}}),
    ("a blank click id is not there", "https://example.com/?gclid=", {"path": "/", "host": "example.com"}),
    ("a path with its query", "/docs?utm_source=x", {"path": "/docs", "utm": {"source": "x"}}),
    ("a decoded path is encoded as a browser would", "https://example.com/caf\u00e9 menu",
     {"path": "/caf%C3%A9%20menu", "host": "example.com"}),
]


@pytest.mark.parametrize("url, expected", [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_page_fields(url, expected):
    assert page_fields(url) == expected


@pytest.mark.parametrize("path, expected", [
    ("/caf%C3%A9", "/caf%C3%A9"),  # already encoded: as it is
    ("/caf\u00e9", "/caf%C3%A9"),
    ("/a b", "/a%20b"),
    ("/a:b@c!$&'()*+,;=~-._", "/a:b@c!$&'()*+,;=~-._"),  # what browsers leave alone
    ('/<"{x}>`', "/%3C%22%7Bx%7D%3E%60"),
])
def test_as_location_path(path, expected):
    assert as_location_path(path) == expected


def test_a_url_that_does_not_parse_raises_value_error():
    with pytest.raises(ValueError):
        page_fields("http://[::1/")
