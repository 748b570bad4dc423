"""Who may read what: the admin token reads every site and manages them; a site key reads its
own site, per-user data included, and nothing else."""

from __future__ import annotations

import httpx2 as httpx
import pytest

from helpers import add_site, movement

# Every read endpoint, with what it needs to answer 200 about user u1 and session s1.
READS = [("/session", {"sessionId": "s1"}), ("/movements", {"userId": "u1"}),
         ("/analytics", {}), ("/analytics", {"userId": "u1"}), ("/stats", {}),
         ("/breakdown", {"by": "page"}), ("/funnels", {"step": ["click", "page_view"]}),
         ("/retention", {"period": "day"}), ("/live/visitors", {}), ("/users/u1/export", {})]
MANAGEMENT = [("POST", "/sites", {"id": "new"}), ("PATCH", "/sites/shop", {"name": "x"}),
              ("DELETE", "/sites/shop", None), ("POST", "/sites/shop/keys", None),
              ("GET", "/sites/shop/keys", None), ("DELETE", "/sites/shop/keys/k", None),
              ("POST", "/sites/shop/shares", None), ("GET", "/sites/shop/shares", None),
              ("DELETE", "/sites/shop/shares/s", None), ("PATCH", "/sites/default", {"name": "x"})]


@pytest.fixture
def sites(client):
    """Two sites with the same user on each; the admin's client."""
    add_site(client, "shop", "shop.example")
    for site in ("default", "shop"):
        posted = client.post("/track", json=movement("u1", "s1", site=site, data={"site": site}))
        assert posted.status_code == 200
    return client


def key_of(client, site: str) -> str:
    return client.post(f"/sites/{site}/keys").json()["key"]


def as_key(client, key: str):
    """Requests with `key` instead of the admin token."""
    def request(method: str, path: str, **kwargs) -> httpx.Response:
        return client.request(method, path, headers={"Authorization": f"Bearer {key}"}, **kwargs)

    return request


def content(response: httpx.Response) -> object:
    """An answer without the bounds of its window, which move with the clock."""
    if not response.headers["content-type"].startswith("application/json"):
        return response.text
    found = response.json()
    return {k: v for k, v in found.items() if k not in ("from", "to", "series")}


@pytest.mark.parametrize("path, params", READS)
def test_the_admin_reads_every_site(sites, path, params):
    for site in ("default", "shop"):
        assert sites.get(path, params={**params, "site": site}).status_code == 200


@pytest.mark.parametrize("path, params", READS)
def test_a_key_reads_its_own_site_with_or_without_naming_it(sites, path, params):
    read = as_key(sites, key_of(sites, "shop"))
    own = read("GET", path, params=params)
    assert own.status_code == 200, own.text
    assert content(read("GET", path, params={**params, "site": "shop"})) == content(own)
    assert content(own) == content(sites.get(path, params={**params, "site": "shop"}))


@pytest.mark.parametrize("path, params", READS)
def test_a_key_is_403_on_another_site_and_404_on_an_unknown_one(sites, path, params):
    read = as_key(sites, key_of(sites, "shop"))
    other = read("GET", path, params={**params, "site": "default"})
    assert (other.status_code, other.json()["error"]) == (403, "forbidden")
    unknown = read("GET", path, params={**params, "site": "nope"})
    assert (unknown.status_code, unknown.json()["error"]) == (404, "not_found")


def test_a_key_reads_its_own_sites_per_user_data_only(sites):
    read = as_key(sites, key_of(sites, "shop"))
    [found] = read("GET", "/movements", params={"userId": "u1"}).json()["movements"]
    assert found["data"] == {"site": "shop"}
    exported = read("GET", "/users/u1/export").text
    assert '"site":"shop"' in exported and '"site":"default"' not in exported


@pytest.mark.parametrize("method, path, body", MANAGEMENT)
def test_a_key_manages_nothing(sites, method, path, body):
    before = sites.get("/sites").json()
    response = as_key(sites, key_of(sites, "shop"))(method, path, json=body)
    assert (response.status_code, response.json()["error"]) == (403, "forbidden")
    assert sites.get("/sites").json() == before


def test_a_key_may_not_erase_users(sites):
    response = as_key(sites, key_of(sites, "shop"))("DELETE", "/users/u1")
    assert (response.status_code, response.json()["error"]) == (403, "forbidden")
    assert sites.get("/users/u1/export", params={"site": "shop"}).status_code == 200


def test_a_key_lists_and_reads_its_own_site_only(sites):
    read = as_key(sites, key_of(sites, "shop"))
    listed = read("GET", "/sites").json()["sites"]
    assert [s["id"] for s in listed] == ["shop"]
    assert read("GET", "/sites/shop").json() == listed[0]
    assert read("GET", "/sites/default").status_code == 403
    assert [s["id"] for s in sites.get("/sites").json()["sites"]] == ["default", "shop"]


def test_a_revoked_key_is_401_at_once(sites):
    made = sites.post("/sites/shop/keys").json()
    read = as_key(sites, made["key"])
    assert read("GET", "/stats").status_code == 200
    assert sites.delete(f"/sites/shop/keys/{made['id']}").status_code == 204
    response = read("GET", "/stats")
    assert (response.status_code, response.json()["error"]) == (401, "unauthorized")


@pytest.mark.parametrize("credential", ["tk_", "tk_unknown", "Bearer", "", "test-read-token-2"])
def test_anything_but_a_key_or_the_token_is_401(sites, credential):
    response = as_key(sites, credential)("GET", "/stats", params={"site": "shop"})
    assert response.status_code == 401


def test_a_key_of_a_deleted_site_reads_nothing(sites):
    read = as_key(sites, key_of(sites, "shop"))
    assert sites.delete("/sites/shop").status_code == 202
    assert read("GET", "/stats").status_code in (401, 404)
    assert read("GET", "/stats", params={"site": "default"}).status_code in (401, 403)


def test_a_share_token_is_no_bearer_token(sites):
    url = sites.post("/sites/shop/shares").json()["url"]
    token = url.rsplit("/", 1)[1]
    assert as_key(sites, token)("GET", "/stats", params={"site": "shop"}).status_code == 401
