"""The brute-force /stats and /breakdown checked on small cases counted by hand."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

import web_reference as reference
from helpers import HOUR, MINUTE

T = int(datetime(2026, 3, 1, 12, tzinfo=UTC).timestamp() * 1000)
CHROME = {"browser": "Chrome", "os": "Windows", "device": "desktop", "country": "US"}
FIREFOX = {"browser": "Firefox", "os": "Linux", "device": "desktop", "country": "DE"}
SAFARI = {"browser": "Mobile Safari", "os": "iOS", "device": "mobile", "country": None}


def stored(user: str, session: str, at: int, event: str = "click", data: dict | None = None,
           context: dict | None = None) -> dict:
    return {"userId": user, "sessionId": session, "timestamp": at, "event": event,
            "data": data or {}, **(context or CHROME)}


def view(user: str, session: str, at: int, path: object = "/", context: dict | None = None,
         **data) -> dict:
    return stored(user, session, at, "page_view", {"path": path, **data}, context)


def only_visit(movements: list[dict]) -> reference.Visit:
    [visit] = reference.build_visits(movements)
    return visit


@pytest.mark.parametrize("data, expected", [
    ({}, (None, "Direct", "Direct")),
    ({"referrer": ""}, (None, "Direct", "Direct")),
    ({"referrer": "https://www.google.de/", "host": "example.com"},
     ("google.de", "Google", "Organic Search")),
    ({"referrer": "https://www.google.co.uk/search?q=x"},
     ("google.co.uk", "Google", "Organic Search")),
    ({"referrer": "https://t.co/x", "host": "example.com"}, ("t.co", "X", "Organic Social")),
    ({"referrer": "https://blog.example.org/post", "host": "example.com"},
     ("blog.example.org", "blog.example.org", "Referral")),
    ({"referrer": "HTTPS://Blog.Example.ORG:8443/p"},
     ("blog.example.org", "blog.example.org", "Referral")),
    ({"referrer": "https://example.com/internal", "host": "example.com"},
     (None, "Direct", "Direct")),
    ({"referrer": "https://WWW.Example.com/x", "host": "example.com:8080"},
     (None, "Direct", "Direct")),
    ({"referrer": "https://www.example.com/x", "host": "www.example.com"},
     (None, "Direct", "Direct")),
    ({"referrer": "https://example.com/internal"}, ("example.com", "example.com", "Referral")),
    ({"referrer": "not a url", "host": "example.com"}, (None, "Direct", "Direct")),
    ({"referrer": "ftp://files.example.net/x"}, (None, "Direct", "Direct")),
    ({"referrer": 5}, (None, "Direct", "Direct")),
    ({"referrer": "https://yandex.com.tr/search"}, ("yandex.com.tr", "Yandex", "Organic Search")),
    ({"referrer": "https://chatgpt.com/"}, ("chatgpt.com", "ChatGPT", "AI Assistants")),
    ({"referrer": "https://www.amazon.com/dp/1"}, ("amazon.com", "Amazon", "Organic Shopping")),
    ({"referrer": "https://docs.google.com/d/1"}, ("docs.google.com", "docs.google.com", "Referral")),
    ({"clickId": {"gclid": True}}, (None, "Google", "Paid Search")),
    ({"clickId": {"gclid": "Cj0K"}}, (None, "Direct", "Direct")),
    ({"referrer": "https://www.bing.com/", "clickId": {"msclkid": True}}, ("bing.com", "Bing", "Paid Search")),
    ({"referrer": "https://t.co/x", "clickId": {"gclid": True}}, ("t.co", "X", "Organic Social")),
])
def test_referrer_source_and_channel(data, expected):
    found = reference.acquisition(data)
    assert (found["referrer"], found["source"], found["channel"]) == expected


@pytest.mark.parametrize("data, expected", [
    ({"utm": {"source": "google", "medium": "cpc"}}, ("google", "cpc", "google", "Paid Search")),
    ({"utm": {"source": "newsletter"}}, ("newsletter", None, "newsletter", "Email")),
    ({"utm": {"source": "partner", "medium": "banner"}}, ("partner", "banner", "partner", "Display")),
    ({"utm": {"source": "facebook", "medium": "paid_social"}},
     ("facebook", "paid_social", "facebook", "Paid Social")),
    # A paid medium from a social network is Paid Social, whatever the medium's word.
    ({"utm": {"source": "facebook", "medium": "cpc"}},
     ("facebook", "cpc", "facebook", "Paid Social")),
    ({"utm": {"source": "google"}}, ("google", None, "google", "Organic Search")),
    # A paid medium from no known search engine or network: GA4's Paid Other, before Email.
    ({"utm": {"source": "newsletter", "medium": "cpc"}},
     ("newsletter", "cpc", "newsletter", "Paid Other")),
    ({"utm": {"source": "partner"}, "referrer": "https://blog.example.org/post"},
     ("partner", None, "partner", "Referral")),
    # As in GA4 the utm_source is the source, even when it names nothing and the referrer does.
    ({"utm": {"source": "partner"}, "referrer": "https://t.co/x"},
     ("partner", None, "partner", "Referral")),
    # utm_source names a network: it decides over the referrer's.
    ({"utm": {"source": "facebook"}, "referrer": "https://www.google.de/"},
     ("facebook", None, "facebook", "Organic Social")),
    # Without a utm_source the referrer is the source; Organic Social comes before Email.
    ({"utm": {"medium": "email"}, "referrer": "https://t.co/x"}, (None, "email", "X", "Organic Social")),
    ({"utm": {"source": 5, "medium": "cpc"}}, (None, "cpc", "Direct", "Paid Other")),
    ({"utm": {"source": "fb-ads"}}, ("fb-ads", None, "fb-ads", "Paid Social")),
    ({"utm": {"source": "yt"}}, ("yt", None, "yt", "Organic Video")),
    ({"utm": {"source": "partner", "medium": "affiliate"}}, ("partner", "affiliate", "partner", "Affiliates")),
    ({"utm": {"source": "google", "medium": "cpc", "campaign": "pmax cross-network"}},
     ("google", "cpc", "google", "Cross-network")),
    ({"utm": {"source": "partner", "campaign": "e-shop"}}, ("partner", None, "partner", "Organic Shopping")),
    ({"utm": {"source": "partner", "campaign": "workshop"}}, ("partner", None, "partner", "Unassigned")),
    ({"utm": {"source": "", "medium": "email"}}, (None, "email", "Direct", "Email")),
    ({"utm": "source=google"}, (None, None, "Direct", "Direct")),
])
def test_utm_source_and_channel(data, expected):
    found = reference.acquisition(data)
    assert (found["utmSource"], found["utmMedium"], found["source"], found["channel"]) == expected


def test_utm_campaign_alone_is_unassigned():
    found = reference.acquisition({"utm": {"campaign": "spring:sale", "term": "x", "content": "y"}})
    assert [found[name] for name in ("utmCampaign", "utmTerm", "utmContent")] == \
        ["spring:sale", "x", "y"]
    assert (found["source"], found["channel"]) == ("Direct", "Unassigned")


def test_ties_go_to_storage_order_and_the_first_movement_names_the_context():
    visit = only_visit([
        stored("u1", "s1", 1000, context=CHROME),
        view("u1", "s1", 500, "/b", FIREFOX, referrer="https://www.google.de/"),
        view("u1", "s1", 500, "/c", SAFARI, referrer="https://t.co/x"),
        view("u1", "s1", 2000, "/d"),
        view("u1", "s1", 2000, 7),
    ])
    assert (visit.first, visit.last, visit.duration, visit.bounced) == (500, 2000, 1500, False)
    assert visit.dimensions == {
        "entryPage": "/b", "exitPage": None, "referrer": "google.de", "source": "Google",
        "channel": "Organic Search", "utmSource": None, "utmMedium": None, "utmCampaign": None,
        "utmTerm": None, "utmContent": None, "browser": "Firefox", "os": "Linux",
        "device": "desktop", "country": "DE", "region": None, "city": None}


def test_exit_page_is_the_latest_view_stored_last_among_equals():
    visit = only_visit([view("u1", "s1", 2000, 7), view("u1", "s1", 2000, "/last"),
                        view("u1", "s1", 100, "/first")])
    assert (visit.dimensions["entryPage"], visit.dimensions["exitPage"]) == ("/first", "/last")


def test_source_comes_from_the_earliest_page_view_whatever_its_path():
    visit = only_visit([view("u1", "s1", 200, "/later", referrer="https://t.co/x"),
                        view("u1", "s1", 100, None, referrer="https://blog.example.org/")])
    assert visit.dimensions["entryPage"] is None
    assert visit.dimensions["source"] == "blog.example.org"


def test_a_visit_without_page_views_is_direct_without_pages():
    visit = only_visit([stored("u1", "s1", 100, "signup", {"referrer": "https://t.co/x"})])
    assert visit.bounced and visit.duration == 0
    names = ("entryPage", "exitPage", "referrer", "source", "channel")
    assert [visit.dimensions[name] for name in names] == [None, None, None, "Direct", "Direct"]


def test_one_session_id_of_two_users_is_two_visits():
    visits = reference.build_visits([stored("u1", "s1", 100), stored("u2", "s1", 200),
                                     stored("u1", "s1", 300)])
    assert sorted((v.user, len(v.movements)) for v in visits) == [("u1", 2), ("u2", 1)]


def ten_hours() -> list[dict]:
    """Around the window [T, T+10h): a visit begun before it, three in it, one at its end."""
    return [
        view("alice", "s1", T - 30 * MINUTE, "/"),
        view("alice", "s1", T + 10 * MINUTE, "/pricing"),
        stored("alice", "s1", T + 20 * MINUTE),
        view("alice", "s2", T + HOUR, "/"),
        view("alice", "s2", T + HOUR + 5 * MINUTE, "/docs"),
        view("bob", "s1", T + HOUR + 30 * MINUTE, "/", FIREFOX),
        stored("carol", "s1", T + 3 * HOUR, context=SAFARI),
        view("dave", "s1", T + 10 * HOUR, "/"),
    ]


def test_totals_count_visits_by_their_start_and_page_views_by_their_time():
    answer = reference.stats(ten_hours(), T, T + 10 * HOUR)
    # Visits alice/s2 (5 minutes), bob and carol (bounced); alice/s1 began before the window.
    assert answer["totals"] == {"visitors": 3, "visits": 3, "pageviews": 4,
                                "bounceRate": 2 / 3, "visitDuration": 100.0}
    assert answer["previous"] is None and answer["bucket"] == "1h"


def test_series_has_one_entry_per_utc_hour():
    series = reference.stats(ten_hours(), T, T + 10 * HOUR)["series"]
    assert [p["t"] for p in series] == [T + k * HOUR for k in range(10)]
    busy = {(p["t"] - T) // HOUR: (p["visitors"], p["visits"], p["pageviews"])
            for p in series if p["visits"] or p["pageviews"]}
    assert busy == {0: (0, 0, 1), 1: (2, 2, 3), 3: (1, 1, 0)}


def test_kolkata_hours_start_at_half_past_utc_and_the_first_is_cut_at_from():
    series = reference.stats(ten_hours(), T, T + 10 * HOUR, "Asia/Kolkata")["series"]
    assert [p["t"] for p in series] == [T - 30 * MINUTE + k * HOUR for k in range(11)]
    busy = {k: (p["visitors"], p["visits"], p["pageviews"])
            for k, p in enumerate(series) if p["visits"] or p["pageviews"]}
    # alice/s1's first page view lies in the first bucket but before `from`: not counted.
    assert busy == {0: (0, 0, 1), 1: (1, 1, 2), 2: (1, 1, 1), 3: (1, 1, 0)}


def test_previous_is_the_window_of_the_same_length_before():
    previous = reference.stats(ten_hours(), T, T + 10 * HOUR, compare=True)["previous"]
    assert previous == {"from": T - 10 * HOUR, "to": T, "totals": {
        "visitors": 1, "visits": 1, "pageviews": 1, "bounceRate": 0.0, "visitDuration": 3000.0}}


def test_an_empty_window_has_zero_rates():
    answer = reference.stats([], T, T + HOUR)
    assert answer["totals"] == {"visitors": 0, "visits": 0, "pageviews": 0, "bounceRate": 0.0,
                                "visitDuration": 0.0}
    assert answer["bucket"] == "1m" and len(answer["series"]) == 60


def test_filters_on_one_dimension_are_any_and_on_several_all():
    def visits(*filters: str) -> int:
        answer = reference.stats(ten_hours(), T, T + 10 * HOUR, filters=list(filters))
        return answer["totals"]["visits"]

    assert visits("country:US") == 1  # alice/s2; carol's country is unknown
    assert visits("country:US", "country:DE") == 2
    assert visits("country:US", "browser:Firefox") == 0
    assert visits("browser:Firefox", "country:DE") == 1
    assert visits("country:None") == 0


def test_a_country_filter_narrows_every_total():
    totals = reference.stats(ten_hours(), T, T + 10 * HOUR, filters=["country:US"])["totals"]
    assert totals == {"visitors": 1, "visits": 1, "pageviews": 3, "bounceRate": 0.0,
                      "visitDuration": 300.0}  # alice/s1 (before the window) still adds its view


def test_a_page_filter_keeps_visits_with_that_page_anytime_and_counts_only_its_views():
    movements = [view("u1", "s1", T - HOUR, "/a"), view("u1", "s1", T + 1, "/b"),
                 view("u2", "s1", T + 2, "/b"), view("u3", "s1", T + 3, "/a"),
                 view("u3", "s1", T + 4, "/b")]
    totals = reference.stats(movements, T, T + HOUR, filters=["page:/a"])["totals"]
    assert (totals["visits"], totals["pageviews"]) == (1, 1)  # u3's visit, its view of /a
    both = reference.stats(movements, T, T + HOUR, filters=["page:/a", "page:/b"])["totals"]
    assert (both["visits"], both["pageviews"]) == (2, 4)


def test_a_filter_splits_at_the_first_colon():
    movements = [view("u1", "s1", T, "/x", utm={"campaign": "spring:sale"}),
                 view("u2", "s1", T, "/docs:intro")]
    assert reference.stats(movements, T, T + HOUR,
                           filters=["utmCampaign:spring:sale"])["totals"]["visits"] == 1
    assert reference.stats(movements, T, T + HOUR,
                           filters=["entryPage:/docs:intro"])["totals"]["visits"] == 1


@pytest.mark.parametrize("bad", ["planet:Mars", "country", "Country:US"])
def test_an_unknown_filter_dimension_is_refused(bad):
    with pytest.raises(reference.UnknownDimension):
        reference.stats([], T, T + HOUR, filters=[bad])


def test_a_value_with_only_page_views_in_the_window_is_a_row():
    movements = [view("u1", "s1", T - HOUR, "/", FIREFOX), view("u1", "s1", T + 5, "/x", FIREFOX),
                 view("u2", "s1", T + 1, "/", CHROME), view("u2", "s1", T + 61_001, "/", CHROME),
                 stored("u3", "s1", T + 7, context=SAFARI)]
    results = reference.breakdown(movements, "country", T, T + HOUR)["results"]
    assert results == [
        {"value": "US", "visitors": 1, "visits": 1, "pageviews": 2, "bounceRate": 0.0,
         "visitDuration": 61.0},
        {"value": None, "visitors": 1, "visits": 1, "pageviews": 0, "bounceRate": 1.0,
         "visitDuration": 0.0},
        {"value": "DE", "visitors": 0, "visits": 0, "pageviews": 1, "bounceRate": 0.0,
         "visitDuration": 0.0},
    ]


def test_pages_group_the_windows_page_views_by_path():
    movements = [view("u1", "s1", T - 1, "/a"), view("u1", "s1", T, "/a"),
                 view("u1", "s2", T + 1, "/a"), view("u2", "s1", T + 2, "/b"),
                 view("u2", "s1", T + 3, 7), stored("u2", "s1", T + 4, data={"path": "/c"})]
    assert reference.breakdown(movements, "page", T, T + HOUR)["results"] == [
        {"value": "/a", "visitors": 1, "visits": 2, "pageviews": 2},
        {"value": "/b", "visitors": 1, "visits": 1, "pageviews": 1},
    ]


def test_events_with_a_page_filter_count_page_views_of_those_paths_only():
    movements = [view("u1", "s1", T, "/a"), view("u1", "s1", T + 1, "/b"),
                 stored("u1", "s1", T + 2, "click"), stored("u2", "s1", T + 3, "click"),
                 view("u3", "s1", T + 4, "/a")]
    results = reference.breakdown(movements, "event", T, T + HOUR, filters=["page:/a"])["results"]
    assert results == [{"value": "page_view", "visitors": 2, "visits": 2, "events": 2},
                       {"value": "click", "visitors": 1, "visits": 1, "events": 1}]
    everything = reference.breakdown(movements, "event", T, T + HOUR)["results"]
    assert everything == [{"value": "page_view", "visitors": 2, "visits": 2, "events": 3},
                          {"value": "click", "visitors": 2, "visits": 2, "events": 2}]


def test_properties_are_grouped_as_text():
    values = ["pro", 3, 2.5, True, False, None, {"a": 1}, [1], "", "3"]
    movements = [stored(f"u{i}", "s1", T + i, "signup", {"n": value})
                 for i, value in enumerate(values)]
    movements += [stored("u5", "s1", T + 20, "signup"),
                  stored("u1", "s1", T + 21, "click", {"n": 3})]
    results = reference.breakdown(movements, "prop:n", T, T + HOUR, event="signup",
                                  limit=1000)["results"]
    assert results == [
        {"value": None, "visitors": 3, "visits": 3, "events": 4},  # null and missing, object, list
        {"value": "3", "visitors": 2, "visits": 2, "events": 2},
        {"value": "", "visitors": 1, "visits": 1, "events": 1},
        {"value": "2.5", "visitors": 1, "visits": 1, "events": 1},
        {"value": "false", "visitors": 1, "visits": 1, "events": 1},
        {"value": "pro", "visitors": 1, "visits": 1, "events": 1},
        {"value": "true", "visitors": 1, "visits": 1, "events": 1},
    ]


def test_prop_needs_an_event_and_by_must_be_known():
    with pytest.raises(reference.MissingEvent):
        reference.breakdown([], "prop:plan", T, T + HOUR)
    with pytest.raises(reference.UnknownDimension):
        reference.breakdown([], "planet", T, T + HOUR)


def test_rows_sort_by_visitors_then_count_then_value_with_null_last_and_are_limited():
    movements = [stored("u1", "s1", T, "b"), stored("u2", "s1", T, "b"), stored("u3", "s1", T, "a"),
                 stored("u3", "s1", T + 1, "a"), stored("u4", "s1", T, "c"),
                 stored("u5", "s1", T, "Z"), stored("u6", "s1", T, "é")]
    results = reference.breakdown(movements, "event", T, T + HOUR)["results"]
    assert [r["value"] for r in results] == ["b", "a", "Z", "c", "é"]
    limited = reference.breakdown(movements, "event", T, T + HOUR, limit=2)["results"]
    assert [r["value"] for r in limited] == ["b", "a"]
    by_source = reference.breakdown(
        [view("u1", "s1", T, "/", referrer="https://t.co/x"), view("u2", "s1", T, "/"),
         view("u3", "s1", T, "/", referrer="https://blog.example.org/")], "referrer", T, T + HOUR)
    assert [r["value"] for r in by_source["results"]] == ["blog.example.org", "t.co", None]
