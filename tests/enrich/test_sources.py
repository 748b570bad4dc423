"""sources.visit_source: referrer host, UTM fields, source and channel as the spec defines them."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.enrich import channels, source_names, sources
from tracker.enrich.sources import Source, referrer_host, visit_source

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


NAMES = [
    ("google.com", "Google"),
    ("google.co.uk", "Google"),
    ("google.com.au", "Google"),
    ("google.de", "Google"),
    ("bing.com", "Bing"),
    ("cn.bing.com", "Bing"),
    ("duckduckgo.com", "DuckDuckGo"),
    ("search.yahoo.com", "Yahoo!"),
    ("yandex.ru", "Yandex"),
    ("yandex.com.tr", "Yandex"),
    ("yandex.kz", "Yandex"),
    ("mail.yandex.ru", "Yandex"),
    ("ya.ru", "Yandex"),
    ("sogou.com", "Sogou"),
    ("naver.com", "Naver"),
    ("seznam.cz", "Seznam"),
    ("facebook.com", "Facebook"),
    ("m.facebook.com", "Facebook"),
    ("l.facebook.com", "Facebook"),
    ("t.co", "X"),
    ("twitter.com", "X"),
    ("x.com", "X"),
    ("linkedin.com", "LinkedIn"),
    ("reddit.com", "Reddit"),
    ("old.reddit.com", "Reddit"),
    ("youtube.com", "YouTube"),
    ("m.youtube.com", "YouTube"),
    ("news.ycombinator.com", "Hacker News"),
    ("bsky.app", "Bluesky"),
    ("tiktok.com", "TikTok"),
    ("t.me", "Telegram"),
    ("web.telegram.org", "Telegram"),
    ("web.whatsapp.com", "WhatsApp"),
    ("discord.com", "Discord"),
    ("app.slack.com", "Slack"),
    ("l.messenger.com", "Messenger"),
    ("chatgpt.com", "ChatGPT"),
    ("gemini.google.com", "Google Gemini"),
    ("mail.google.com", "Gmail"),
    ("de.wikipedia.org", "Wikipedia"),
]


@pytest.mark.parametrize("host, name", NAMES, ids=[row[0] for row in NAMES])
def test_source_names(host, name):
    assert visit_source(page_view(f"https://{host}/")).source == name


@pytest.mark.parametrize("host", ["docs.google.com", "drive.google.com", "translate.google.de",
                                  "finance.yahoo.com", "blog.example", "google.example.com"])
def test_hosts_that_name_no_source_are_their_own(host):
    assert visit_source(page_view(f"https://{host}/")).source == host


def page_view(referrer=None, host=SHOP, click=None, **utm):
    data = {"path": "/", "host": host}
    if referrer is not None:
        data["referrer"] = referrer
    if utm:
        data["utm"] = utm
    if click is not None:
        data["clickId"] = {click: True}
    return data


CHANNELS = [
    ("nothing", page_view(), "Direct", "Direct"),
    ("internal referrer only", page_view("https://shop.example/a"), "Direct", "Direct"),
    ("search engine, no utm", page_view("https://www.google.co.uk/search?q=x"), "Google", "Organic Search"),
    ("bing", page_view("https://www.bing.com/search?q=x"), "Bing", "Organic Search"),
    ("yandex of another country", page_view("https://yandex.com.tr/search"), "Yandex", "Organic Search"),
    ("social network, no utm", page_view("https://l.facebook.com/l.php?u=x"), "Facebook", "Organic Social"),
    ("t.co", page_view("https://t.co/abc"), "X", "Organic Social"),
    ("a messenger", page_view("https://t.me/channel"), "Telegram", "Organic Social"),
    ("a video site", page_view("https://m.youtube.com/watch"), "YouTube", "Organic Video"),
    ("a shop", page_view("https://www.amazon.com/dp/1"), "Amazon", "Organic Shopping"),
    ("an assistant", page_view("https://chatgpt.com/"), "ChatGPT", "AI Assistants"),
    ("google's assistant", page_view("https://gemini.google.com/app"), "Google Gemini", "AI Assistants"),
    ("google docs", page_view("https://docs.google.com/d/1"), "docs.google.com", "Referral"),
    ("any other referrer", page_view("https://blog.example/post"), "blog.example", "Referral"),
    ("webmail referrer", page_view("https://mail.google.com/mail/u/0/"), "Gmail", "Email"),
    ("paid search, no referrer", page_view(source="google", medium="cpc"), "google", "Paid Search"),
    ("paid social by medium", page_view(source="facebook", medium="paid_social"), "facebook", "Paid Social"),
    ("paid social by network", page_view(source="fb", medium="cpc"), "fb", "Paid Social"),
    ("paid social by referrer", page_view("https://m.facebook.com/", medium="ppc"), "Facebook", "Paid Social"),
    ("paid social by tag", page_view(source="fb-ads"), "fb-ads", "Paid Social"),
    ("paid video", page_view(source="youtube", medium="cpc"), "youtube", "Paid Video"),
    ("paid shopping", page_view(source="foo", medium="cpc", campaign="summer-shop"), "foo", "Paid Shopping"),
    ("paid, unknown network", page_view(source="foo", medium="paid"), "foo", "Paid Other"),
    ("paid medium in capitals", page_view(source="bing", medium=" CPC "), "bing", "Paid Search"),
    ("display", page_view(source="foo", medium="banner"), "foo", "Display"),
    ("cross-network", page_view(source="google", medium="cpc", campaign="pmax-cross-network"), "google",
     "Cross-network"),
    ("newsletter source", page_view(source="newsletter"), "newsletter", "Email"),
    ("email medium", page_view(source="march-promo", medium="email"), "march-promo", "Email"),
    ("email medium, social source", page_view("https://t.co/x", source="x", medium="Email"), "x",
     "Organic Social"),
    ("utm names a search engine", page_view(source="duckduckgo"), "duckduckgo", "Organic Search"),
    ("utm names a network by host", page_view(source="l.facebook.com"), "l.facebook.com", "Organic Social"),
    ("utm names twitter, now x", page_view(source="twitter", medium="social"), "twitter", "Organic Social"),
    ("affiliate", page_view(source="partner", medium="affiliate"), "partner", "Affiliates"),
    ("sms", page_view(source="sms"), "sms", "SMS"),
    ("push", page_view(source="app", medium="web-push"), "app", "Mobile Push Notifications"),
    ("referral medium", page_view(source="partner", medium="referral"), "partner", "Referral"),
    ("unknown utm source only", page_view(source="foo"), "foo", "Unassigned"),
    ("campaign only", page_view(campaign="spring"), "Direct", "Unassigned"),
    ("unknown utm with a search referrer", page_view("https://www.google.com/", source="foo"), "foo",
     "Referral"),
    ("unknown utm with a blog referrer", page_view("https://blog.example/", source="foo"), "foo", "Referral"),
    ("gclid, no referrer", page_view(click="gclid"), "Google", "Paid Search"),
    ("gbraid from google", page_view("https://www.google.com/", click="gbraid"), "Google", "Paid Search"),
    ("msclkid from bing", page_view("https://www.bing.com/", click="msclkid"), "Bing", "Paid Search"),
    ("msclkid, no referrer", page_view(click="msclkid"), "Bing", "Paid Search"),
    ("gclid from a blog", page_view("https://blog.example/", click="gclid"), "blog.example", "Referral"),
    ("unknown click id", page_view(click="fbclid"), "Direct", "Direct"),
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


CHANNEL_NAMES = {"Direct", "Cross-network", "Paid Shopping", "Paid Search", "Paid Social", "Paid Video",
                 "Display", "Paid Other", "Organic Shopping", "Organic Social", "Organic Video",
                 "Organic Search", "Referral", "Email", "Affiliates", "Audio", "SMS",
                 "Mobile Push Notifications", "AI Assistants", "Unassigned"}


@settings(max_examples=300, deadline=None)
@given(referrer=json_values | texts, host=json_values | texts,
       utm=json_values | st.dictionaries(st.sampled_from(sources.UTM_KEYS), json_values | texts),
       click=json_values | st.dictionaries(st.sampled_from(["gclid", "msclkid", "x"]), json_values))
def test_any_json_data_gives_a_source_and_never_raises(referrer, host, utm, click):
    answer = visit_source({"referrer": referrer, "host": host, "utm": utm, "clickId": click})
    assert answer.channel in CHANNEL_NAMES
    assert isinstance(answer.source, str) and answer.source


@pytest.mark.parametrize("path", [source_names.REFERRERS_FILE, channels.CATEGORIES_FILE],
                         ids=lambda path: path.name)
def test_vendored_lists_are_the_recorded_releases(path):
    recorded = (path.parent / "README.md").read_text()
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert f"sha256: `{digest}`" in recorded


@pytest.mark.parametrize("click_id, expected", [
    ({"gclid": True, "msclkid": True}, {"gclid", "msclkid"}),
    ({"gclid": "Cj0KCQ", "wbraid": 1}, set()),
    ({"fbclid": True, "GCLID": True}, set()),
    (["gclid"], set()),
    ("gclid", set()),
    (None, set()),
])
def test_only_known_click_ids_marked_true_count(click_id, expected):
    assert sources.click_ids(click_id) == expected
