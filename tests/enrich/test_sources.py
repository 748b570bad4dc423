"""sources.visit_source: referrer host, UTM fields, source and channel as the spec defines them."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.enrich import sources
from tracker.enrich.sources import Source, network_of_host, referrer_host, visit_source

SHOP = "shop.example"

REFERRERS = [
    ("absent", None, SHOP, None),
    ("a search page", "https://www.google.co.uk/search?q=shoes", SHOP, "google.co.uk"),
    ("upper case and port", "HTTPS://Blog.Example:8443/post", SHOP, "blog.example"),
    ("user info is dropped", "https://user:secret@news.example/", SHOP, "news.example"),
    ("trailing dot", "http://blog.example./a", SHOP, "blog.example"),
    ("only one www. is removed", "https://www.www.example/", SHOP, "www.example"),
    ("an ipv6 host", "http://[2001:db8::1]:8080/", SHOP, "2001:db8::1"),
    ("an internal link", "https://shop.example/cart", SHOP, None),
    ("internal, www. on one side", "https://www.shop.example/", SHOP, None),
    ("internal, host with port and case", "http://localhost:3000/a", "LocalHost:3000", None),
    ("internal on another port", "http://localhost:3000/a", "localhost:8080", None),
    ("no host to compare with", "https://shop.example/", None, "shop.example"),
    ("page host of the wrong type", "https://shop.example/", 42, "shop.example"),
    ("not http", "android-app://com.google.android.gm/", SHOP, None),
    ("ftp", "ftp://files.example/", SHOP, None),
    ("relative", "/path/only", SHOP, None),
    ("scheme-relative", "//blog.example/a", SHOP, None),
    ("scheme without slashes", "https:blog.example", SHOP, None),
    ("no host", "http:///path", SHOP, None),
    ("broken ipv6", "http://[::1/", SHOP, None),
    ("spaces in the host", "http://bad host.example/", SHOP, None),
    ("non-ascii host", "http://bücher.example/", SHOP, None),
    ("a number", 12, SHOP, None),
    ("a list", ["https://blog.example/"], SHOP, None),
    ("an object", {"href": "https://blog.example/"}, SHOP, None),
    ("very long", "https://blog.example/" + "a" * 100_000, SHOP, "blog.example"),
]


@pytest.mark.parametrize("name, referrer, host, expected", REFERRERS, ids=[row[0] for row in REFERRERS])
def test_referrer_host(name, referrer, host, expected):
    assert referrer_host(referrer, host) == expected


NETWORKS = [
    ("google.com", "Google", "search"),
    ("google.co.uk", "Google", "search"),
    ("google.com.au", "Google", "search"),
    ("google.de", "Google", "search"),
    ("bing.com", "Bing", "search"),
    ("cn.bing.com", "Bing", "search"),
    ("duckduckgo.com", "DuckDuckGo", "search"),
    ("search.yahoo.com", "Yahoo!", "search"),
    ("facebook.com", "Facebook", "social"),
    ("m.facebook.com", "Facebook", "social"),
    ("l.facebook.com", "Facebook", "social"),
    ("t.co", "X", "social"),
    ("twitter.com", "X", "social"),
    ("x.com", "X", "social"),
    ("linkedin.com", "LinkedIn", "social"),
    ("reddit.com", "Reddit", "social"),
    ("old.reddit.com", "Reddit", "social"),
    ("youtube.com", "YouTube", "social"),
    ("m.youtube.com", "YouTube", "social"),
    ("news.ycombinator.com", "Hacker News", "social"),
    ("bsky.app", "Bluesky", "social"),
    ("tiktok.com", "TikTok", "social"),
]


@pytest.mark.parametrize("host, name, kind", NETWORKS, ids=[row[0] for row in NETWORKS])
def test_known_networks(host, name, kind):
    assert network_of_host(host) == (name, kind)


@pytest.mark.parametrize("host", ["mail.google.com", "googleadservices.com", "blog.example", "google.example.com",
                                  "co.uk", "localhost", None])
def test_hosts_that_are_no_search_engine_or_social_network(host):
    assert network_of_host(host) is None


def page_view(referrer=None, host=SHOP, **utm):
    data = {"path": "/", "host": host}
    if referrer is not None:
        data["referrer"] = referrer
    if utm:
        data["utm"] = utm
    return data


CHANNELS = [
    ("nothing", page_view(), "Direct", "Direct"),
    ("internal referrer only", page_view("https://shop.example/a"), "Direct", "Direct"),
    ("search engine, no utm", page_view("https://www.google.co.uk/search?q=x"), "Google", "Organic Search"),
    ("bing", page_view("https://www.bing.com/search?q=x"), "Bing", "Organic Search"),
    ("social network, no utm", page_view("https://l.facebook.com/l.php?u=x"), "Facebook", "Organic Social"),
    ("t.co", page_view("https://t.co/abc"), "X", "Organic Social"),
    ("any other referrer", page_view("https://blog.example/post"), "blog.example", "Referral"),
    ("webmail referrer", page_view("https://mail.google.com/mail/u/0/"), "mail.google.com", "Referral"),
    ("paid search, no referrer", page_view(source="google", medium="cpc"), "google", "Paid Search"),
    ("paid social by medium", page_view(source="facebook", medium="paid_social"), "facebook", "Paid Social"),
    ("paid social by network", page_view(source="fb", medium="cpc"), "fb", "Paid Social"),
    ("paid social by referrer", page_view("https://m.facebook.com/", medium="ppc"), "Facebook", "Paid Social"),
    ("paid, unknown network", page_view(source="foo", medium="paid"), "foo", "Paid Search"),
    ("paid medium in capitals", page_view(source="bing", medium=" CPC "), "bing", "Paid Search"),
    ("paidsocial", page_view(source="foo", medium="paidsocial"), "foo", "Paid Social"),
    ("newsletter source", page_view(source="newsletter"), "newsletter", "Email"),
    ("email medium", page_view(source="march-promo", medium="email"), "march-promo", "Email"),
    ("email medium with a social referrer", page_view("https://t.co/x", source="x", medium="Email"), "x", "Email"),
    ("utm names a search engine", page_view(source="duckduckgo"), "duckduckgo", "Organic Search"),
    ("utm names a network by host", page_view(source="l.facebook.com"), "l.facebook.com", "Organic Social"),
    ("utm names twitter, now x", page_view(source="twitter", medium="social"), "twitter", "Organic Social"),
    ("unknown utm source only", page_view(source="foo"), "foo", "Other"),
    ("campaign only", page_view(campaign="spring"), "Direct", "Other"),
    ("unknown utm with a search referrer", page_view("https://www.google.com/", source="foo"), "foo",
     "Organic Search"),
    ("unknown utm with a blog referrer", page_view("https://blog.example/", source="foo"), "foo", "Referral"),
]


@pytest.mark.parametrize("name, data, source, channel", CHANNELS, ids=[row[0] for row in CHANNELS])
def test_source_and_channel(name, data, source, channel):
    answer = visit_source(data)
    assert (answer.source, answer.channel) == (source, channel)


def test_every_field_of_a_tagged_visit():
    data = page_view("https://www.Google.com/search?q=x", source="google", medium="cpc", campaign="spring",
                     term="shoes", content="banner-2")
    assert visit_source(data) == Source(referrer="google.com", utmSource="google", utmMedium="cpc",
                                        utmCampaign="spring", utmTerm="shoes", utmContent="banner-2",
                                        source="google", channel="Paid Search")


@pytest.mark.parametrize("utm", [
    {"source": 7, "medium": ["cpc"], "campaign": {"a": 1}, "term": None, "content": True},
    {"source": "", "medium": "   "},
    "utm_source=google",
    ["google"],
])
def test_utm_values_that_are_not_strings_count_as_absent(utm):
    answer = visit_source({"utm": utm})
    assert answer == Source(None, None, None, None, None, None, source="Direct", channel="Direct")


@pytest.mark.parametrize("data", [None, [], "text", 5, {"referrer": None, "host": None, "utm": None}])
def test_data_that_is_not_an_object_is_a_direct_visit(data):
    assert visit_source(data).channel == "Direct"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=50),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=10)
texts = st.text(max_size=60) | st.sampled_from(["https://www.google.com/", "http://[::1", "https://t.co/x"])


@settings(max_examples=300, deadline=None)
@given(referrer=json_values | texts, host=json_values | texts,
       utm=json_values | st.dictionaries(st.sampled_from(sources.UTM_KEYS), json_values | texts))
def test_any_json_data_gives_a_source_and_never_raises(referrer, host, utm):
    answer = visit_source({"referrer": referrer, "host": host, "utm": utm})
    assert answer.channel in {"Direct", "Organic Search", "Paid Search", "Organic Social", "Paid Social",
                              "Email", "Referral", "Other"}
    assert isinstance(answer.source, str) and answer.source


def test_vendored_list_is_the_recorded_release():
    recorded = (sources.REFERRERS_FILE.parent / "README.md").read_text()
    digest = hashlib.sha256(sources.REFERRERS_FILE.read_bytes()).hexdigest()
    assert f"sha256: `{digest}`" in recorded
