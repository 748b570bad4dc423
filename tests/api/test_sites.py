"""Sites: the management API, which site an event belongs to, and reads that name a site."""

from __future__ import annotations

import uuid

import pytest

from helpers import DAY, HOUR, add_site, fold_all, metric_samples, movement, now_ms, wait_until

SITE_FIELDS = {"id", "name", "domains", "timezone", "umamiId", "created", "status"}


@pytest.fixture
def two_sites(client):
    """`default` (for blog.example) and `shop` (for shop.example and www.shop.example)."""
    assert client.patch("/sites/default", json={"domains": ["blog.example"]}).status_code == 200
    add_site(client, "shop", "shop.example", "www.shop.example")
    return client


def totals(client, site: str | None = None, **params) -> dict:
    query = {"timeRange": "30d", **params, **({"site": site} if site else {})}
    response = client.get("/analytics", params=query)
    assert response.status_code == 200, response.text
    return response.json()["totals"]


def error_of(response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]


# Management.

def test_a_new_service_holds_the_site_default_with_no_domains(client):
    [site] = client.get("/sites").json()["sites"]
    assert site.keys() == SITE_FIELDS
    assert (site["id"], site["name"], site["domains"], site["timezone"], site["status"]) == (
        "default", "default", [], "UTC", "live")
    assert uuid.UUID(site["umamiId"])
    assert client.get("/sites/default").json() == site


def test_adding_a_site_answers_201_with_its_domains_as_hosts(client, now):
    made = client.post("/sites", json={"id": "shop.example", "name": "The shop",
                                       "domains": ["Shop.Example", "www.shop.example.", "shop.example"],
                                       "timezone": "Europe/Paris"})
    assert made.status_code == 201
    site = made.json()
    assert site["domains"] == ["shop.example", "www.shop.example"]
    assert (site["name"], site["timezone"], site["status"]) == ("The shop", "Europe/Paris", "live")
    assert now - 60_000 < site["created"] <= now_ms() and uuid.UUID(site["umamiId"])
    assert client.get("/sites/shop.example").json() == site
    assert [s["id"] for s in client.get("/sites").json()["sites"]] == ["default", "shop.example"]
    plain = add_site(client, "blog")
    assert (plain["name"], plain["domains"], plain["timezone"]) == ("blog", [], "UTC")
    assert plain["umamiId"] != site["umamiId"]


@pytest.mark.parametrize("body, status, code", [
    ({"id": "Shop"}, 422, "invalid_field"),
    ({"id": "-shop"}, 422, "invalid_field"),
    ({"id": "shop_1"}, 422, "invalid_field"),
    ({"id": "a" * 65}, 422, "invalid_field"),
    ({"name": "no id"}, 422, "invalid_field"),
    ({"id": "shop", "name": ""}, 422, "invalid_field"),
    ({"id": "shop", "domains": ["shop.example:8080"]}, 422, "invalid_field"),
    ({"id": "shop", "domains": ["https://shop.example/"]}, 422, "invalid_field"),
    ({"id": "shop", "domains": ["shop example"]}, 422, "invalid_field"),
    ({"id": "shop", "domains": "shop.example"}, 422, "invalid_field"),
    ({"id": "shop", "timezone": "Mars/Olympus"}, 422, "invalid_field"),
    ({"id": "default"}, 409, "conflict"),
    ({"id": "shop", "domains": ["blog.example"]}, 409, "conflict"),
])
def test_a_site_that_breaks_a_rule_is_refused_and_not_made(client, body, status, code):
    client.patch("/sites/default", json={"domains": ["blog.example"]})
    response = client.post("/sites", json=body)
    assert error_of(response) == (status, code), response.text
    assert response.json()["detail"]
    assert [s["id"] for s in client.get("/sites").json()["sites"]] == ["default"]


def test_a_body_that_is_not_json_is_400(client):
    response = client.post("/sites", content=b"{nope", headers={"Content-Type": "application/json"})
    assert error_of(response) == (400, "malformed_json")


