"""The read token: required on reads, generated and kept when not set."""

from __future__ import annotations

import os
import stat

import pytest
from starlette.testclient import TestClient

from helpers import TOKEN, service_env
from rule_table import check_rule, get
from tracker.app import create_app
from tracker.config import Config


@pytest.mark.parametrize("path", ["/session?sessionId=s1", "/movements?userId=u1"])
@pytest.mark.parametrize("header", [None, "Bearer wrong", "Basic dGVzdA==", "Bearer", "test-read-token"])
def test_reads_without_the_right_token_are_401(client, path, header):
    headers = {"Authorization": header} if header else {}
    client.headers.pop("Authorization")
    response = client.get(path, headers=headers)
    assert response.status_code == 401
    assert response.json() == {"error": "unauthorized", "detail": "a valid bearer token is required"}
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_generated_token_is_stored_with_mode_0600_and_reused(data_dir):
    config = Config.from_env(service_env(data_dir, TRACKER_READ_TOKEN=""))
    with TestClient(create_app(config)) as first:
        token_file = data_dir / "read-token"
        token = token_file.read_text().strip()
        assert stat.S_IMODE(os.stat(token_file).st_mode) == 0o600
        assert len(token) >= 32
        ok = first.get("/movements?userId=u", headers={"Authorization": f"Bearer {token}"})
        assert ok.status_code == 200
    with TestClient(create_app(config)) as second:
        assert second.app.state.read_token == token


CASES = [
    # name, request, status, error code
    ("401 no token", get("/movements?userId=u1", Authorization=""), 401, "unauthorized"),
    ("401 wrong token", get("/movements?userId=u1", Authorization="Bearer wrong"), 401, "unauthorized"),
    ("401 token of another scheme", get("/session?sessionId=s1", Authorization=f"Basic {TOKEN}"), 401, "unauthorized"),
    ("401 token prefix", get("/session?sessionId=s1", Authorization=f"Bearer {TOKEN[:-1]}"), 401, "unauthorized"),
    ("bearer scheme in any case", get("/movements?userId=u1", Authorization=f"bEaReR {TOKEN}"), 200, None),
]


@pytest.mark.parametrize("name, request_, status, code", CASES, ids=[c[0] for c in CASES])
def test_rule(table_client, name, request_, status, code):
    check_rule(table_client, request_, status, code)


def test_401_says_nothing_about_the_token(client):
    answers = [client.get("/movements", params={"userId": "u1"}, headers={"Authorization": value})
               for value in ("", "Bearer wrong", f"Bearer {TOKEN}x", f"Basic {TOKEN}")]
    assert {(a.status_code, a.text, a.headers["WWW-Authenticate"]) for a in answers} == {
        (401, answers[0].text, "Bearer")}
