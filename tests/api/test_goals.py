"""Goals of a site: the management API and `tracker goals`, with every error it answers."""

from __future__ import annotations

import time

import pytest

from helpers import run_cli, service_env


def test_a_goal_is_made_listed_and_removed(client):
    made = client.post("/sites/default/goals", json={"event": "signup"})
    assert made.status_code == 201, made.text
    goal = made.json()
    assert goal["name"] == "signup" and goal["event"] == "signup" and goal["page"] is None
    page = client.post("/sites/default/goals", json={"page": "/blog/*", "name": "Read the blog"})
    assert page.status_code == 201
    listed = client.get("/sites/default/goals").json()["goals"]
    assert [g["name"] for g in listed] == ["signup", "Read the blog"]
    assert client.delete(f"/sites/default/goals/{goal['id']}").status_code == 204
    assert [g["name"] for g in client.get("/sites/default/goals").json()["goals"]] == ["Read the blog"]


def test_a_site_without_goals_breaks_down_by_goal_into_no_rows_then_one_per_goal_made(client):
    now = int(time.time() * 1000)
    events = [{"userId": f"u{i}", "sessionId": f"s{i}", "event": "signup" if i % 2 else "page_view",
               "timestamp": now - i * 60_000, "data": {"path": "/"}} for i in range(6)]
    assert client.post("/track", json={"events": events}).status_code == 200
    window = {"by": "goal", "from": now - 3_600_000, "to": now + 1}
    for filters in ({}, {"filter": "page:/"}):
        answer = client.get("/breakdown", params={**window, **filters})
        assert answer.status_code == 200 and answer.json()["results"] == [], answer.text
    assert client.post("/sites/default/goals", json={"event": "signup"}).status_code == 201
    rows = client.get("/breakdown", params=window).json()["results"]
    assert [(row["value"], row["visitors"]) for row in rows] == [("signup", 3)]


def test_a_page_goal_is_named_after_its_page(client):
    assert client.post("/sites/default/goals", json={"page": "/pricing"}).json()["name"] == \
        "Visit /pricing"


@pytest.mark.parametrize("second", [{"event": "signup"}, {"page": "/x", "name": "signup"}])
def test_a_duplicate_event_or_name_is_409(client, second):
    assert client.post("/sites/default/goals", json={"event": "signup"}).status_code == 201
    answer = client.post("/sites/default/goals", json=second)
    assert answer.status_code == 409 and answer.json()["error"] == "conflict"


@pytest.mark.parametrize("body", [{}, {"event": "a", "page": "/a"}, {"event": ""},
                                  {"page": "/a\n"}, {"event": "x" * 65}, {"name": "only a name"}])
def test_a_goal_without_exactly_one_target_is_422(client, body):
    answer = client.post("/sites/default/goals", json=body)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"] and answer.json()["detail"]


@pytest.mark.parametrize("goal_id", ["999", "abc", "1" * 40, "²"])
def test_removing_an_unknown_goal_is_404(client, goal_id):
    answer = client.delete(f"/sites/default/goals/{goal_id}")
    assert answer.status_code == 404 and answer.json()["error"] == "not_found"


def test_an_unknown_site_is_404(client):
    assert client.get("/sites/nope/goals").status_code == 404
    assert client.post("/sites/nope/goals", json={"event": "a"}).status_code == 404


def test_goals_need_the_admin_token(client):
    key = client.post("/sites/default/keys").json()["key"]
    for method, path in (("GET", "/sites/default/goals"), ("POST", "/sites/default/goals"),
                         ("DELETE", "/sites/default/goals/1")):
        assert client.request(method, path, headers={"Authorization": "Bearer nope"}).status_code == 401
        forbidden = client.request(method, path, json={"event": "a"},
                                   headers={"Authorization": f"Bearer {key}"})
        assert forbidden.status_code == 403 and forbidden.json()["error"] == "forbidden"


def test_the_command_line_adds_lists_and_removes_goals(data_dir):
    env = service_env(data_dir)
    added = run_cli("goals", "add", "default", "--event", "signup", env=env)
    assert added.returncode == 0, added.stderr
    assert "added goal 1 of site default: signup" in added.stdout
    page = run_cli("goals", "add", "default", "--page", "/blog/*", "--name", "Blog", env=env)
    assert page.returncode == 0, page.stderr
    listed = run_cli("goals", "list", "default", env=env).stdout.splitlines()
    assert listed == ["1\tsignup\tevent signup", "2\tBlog\tpage /blog/*"]
    again = run_cli("goals", "add", "default", "--event", "signup", env=env)
    assert again.returncode == 2 and "already" in again.stderr
    assert run_cli("goals", "remove", "default", "1", env=env).returncode == 0
    missing = run_cli("goals", "remove", "default", "1", env=env)
    assert missing.returncode == 2 and "no goal 1" in missing.stderr
    assert run_cli("goals", "list", "nope", env=env).returncode == 2
