"""Report subscriptions through the management API and `tracker reports`, with every error
they answer. Sending them is tests/lifecycle/test_reports.py's."""

from __future__ import annotations

import re

import pytest

from helpers import run_cli, service_env


def test_a_subscription_is_made_listed_and_cancelled(client):
    made = client.post("/sites/default/reports", json={"email": "a@example.com", "every": "week"})
    assert made.status_code == 201, made.text
    report = made.json()
    assert report["email"] == "a@example.com" and report["every"] == "week"
    assert report["lastSend"] is None
    monthly = {"email": "a@example.com", "every": "month"}
    assert client.post("/sites/default/reports", json=monthly).status_code == 201
    listed = client.get("/sites/default/reports").json()["reports"]
    assert [(r["email"], r["every"]) for r in listed] == [("a@example.com", "week"),
                                                         ("a@example.com", "month")]
    assert client.delete(f"/sites/default/reports/{report['id']}").status_code == 204
    assert [r["every"] for r in client.get("/sites/default/reports").json()["reports"]] == ["month"]


def test_the_same_address_and_period_twice_is_409(client):
    body = {"email": "a@example.com", "every": "week"}
    assert client.post("/sites/default/reports", json=body).status_code == 201
    answer = client.post("/sites/default/reports", json=body)
    assert answer.status_code == 409 and answer.json()["error"] == "conflict"


@pytest.mark.parametrize("body", [{}, {"email": "a@example.com"}, {"every": "week"},
                                  {"email": "not an address", "every": "week"},
                                  {"email": "a@example.com\nBcc: b@example.com", "every": "week"},
                                  {"email": "Owner <a@example.com>", "every": "week"},
                                  {"email": "a@example.com", "every": "day"},
                                  {"email": "a@" + "x" * 260 + ".com", "every": "week"}])
def test_a_bad_subscription_is_422(client, body):
    answer = client.post("/sites/default/reports", json=body)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"] and answer.json()["detail"]


@pytest.mark.parametrize("report_id", ["999", "abc", "1" * 40])
def test_cancelling_an_unknown_subscription_is_404(client, report_id):
    answer = client.delete(f"/sites/default/reports/{report_id}")
    assert answer.status_code == 404 and answer.json()["error"] == "not_found"


def test_an_unknown_site_is_404_and_no_token_401(client):
    assert client.get("/sites/nope/reports").json()["error"] == "not_found"
    assert client.get("/sites/default/reports", headers={"Authorization": ""}).status_code == 401


def test_a_site_key_may_not_manage_reports(client):
    key = client.post("/sites/default/keys").json()["key"]
    answer = client.get("/sites/default/reports", headers={"Authorization": f"Bearer {key}"})
    assert answer.status_code == 403


def test_an_unknown_unsubscribe_token_is_404_and_a_bad_one_422(client):
    assert client.post("/reports/unsubscribe/nothing-here").status_code == 404
    assert client.get("/reports/unsubscribe/nothing-here").status_code == 200  # the page only
    assert client.post("/reports/unsubscribe/" + "x" * 200).status_code == 422


def test_the_commands_add_list_and_remove(data_dir):
    env = service_env(data_dir)
    added = run_cli("reports", "add", "default", "a@example.com", "--every", "month", env=env)
    assert added.returncode == 0, added.stderr
    assert "subscribed a@example.com to the monthly report of site default" in added.stdout
    listed = run_cli("reports", "list", "default", env=env).stdout.split("\t")
    assert listed[1:] == ["a@example.com", "month", "never sent\n"]
    again = run_cli("reports", "add", "default", "a@example.com", "--every", "month", env=env)
    assert again.returncode == 2 and "already" in again.stderr
    bad = run_cli("reports", "add", "default", "nobody", env=env)
    assert bad.returncode == 2 and "not an email address" in bad.stderr
    assert run_cli("reports", "remove", "default", listed[0], env=env).returncode == 0
    gone = run_cli("reports", "remove", "default", listed[0], env=env)
    assert gone.returncode == 2 and "no report subscription" in gone.stderr
    assert run_cli("reports", "list", "nope", env=env).returncode == 2


def test_send_now_without_a_mail_server_says_so(data_dir):
    sent = run_cli("reports", "send-now", "default", env=service_env(data_dir))
    assert sent.returncode == 2 and "TRACKER_SMTP_URL is not set" in sent.stderr


def test_preview_prints_the_report_without_a_mail_server(data_dir):
    shown = run_cli("reports", "preview", "default", "--every", "month",
                    env=service_env(data_dir, TRACKER_PUBLIC_URL="https://t.example"))
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith("default: ")
    assert "Visitors:" in shown.stdout and "on the month before" in shown.stdout
    assert re.search(r"^Dashboard: https://t\.example/\?site=default&from=\d{4}-\d\d-01&to=\d{4}-\d\d-\d\d"
                     r"&tz=UTC$", shown.stdout, re.M)
    assert "Unsubscribe" not in shown.stdout
