"""Intake (tracker/ingest/intake.py): a decoded /track request turned into the log's rows.

Each rule msgspec cannot express is refused with a message naming the field and the event's
place in the body (both ids or neither, no `anon:` ids, the timestamp's window, the size of
`data`); each event is given its site (its `site`, else the site whose domains hold its
`data.host`, else the only live site, else it is refused as of no site); anonymous events get
their visitor's id on that site, and are dropped when the request comes from a crawler; an
eventId repeated within the request keeps its first event only.
"""

from __future__ import annotations

import json

import pytest

from helpers import DAY, MINUTE
from tracker import schemas
from tracker.ingest import intake
from tracker.ingest.anonymous_sessions import UNASSIGNED
from tracker.ingest.intake import Invalid, UnknownSite, host_name, take
from tracker.ingest.visitors import Visitors
from tracker.schemas import MAX_OBJECT_BYTES
from tracker.storage.registry import Site, Sites
from tracker.storage.rows import MovementRow

NOW = 1_790_000_000_000
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
CRAWLER = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


def site(number: int, site_id: str, *domains: str, deleting: int | None = None) -> Site:
    return Site(number, site_id, site_id, "UTC", f"umami-{number}", 0, deleting, domains)


ONE_SITE = Sites((site(0, "default"),))
TWO_SITES = Sites((site(0, "default", "shop.example"), site(1, "blog", "blog.example", "www.blog.example")))


def body(*events: dict) -> list[tuple[schemas.MovementIn, str]]:
    """The movements of a /track body, each with its path, decoded as the endpoint does."""
    return schemas.track_decoder.decode(json.dumps({"events": list(events)})).movements()


def signed_in(**fields) -> dict:
    return {"event": "click", "userId": "u1", "sessionId": "s1", **fields}


@pytest.fixture
def visitors(tmp_path):
    visitors = Visitors(tmp_path, bot_filter=True, geoip_db=None)
    yield visitors
    visitors.close()


def taken(visitors, *events, sites=ONE_SITE, user_agent=BROWSER) -> intake.Intake:
    return take(body(*events), NOW, visitors, sites, "203.0.113.9", user_agent)


def refusal(visitors, *events, sites=ONE_SITE) -> str:
    with pytest.raises(Invalid) as refused:
        taken(visitors, *events, sites=sites)
    return str(refused.value)


@pytest.mark.parametrize(("event", "names"), [
    ({"event": "click", "userId": "u1"}, "`userId` needs `sessionId`; leave both out for an anonymous event - at `$.events[1].sessionId`"),
    ({"event": "click", "sessionId": "s1"}, "`sessionId` needs `userId`; leave both out for an anonymous event - at `$.events[1].userId`"),
    (signed_in(userId="anon:abc"), "ids starting with `anon:` are the service's own - at `$.events[1].userId`"),
    (signed_in(sessionId="anon:abc"), "ids starting with `anon:` are the service's own - at `$.events[1].sessionId`"),
    (signed_in(timestamp=NOW + 10 * MINUTE + 1), "timestamp is more than 10 minutes in the future - at `$.events[1].timestamp`"),
    (signed_in(timestamp=NOW - 30 * DAY - 1), "timestamp is more than 30 days in the past - at `$.events[1].timestamp`"),
    (signed_in(data={"text": "x" * MAX_OBJECT_BYTES}), f"Object is larger than {MAX_OBJECT_BYTES} bytes once encoded - at `$.events[1].data`"),
])
def test_each_rule_is_refused_naming_the_event_and_the_field(visitors, event, names):
    assert refusal(visitors, signed_in(), event) == names


def test_a_single_movement_is_named_at_the_bodys_root(visitors):
    movements = schemas.track_decoder.decode(json.dumps({"event": "click", "userId": "u1"})).movements()
    with pytest.raises(Invalid, match=r"at `\$\.sessionId`$"):
        take(movements, NOW, visitors, ONE_SITE, "203.0.113.9", BROWSER)


@pytest.mark.parametrize("timestamp", [NOW + 10 * MINUTE, NOW - 30 * DAY])
def test_timestamps_at_the_edges_of_the_window_are_taken(visitors, timestamp):
    assert taken(visitors, signed_in(timestamp=timestamp)).rows[0][1].timestamp == timestamp


def test_data_as_large_as_allowed_is_taken(visitors):
    text = "x" * (MAX_OBJECT_BYTES - len('{"text":""}'))
    assert len(taken(visitors, signed_in(data={"text": text})).rows[0][1].data) == MAX_OBJECT_BYTES


def test_a_signed_in_event_becomes_its_row(visitors):
    request = taken(visitors, signed_in(timestamp=NOW - 5, data={"path": "/a"}, eventId="e1"),
                    {"event": "page_view", "userId": "u2", "sessionId": "s2"})
    assert request.rows == [
        (0, MovementRow("u1", "s1", NOW - 5, "click", '{"path":"/a"}', "e1")),
        (0, MovementRow("u2", "s2", NOW, "page_view", "{}", None)),  # the time it came
    ]
    assert (request.received, request.kept, request.ignored) == (2, 2, 0)