def test_patch_changes_only_what_it_names(two_sites):
    changed = two_sites.patch("/sites/shop", json={"name": "Shop", "timezone": "Asia/Kolkata"})
    assert changed.status_code == 200
    assert (changed.json()["name"], changed.json()["timezone"], changed.json()["domains"]) == (
        "Shop", "Asia/Kolkata", ["shop.example", "www.shop.example"])
    moved = two_sites.patch("/sites/shop", json={"domains": ["shop.example", "Shop.Example"]})
    assert moved.json()["domains"] == ["shop.example"]
    assert two_sites.get("/sites/shop").json() == moved.json()


@pytest.mark.parametrize("path, body, status, code", [
    ("/sites/nope", {"name": "x"}, 404, "not_found"),
    ("/sites/shop", {"domains": ["blog.example"]}, 409, "conflict"),
    ("/sites/shop", {"timezone": "Nowhere/Else"}, 422, "invalid_field"),
    ("/sites/shop", {"domains": ["a/b"]}, 422, "invalid_field"),
    ("/sites/shop", {"name": 5}, 422, "invalid_field"),
])
def test_a_patch_that_breaks_a_rule_changes_nothing(two_sites, path, body, status, code):
    before = two_sites.get("/sites").json()
    assert error_of(two_sites.patch(path, json=body)) == (status, code)
    assert two_sites.get("/sites").json() == before


def test_unknown_sites_are_404_on_every_management_path(client):
    for method, path in [("GET", "/sites/nope"), ("DELETE", "/sites/nope"),
                         ("POST", "/sites/nope/keys"), ("GET", "/sites/nope/keys"),
                         ("DELETE", "/sites/nope/keys/k"), ("POST", "/sites/nope/shares"),
                         ("GET", "/sites/nope/shares"), ("DELETE", "/sites/nope/shares/s")]:
        response = client.request(method, path)
        assert error_of(response) == (404, "not_found"), (method, path)


def test_the_last_site_cannot_be_deleted(client):
    response = client.delete("/sites/default")
    assert error_of(response) == (409, "last_site")
    assert client.get("/sites/default").json()["status"] == "live"


def test_keys_are_shown_once_listed_without_the_key_and_revoked_with_204(two_sites, now):
    made = two_sites.post("/sites/shop/keys")
    assert made.status_code == 201
    key = made.json()
    assert key.keys() == {"id", "key", "created"} and key["key"].startswith("tk_")
    assert now - 60_000 < key["created"] <= now_ms()
    other = two_sites.post("/sites/shop/keys").json()
    assert two_sites.get("/sites/shop/keys").json() == {"keys": [
        {"id": key["id"], "created": key["created"]}, {"id": other["id"], "created": other["created"]}]}
    assert two_sites.get("/sites/default/keys").json() == {"keys": []}
    assert error_of(two_sites.delete(f"/sites/default/keys/{key['id']}")) == (404, "not_found")
    assert two_sites.delete(f"/sites/shop/keys/{key['id']}").status_code == 204
    assert error_of(two_sites.delete(f"/sites/shop/keys/{key['id']}")) == (404, "not_found")
    assert [k["id"] for k in two_sites.get("/sites/shop/keys").json()["keys"]] == [other["id"]]


def test_shares_are_made_with_a_url_listed_without_the_token_and_revoked_with_204(two_sites, now):
    plain = two_sites.post("/sites/shop/shares")
    assert plain.status_code == 201
    share = plain.json()
    assert share.keys() == {"id", "url", "created", "expires"} and share["expires"] is None
    assert share["url"].startswith("http://testserver/share/")
    guarded = two_sites.post("/sites/shop/shares", json={"password": "pw", "expires": now + DAY})
    assert guarded.status_code == 201 and guarded.json()["expires"] == now + DAY
    listed = two_sites.get("/sites/shop/shares").json()["shares"]
    assert listed == [
        {"id": share["id"], "created": share["created"], "expires": None, "password": False},
        {"id": guarded.json()["id"], "created": guarded.json()["created"], "expires": now + DAY,
         "password": True}]
    assert two_sites.delete(f"/sites/shop/shares/{share['id']}").status_code == 204
    assert error_of(two_sites.delete(f"/sites/shop/shares/{share['id']}")) == (404, "not_found")
    assert len(two_sites.get("/sites/shop/shares").json()["shares"]) == 1


