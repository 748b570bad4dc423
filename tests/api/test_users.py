"""GET /users/{userId}/export and DELETE /users/{userId}: the token and the user id's rules."""

from __future__ import annotations

import pytest

from helpers import movement
from user_datasets import (
    all_movements,
    export_lines,
)


@pytest.mark.parametrize("request_line", [("get", "/users/{}/export"), ("delete", "/users/{}")])
def test_user_endpoints_need_the_read_token(client, request_line):
    method, path = request_line
    client.post("/track", json=movement())
    answer = getattr(client, method)(path.format("u1"), headers={"Authorization": "Bearer wrong"})
    assert answer.status_code == 401
    assert answer.json()["error"] == "unauthorized"
    assert len(all_movements(client, "u1")) == 1


@pytest.mark.parametrize("user", ["x" * 129, "a%00b", "tab%09", "del%7F", "c1%C2%85"])
@pytest.mark.parametrize("path", ["/users/{}/export", "/users/{}"])
def test_a_user_id_that_breaks_the_rules_is_a_422(client, user, path):
    method = client.get if path.endswith("export") else client.delete
    answer = method(path.format(user))
    assert answer.status_code == 422
    assert "userId" in answer.json()["detail"]


def test_a_user_id_of_128_characters_is_accepted(client):
    user = "é" * 128
    client.post("/track", json=movement(user=user))
    assert len(export_lines(client, user)) == 2
    assert client.delete(f"/users/{user}").json() == {"userId": user, "movements": 1, "sessions": 1}


def test_export_of_a_user_with_nothing_stored_is_a_404(client):
    client.post("/track", json=movement(user="someone-else"))
    answer = client.get("/users/nobody/export")
    assert answer.status_code == 404
    assert answer.json()["error"] == "not_found"