def test_an_anonymous_event_gets_its_visitors_id_and_no_session_yet(visitors):
    first = taken(visitors, {"event": "page_view"}).rows[0][1]
    again = taken(visitors, {"event": "click"}).rows[0][1]
    assert first.userId == again.userId and first.userId.startswith("anon:")
    assert first.sessionId == again.sessionId == UNASSIGNED


def test_an_anonymous_visitor_has_another_id_on_another_site(visitors):
    request = taken(visitors, {"event": "page_view", "site": "default"},
                    {"event": "page_view", "site": "blog"}, sites=TWO_SITES)
    (site_0, row_0), (site_1, row_1) = request.rows
    assert (site_0, site_1) == (0, 1)
    assert row_0.userId != row_1.userId


def test_a_crawlers_anonymous_events_are_dropped_and_its_signed_in_ones_kept(visitors):
    request = taken(visitors, {"event": "page_view"}, signed_in(), {"event": "click"},
                    user_agent=CRAWLER)
    assert [row.userId for _site, row in request.rows] == ["u1"]
    assert (request.received, request.kept, request.ignored) == (3, 1, 2)


def test_without_the_bot_filter_a_crawlers_events_are_kept(tmp_path):
    visitors = Visitors(tmp_path, bot_filter=False, geoip_db=None)
    try:
        assert taken(visitors, {"event": "page_view"}, user_agent=CRAWLER).kept == 1
    finally:
        visitors.close()


def test_an_event_id_repeated_in_a_request_keeps_its_first_event(visitors):
    request = taken(visitors, signed_in(eventId="e1", event="first"),
                    signed_in(eventId="e1", event="second"), signed_in(eventId="e2"))
    assert [(row.event, row.eventId) for _site, row in request.rows] == [
        ("first", "e1"), ("click", "e2")]
    assert (request.received, request.kept) == (3, 3)  # duplicates are not ignored events


def test_an_event_id_repeated_by_another_user_or_on_another_site_is_kept(visitors):
    request = taken(visitors, signed_in(eventId="e1", site="default"),
                    signed_in(eventId="e1", userId="u2", site="default"),
                    signed_in(eventId="e1", site="blog"), sites=TWO_SITES)
    assert [(site, row.userId) for site, row in request.rows] == [(0, "u1"), (0, "u2"), (1, "u1")]


def test_events_without_an_event_id_are_all_kept(visitors):
    assert len(taken(visitors, signed_in(), signed_in()).rows) == 2


def test_the_site_field_names_the_site_before_the_host(visitors):
    request = taken(visitors, signed_in(site="blog", data={"host": "shop.example"}),
                    sites=TWO_SITES)
    assert request.rows[0][0] == 1


@pytest.mark.parametrize("host", ["blog.example", "BLOG.Example", "www.blog.example:8443",
                                  " blog.example. ", "Blog.Example.:80"])
def test_the_host_names_the_site_whatever_its_case_port_or_trailing_dot(visitors, host):
    assert taken(visitors, signed_in(data={"host": host}), sites=TWO_SITES).rows[0][0] == 1


def test_an_ipv6_host_with_a_port_is_matched_without_the_port():
    assert host_name("[2001:DB8::1]:8080") == "[2001:db8::1]"
    assert host_name("[2001:db8::1]") == "[2001:db8::1]"


def test_without_a_site_or_a_known_host_the_only_site_takes_the_event(visitors):
    assert taken(visitors, signed_in(data={"host": "elsewhere.example"})).rows[0][0] == 0
    assert taken(visitors, signed_in(data={"host": 7})).rows[0][0] == 0
    assert taken(visitors, signed_in()).rows[0][0] == 0


def test_a_site_being_deleted_does_not_keep_another_from_being_the_only_one(visitors):
    sites = Sites((site(0, "default", deleting=NOW), site(1, "blog")))
    assert taken(visitors, signed_in(), sites=sites).rows[0][0] == 1


def test_an_event_of_no_site_among_several_is_refused_naming_it(visitors):
    with pytest.raises(UnknownSite) as refused:
        taken(visitors, signed_in(), signed_in(data={"host": "elsewhere.example"}), sites=TWO_SITES)
    assert str(refused.value) == ("the event names no site (`site`) and its `data.host` is no "
                                  "site's domain - at `$.events[0]`")


@pytest.mark.parametrize("named", ["nosuchsite", "gone"])
def test_an_event_naming_no_live_site_is_refused_naming_its_site_field(visitors, named):
    sites = Sites((site(0, "default"), site(1, "gone", deleting=NOW)))
    with pytest.raises(UnknownSite) as refused:
        taken(visitors, signed_in(), signed_in(site=named), sites=sites)
    assert str(refused.value) == f"no site `{named}` - at `$.events[1].site`"


def test_a_deleted_sites_domain_places_no_event(visitors):
    sites = Sites((site(0, "default"), site(1, "gone", "gone.example", deleting=NOW),
                   site(2, "other")))
    with pytest.raises(UnknownSite):
        taken(visitors, signed_in(data={"host": "gone.example"}), sites=sites)