@pytest.mark.parametrize("body", [{"expires": 1000}, {"password": ""}, {"password": 5},
                                  {"expires": "tomorrow"}, {"expires": -1}])
def test_a_share_that_breaks_a_rule_is_422_and_not_made(two_sites, body):
    assert error_of(two_sites.post("/sites/shop/shares", json=body)) == (422, "invalid_field")
    assert two_sites.get("/sites/shop/shares").json() == {"shares": []}


@pytest.mark.parametrize("method, path", [
    ("GET", "/sites"), ("POST", "/sites"), ("GET", "/sites/default"), ("PATCH", "/sites/default"),
    ("DELETE", "/sites/default"), ("POST", "/sites/default/keys"), ("GET", "/sites/default/keys"),
    ("DELETE", "/sites/default/keys/k"), ("POST", "/sites/default/shares"),
    ("GET", "/sites/default/shares"), ("DELETE", "/sites/default/shares/s")])
@pytest.mark.parametrize("header", [None, "Bearer wrong", "Bearer tk_wrong"])
def test_management_without_a_valid_credential_is_401(client, method, path, header):
    client.headers.pop("Authorization")
    response = client.request(method, path, headers={"Authorization": header} if header else {})
    assert error_of(response) == (401, "unauthorized")


# Which site an event belongs to.

def test_an_event_goes_to_its_site_field_else_to_the_site_of_its_host(two_sites):
    events = [
        movement("u1", event="by_field", site="shop", data={"host": "blog.example"}),
        movement("u2", event="page_view", data={"host": "shop.example", "path": "/"}),
        movement("u3", event="page_view", data={"host": "WWW.Shop.Example:8443", "path": "/"}),
        movement("u4", event="page_view", data={"host": "shop.example.", "path": "/"}),
        movement("u5", event="page_view", data={"host": "Blog.Example", "path": "/"}),
    ]
    assert two_sites.post("/track", json={"events": events}).json()["accepted"] == 5
    assert totals(two_sites, "shop")["users"] == 4
    assert totals(two_sites, "default")["users"] == 1
    assert two_sites.get("/movements", params={"userId": "u5", "site": "default"}).json()[
        "movements"][0]["data"] == {"host": "Blog.Example", "path": "/"}


def test_with_one_site_every_event_is_its_own_whatever_its_host(client):
    add_site(client, "shop", "shop.example")
    assert client.delete("/sites/default").status_code == 202
    posted = client.post("/track", json={"events": [
        movement("u1", data={"host": "elsewhere.example"}), movement("u2")]})
    assert posted.status_code == 200
    assert totals(client)["users"] == 2 and totals(client, "shop")["users"] == 2


@pytest.mark.parametrize("events, where", [
    ([movement("u1", site="shop"), movement("u2", data={"host": "other.example"})], "$.events[1]"),
    ([movement("u1", site="shop"), movement("u2", site="shop"), movement("u3")], "$.events[2]"),
    ([movement("u1", data={"host": 5})], "$.events[0]"),
    ([movement("u1", site="nope")], "$.events[0].site"),
    ([movement("u1", site="shop"), movement("u2", site="gone")], "$.events[1].site"),
])
def test_an_event_whose_site_cannot_be_told_refuses_the_whole_batch(two_sites, events, where):
    response = two_sites.post("/track", json={"events": events})
    assert error_of(response) == (422, "unknown_site")
    assert response.json()["detail"].endswith(f"at `{where}`")
    assert totals(two_sites, "shop")["movements"] == totals(two_sites, "default")["movements"] == 0


def test_a_single_event_without_a_site_is_422_naming_it(two_sites):
    response = two_sites.post("/track", json=movement("u1"))
    assert error_of(response) == (422, "unknown_site") and "at `$`" in response.json()["detail"]


def test_a_site_field_that_is_no_site_id_at_all_is_422(two_sites):
    response = two_sites.post("/track", json=movement("u1", site="Not A Site"))
    assert response.status_code == 422 and "site" in response.json()["detail"]


