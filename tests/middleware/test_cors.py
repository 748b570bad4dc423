"""CORS: ingest for the allowed origins only, on every answer; reads closed unless allowed."""

from __future__ import annotations

import pytest

from helpers import movement

SHOP = "https://shop.example"
EVIL = "https://evil.example"
ONLY_SHOP = {"TRACKER_ALLOWED_ORIGINS": f"{SHOP}, https://blog.example"}


def preflight(client, path: str, origin: str, method: str = "POST", headers: str = "content-type"):
    return client.options(path, headers={"Origin": origin, "Access-Control-Request-Method": method,
                                         "Access-Control-Request-Headers": headers})


@pytest.mark.parametrize("path", ["/track", "/session"])
def test_preflight_of_an_allowed_origin(make_client, path):
    answer = preflight(make_client(**ONLY_SHOP), path, SHOP)
    assert answer.status_code == 204
    assert answer.headers["Access-Control-Allow-Origin"] == SHOP
    assert "POST" in answer.headers["Access-Control-Allow-Methods"]
    assert "content-type" in answer.headers["Access-Control-Allow-Headers"].lower()
    assert answer.headers["Vary"] == "Origin"


@pytest.mark.parametrize("origin, method, headers", [
    (EVIL, "POST", "content-type"),
    (SHOP, "PUT", "content-type"),
    (SHOP, "POST", "content-type, x-secret"),
])
def test_preflight_refused_is_a_json_403_without_allow_origin(make_client, origin, method, headers):
    answer = preflight(make_client(**ONLY_SHOP), "/track", origin, method, headers)
    assert answer.status_code == 403 and answer.json()["error"] == "cors_forbidden"
    assert "Access-Control-Allow-Origin" not in answer.headers


def test_simple_request_of_an_allowed_origin(make_client):
    answer = make_client(**ONLY_SHOP).post("/track", json=movement(), headers={"Origin": SHOP})
    assert answer.status_code == 200
    assert answer.headers["Access-Control-Allow-Origin"] == SHOP
    assert answer.headers["Access-Control-Expose-Headers"] == "Retry-After"


def test_simple_request_of_a_denied_origin_gets_no_allow_origin(make_client):
    answer = make_client(**ONLY_SHOP).post("/track", json=movement(), headers={"Origin": EVIL})
    assert "Access-Control-Allow-Origin" not in answer.headers


@pytest.mark.parametrize("body, status", [("{", 400), ('{"userId": ""}', 422), ("[]", 400)])
def test_errors_carry_allow_origin(make_client, body, status):
    answer = make_client(**ONLY_SHOP).post("/track", content=body,
                                            headers={"Origin": SHOP, "Content-Type": "text/plain"})
    assert answer.status_code == status
    assert answer.headers["Access-Control-Allow-Origin"] == SHOP


def test_rate_limited_answer_carries_allow_origin(make_client):
    client = make_client(TRACKER_RATE_LIMIT="1", TRACKER_RATE_BURST="1", **ONLY_SHOP)
    client.post("/track", json=movement())
    answer = client.post("/track", json=movement(), headers={"Origin": SHOP})
    assert answer.status_code == 429
    assert answer.headers["Access-Control-Allow-Origin"] == SHOP
    assert answer.headers["Access-Control-Expose-Headers"] == "Retry-After"


def test_any_origin_by_default(client):
    answer = client.post("/track", json=movement(), headers={"Origin": EVIL})
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert preflight(client, "/track", EVIL).headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("path", ["/session?sessionId=s1", "/movements?userId=u1"])
def test_reads_are_not_cross_origin_by_default(client, path):
    assert preflight(client, path.partition("?")[0], SHOP, "GET", "authorization").status_code == 403
    answer = client.get(path, headers={"Origin": SHOP})
    assert "Access-Control-Allow-Origin" not in answer.headers


def test_read_origins_let_a_page_read_with_its_token(make_client):
    client = make_client(TRACKER_READ_ORIGINS=SHOP)
    answer = preflight(client, "/movements", SHOP, "GET", "authorization")
    assert answer.status_code == 204 and answer.headers["Access-Control-Allow-Origin"] == SHOP
    assert "authorization" in answer.headers["Access-Control-Allow-Headers"].lower()
    read = client.get("/movements", params={"userId": "u1"}, headers={"Origin": SHOP})
    assert read.status_code == 200 and read.headers["Access-Control-Allow-Origin"] == SHOP
    unauthorized = client.get("/movements", params={"userId": "u1"},
                              headers={"Origin": SHOP, "Authorization": "Bearer wrong"})
    assert unauthorized.status_code == 401
    assert unauthorized.headers["Access-Control-Allow-Origin"] == SHOP
    assert preflight(client, "/movements", EVIL, "GET", "authorization").status_code == 403


def test_requests_without_origin_are_untouched(client):
    answer = client.post("/track", json=movement())
    assert answer.status_code == 200
    assert not [h for h in answer.headers if h.lower().startswith("access-control")]
