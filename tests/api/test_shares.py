"""Share links: one site's dashboard and aggregates, read-only, with an optional password and
expiry; nothing per user, no feed of movements, no management."""

from __future__ import annotations

import time

import pytest

from helpers import DAY, HOUR, add_site, movement, now_ms

AGGREGATES = [("/stats", {"compare": "previous"}), ("/breakdown", {"by": "page"}),
              ("/breakdown", {"by": "country"}), ("/funnels", {"step": ["page:/", "signup"]}),
              ("/retention", {"period": "day"})]
NOT_SHARED = ["/movements?userId=u1", "/analytics", "/analytics?userId=u1", "/session?sessionId=s1",
              "/users/u1/export", "/users/u1/erasure", "/live", "/sites", "/sites/shop", "/metrics",
              "/sites/shop/keys"]


@pytest.fixture
def shop(client, now):
    """Two sites with different traffic; the admin's client."""
    add_site(client, "shop", "shop.example")
    events = []
    for n, site in enumerate(["shop", "shop", "shop", "default"]):
        events += [movement(f"u{n}", "s1", "page_view", site=site, timestamp=now - 2 * HOUR + n,
                            data={"path": "/", "host": f"{site}.example"}),
                   movement(f"u{n}", "s1", "signup", site=site, timestamp=now - HOUR + n)]
    assert client.post("/track", json={"events": events}).status_code == 200
    return client


def share_of(client, site: str = "shop", **fields) -> str:
    """A new share link's path, `/share/TOKEN`."""
    made = client.post(f"/sites/{site}/shares", json=fields)
    assert made.status_code == 201, made.text
    return made.json()["url"].removeprefix("http://testserver")


def anonymous(client):
    """The same app without the admin token (and without cookies kept between requests)."""
    client.headers.pop("Authorization")
    client.cookies.clear()
    return client


def window(now: int) -> dict:
    return {"from": now - 3 * DAY, "to": now}


@pytest.mark.parametrize("path, params", AGGREGATES)
def test_a_share_answers_its_sites_aggregates_as_the_admin_reads_them(shop, now, path, params):
    link = share_of(shop)
    admin = shop.get(path, params={**params, **window(now), "site": "shop"}).json()
    assert admin != shop.get(path, params={**params, **window(now), "site": "default"}).json()
    shared = anonymous(shop).get(f"{link}{path}", params={**params, **window(now)})
    assert shared.status_code == 200 and shared.json() == admin


def test_a_share_counts_live_visitors_of_its_site(shop, now):
    link = share_of(shop)
    shop.post("/track", json=movement("live", site="shop"))
    visitors = anonymous(shop).get(f"{link}/live/visitors").json()
    assert (visitors["visitors"], visitors["visits"]) == (1, 1)


def test_a_share_serves_the_dashboard_and_names_its_site(shop):
    link = share_of(shop)
    client = anonymous(shop)
    page = client.get(link)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    site = client.get(f"{link}/site").json()
    assert (site["id"], site["domains"], site["status"]) == ("shop", ["shop.example"], "live")


@pytest.mark.parametrize("path", NOT_SHARED)
def test_per_user_data_the_feed_and_management_are_not_under_a_share(shop, path):
    link = share_of(shop)
    response = anonymous(shop).get(f"{link}{path}")
    assert (response.status_code, response.json()["error"]) == (404, "not_found")


@pytest.mark.parametrize("method, path", [("DELETE", "/users/u1"), ("POST", "/sites"),
                                          ("DELETE", "/sites/shop"), ("POST", "/track")])
def test_a_share_writes_nothing(shop, method, path):
    link = share_of(shop)
    response = anonymous(shop).request(method, f"{link}{path}", json={})
    assert response.status_code in (404, 405)


def test_a_share_reads_no_other_site(shop, now):
    link = share_of(shop)
    response = anonymous(shop).get(f"{link}/stats", params={**window(now), "site": "default"})
    assert (response.status_code, response.json()["error"]) == (403, "forbidden")


def test_the_links_of_another_site_read_that_site(shop, now):
    link = share_of(shop, "default")
    found = anonymous(shop).get(f"{link}/stats", params=window(now)).json()["totals"]
    assert found["visitors"] == 1