def test_post_session_takes_a_site_and_needs_one_among_several(two_sites):
    opened = two_sites.post("/session", json={"userId": "u1", "sessionId": "s1", "site": "shop"})
    assert opened.status_code == 200 and opened.json()["created"] is True
    assert two_sites.get("/session", params={"sessionId": "s1", "site": "shop"}).status_code == 200
    missing = two_sites.get("/session", params={"sessionId": "s1", "site": "default"})
    assert error_of(missing) == (404, "not_found")
    for body in ({"userId": "u1", "sessionId": "s1"},
                 {"userId": "u1", "sessionId": "s1", "site": "nope"}):
        assert error_of(two_sites.post("/session", json=body)) == (422, "unknown_site")


def test_refused_events_are_counted_by_reason(two_sites):
    def refused() -> float:
        samples = metric_samples(two_sites.get("/metrics").text)
        return samples[("tracker_ingest_refused_total", ("reason", "unknown_site"))]

    assert refused() == 0
    two_sites.post("/track", json={"events": [movement("u1"), movement("u2")]})
    two_sites.post("/track", json=movement("u1", site="nope"))
    two_sites.post("/session", json={"userId": "u1", "sessionId": "s1"})
    two_sites.post("/track", json=movement("u1", site="shop"))
    assert refused() == 3


def test_the_sites_gauge_counts_live_sites(client):
    def gauge() -> float:
        return metric_samples(client.get("/metrics").text)[("tracker_sites",)]

    assert gauge() == 1
    add_site(client, "shop")
    add_site(client, "blog")
    assert gauge() == 3
    client.delete("/sites/blog")
    assert gauge() == 2


# Identity per site.

def test_the_same_ids_on_two_sites_are_two_users_sessions_and_events(two_sites, now):
    twins = [movement("u1", "s1", "page_view", site=site, eventId="e1", timestamp=now - HOUR,
                      data={"path": f"/{site}"}) for site in ("default", "shop")]
    assert two_sites.post("/track", json={"events": twins}).json() == {
        "accepted": 2, "duplicates": 0, "ignored": 0}
    assert two_sites.post("/track", json={"events": twins}).json()["duplicates"] == 2
    for site in ("default", "shop"):
        assert totals(two_sites, site) == {"movements": 1, "pageViews": 1, "sessions": 1, "users": 1}
        [only] = two_sites.get("/movements", params={"userId": "u1", "site": site}).json()["movements"]
        assert only["data"] == {"path": f"/{site}"}
        lines = two_sites.get("/users/u1/export", params={"site": site}).text.splitlines()
        assert len(lines) == 2 and f'"/{site}"' in lines[1]


def test_a_session_id_belongs_to_its_first_user_on_each_site(two_sites, now):
    for user, site, ago in (("alice", "default", 2), ("bob", "shop", 3), ("carol", "shop", 1)):
        posted = two_sites.post("/track", json=movement(user, "s1", site=site,
                                                        timestamp=now - ago * 60_000))
        assert posted.status_code == 200
    owners = {site: two_sites.get("/session", params={"sessionId": "s1", "site": site}).json()[
        "session"]["userId"] for site in ("default", "shop")}
    assert owners == {"default": "alice", "shop": "bob"}


def test_erasing_a_user_on_one_site_leaves_the_same_id_on_another(two_sites):
    two_sites.post("/track", json={"events": [movement("u1", site="default"),
                                              movement("u1", site="shop"),
                                              movement("u1", "s2", site="shop")]})
    erased = two_sites.delete("/users/u1", params={"site": "shop"})
    assert erased.status_code == 200 and erased.json()["movements"] == 2
    assert two_sites.get("/users/u1/export", params={"site": "shop"}).status_code == 404
    assert totals(two_sites, "default")["movements"] == 1
    assert two_sites.get("/users/u1/erasure", params={"site": "default"}).status_code == 404


def anonymous_ids(data_dir, site_dir: str) -> set[str]:
    from helpers import connect

    found = set()
    for path in sorted((data_dir / site_dir).glob("shard-*.sqlite")):
        with connect(path, read_only=True) as conn:
            found |= {row[0] for row in conn.execute("SELECT DISTINCT userId FROM movements")}
    return found


def test_one_browser_is_a_different_anonymous_visitor_on_each_site(two_sites, data_dir):
    browser = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0"}
    for host in ("blog.example", "shop.example"):
        posted = two_sites.post("/track", headers=browser, json={
            "event": "page_view", "data": {"host": host, "path": "/"}})
        assert posted.json()["accepted"] == 1
    for site in ("default", "shop"):
        assert two_sites.get("/stats", params={"site": site}).json()["totals"]["visitors"] == 1
    default_ids, shop_ids = anonymous_ids(data_dir, "."), anonymous_ids(data_dir, "sites/1")
    assert len(default_ids) == len(shop_ids) == 1 and default_ids != shop_ids
    assert all(i.startswith("anon:") for i in default_ids | shop_ids)


def test_the_default_sites_anonymous_ids_stay_when_a_site_is_added(client, data_dir):
    browser = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0"}
    client.post("/track", headers=browser, json={"event": "page_view", "data": {"path": "/"}})
    fold_all(client)
    before = anonymous_ids(data_dir, ".")
    assert len(before) == 1
    add_site(client, "shop", "shop.example")
    client.post("/track", headers=browser, json={"event": "page_view", "site": "default",
                                                 "data": {"path": "/again"}})
    fold_all(client)
    assert anonymous_ids(data_dir, ".") == before
    stats = client.get("/stats", params={"site": "default"}).json()["totals"]
    assert (stats["visitors"], stats["visits"], stats["pageviews"]) == (1, 1, 2)


# Reads name their site.

READS = [("GET", "/session", {"sessionId": "s1"}), ("GET", "/movements", {"userId": "u1"}),
         ("GET", "/analytics", {}), ("GET", "/stats", {}), ("GET", "/breakdown", {"by": "page"}),
         ("GET", "/funnels", {"step": ["a", "b"]}), ("GET", "/retention", {}),
         ("GET", "/live/visitors", {}), ("GET", "/live", {}), ("GET", "/users/u1/export", {}),
         ("GET", "/users/u1/erasure", {}), ("DELETE", "/users/u1", {})]


@pytest.mark.parametrize("method, path, params", READS)
def test_a_read_among_several_sites_needs_site_and_an_unknown_one_is_404(two_sites, method, path,
                                                                         params):
    response = two_sites.request(method, path, params=params)
    assert error_of(response) == (422, "invalid_field") and "site" in response.json()["detail"]
    response = two_sites.request(method, path, params={**params, "site": "nope"})
    assert error_of(response) == (404, "not_found")


def test_a_site_being_deleted_is_404_to_reads_and_refused_by_ingest(two_sites):
    two_sites.post("/track", json=movement("u1", site="shop"))
    assert two_sites.delete("/sites/shop").status_code == 202
    assert error_of(two_sites.get("/analytics", params={"site": "shop"})) == (404, "not_found")
    assert error_of(two_sites.post("/track", json=movement("u1", site="shop"))) == (
        422, "unknown_site")
    # One site is left: reads and ingest need no `site` again.
    assert two_sites.post("/track", json=movement("u2")).status_code == 200
    assert totals(two_sites)["users"] == 1


def test_reads_use_the_sites_zone_unless_they_name_one(two_sites):
    two_sites.patch("/sites/shop", json={"timezone": "Asia/Kolkata"})
    day = two_sites.get("/stats", params={"site": "shop", "timeRange": "7d"}).json()
    utc = two_sites.get("/stats", params={"site": "default", "timeRange": "7d"}).json()
    # Kolkata's midnight is 18:30 UTC.
    assert day["series"][1]["t"] % DAY == 18 * HOUR + 30 * 60_000
    assert utc["series"][1]["t"] % DAY == 0
    named = two_sites.get("/stats", params={"site": "shop", "timeRange": "7d", "tz": "UTC"}).json()
    assert named["series"][1]["t"] % DAY == 0


def test_a_deleted_id_can_be_added_again_and_holds_nothing_of_the_old_site(two_sites):
    two_sites.post("/track", json=movement("u1", site="shop"))
    assert two_sites.delete("/sites/shop").status_code == 202
    wait_until(lambda: two_sites.get("/sites/shop").status_code == 404)
    again = add_site(two_sites, "shop", "shop.example")
    assert again["status"] == "live"
    assert totals(two_sites, "shop")["movements"] == 0
    assert two_sites.get("/movements", params={"userId": "u1", "site": "shop"}).json()[
        "movements"] == []