@pytest.mark.parametrize("suffix", ["", "/site", "/stats", "/breakdown?by=page", "/live/visitors"])
def test_unknown_and_revoked_links_are_404_everywhere(shop, suffix):
    made = shop.post("/sites/shop/shares").json()
    link = made["url"].removeprefix("http://testserver")
    assert shop.delete(f"/sites/shop/shares/{made['id']}").status_code == 204
    client = anonymous(shop)
    for path in (link, "/share/not-a-token"):
        response = client.get(f"{path}{suffix}")
        assert (response.status_code, response.json()["error"]) == (404, "not_found"), path
    assert client.post(f"{link}/auth", json={"password": "x"}).status_code == 404


@pytest.mark.parametrize("suffix", ["", "/site", "/stats", "/retention?period=week"])
def test_an_expired_link_is_410(shop, suffix):
    link = share_of(shop, expires=now_ms() + 1500)
    client = anonymous(shop)
    assert client.get(f"{link}{suffix}").status_code == 200
    time.sleep(1.6)
    response = client.get(f"{link}{suffix}")
    assert (response.status_code, response.json()["error"]) == (410, "expired")
    assert client.post(f"{link}/auth", json={"password": "x"}).status_code == 410


def test_a_link_of_a_deleted_site_is_404(shop):
    link = share_of(shop)
    assert shop.delete("/sites/shop").status_code == 202
    assert anonymous(shop).get(f"{link}/stats").status_code == 404


# Passwords.

def test_a_password_is_asked_for_until_given_then_a_path_scoped_strict_cookie_opens(shop, now):
    link = share_of(shop, password="open sesame")
    client = anonymous(shop)
    assert client.get(link).status_code == 200  # the page, which asks for the password
    for suffix in ("/site", "/stats", "/breakdown?by=page", "/live/visitors"):
        response = client.get(f"{link}{suffix}")
        assert (response.status_code, response.json()["error"]) == (401, "password_required")
    wrong = client.post(f"{link}/auth", json={"password": "open says me"})
    assert (wrong.status_code, wrong.json()["error"]) == (401, "wrong_password")
    assert "set-cookie" not in wrong.headers
    right = client.post(f"{link}/auth", json={"password": "open sesame"})
    assert right.status_code == 204
    cookie = right.headers["set-cookie"]
    attributes = {part.strip().split("=")[0].lower(): part.strip() for part in cookie.split(";")}
    assert cookie.startswith("tracker_share=")
    assert "httponly" in attributes and attributes["samesite"].lower() == "samesite=strict"
    assert attributes["path"] == f"Path={link}"
    assert client.get(f"{link}/stats", params=window(now)).json()["totals"]["visitors"] == 3


def test_a_cookie_opens_its_own_link_only(shop):
    first, second = share_of(shop, password="pw"), share_of(shop, password="pw")
    client = anonymous(shop)
    value = client.post(f"{first}/auth", json={"password": "pw"}).cookies["tracker_share"]
    client.cookies.clear()
    headers = {"Cookie": f"tracker_share={value}"}
    assert client.get(f"{first}/site", headers=headers).status_code == 200
    assert client.get(f"{second}/site", headers=headers).status_code == 401
    assert client.get(f"{first}/site", headers={"Cookie": "tracker_share=forged"}).status_code == 401


def test_a_link_without_a_password_needs_no_auth(shop):
    link = share_of(shop)
    assert anonymous(shop).post(f"{link}/auth", json={"password": "anything"}).status_code == 204


@pytest.mark.parametrize("body, status", [(b"{nope", 400), (b'{"password": ""}', 422),
                                          (b"{}", 422), (b'{"password": 5}', 422)])
def test_a_malformed_password_is_refused_and_not_counted(shop, body, status):
    link = share_of(shop, password="pw")
    client = anonymous(shop)
    for _ in range(11):
        response = client.post(f"{link}/auth", content=body,
                               headers={"Content-Type": "application/json"})
        assert response.status_code == status
    assert client.post(f"{link}/auth", json={"password": "pw"}).status_code == 204


def test_guessing_is_rate_limited_per_link(shop):
    link, other = share_of(shop, password="pw"), share_of(shop, password="pw")
    client = anonymous(shop)
    for guess in range(10):
        assert client.post(f"{link}/auth", json={"password": f"guess {guess}"}).status_code == 401
    refused = client.post(f"{link}/auth", json={"password": "pw"})
    assert (refused.status_code, refused.json()["error"]) == (429, "too_many_attempts")
    assert int(refused.headers["Retry-After"]) > 0
    assert "set-cookie" not in refused.headers
    assert client.post(f"{other}/auth", json={"password": "pw"}).status_code == 204
