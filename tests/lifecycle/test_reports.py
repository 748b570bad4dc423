"""Email reports from the real service to a real SMTP server on loopback (aiosmtpd): the mail
arrives and says what /stats and /breakdown say for its window, its unsubscribe link works
without signing in, a restart while the server holds the message's reply sends nothing twice,
and a refusing server is tried again later."""

from __future__ import annotations

import contextlib
import email
import re
import time
from email.message import Message
from zoneinfo import ZoneInfo

import pytest

from helpers import free_port, http_client, movement, now_ms, run_cli
from mail_server import FROM, Mailbox, mail_env, mail_server
from tracker.lifecycle import report_periods

TO = "owner@example.com"


@pytest.fixture
def smtp():
    """Start a mail server with `smtp(mailbox)`; (its URL); stopped at test end."""
    with contextlib.ExitStack() as servers:
        yield lambda mailbox: servers.enter_context(mail_server(mailbox))


def wait_for(condition, what: str, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def due_week() -> report_periods.Period:
    return report_periods.latest_due(report_periods.WEEK, ZoneInfo("UTC"), now_ms())


def visits(user: str, at: int, source: str, pages: list[str]) -> list[dict]:
    return [movement(user, f"{user}-s", "page_view", timestamp=at + index * 1000,
                     data={"path": path, "referrer": source})
            for index, path in enumerate(pages)]


def store_traffic(server, period: report_periods.Period) -> None:
    middle = (period.start + period.end) // 2
    before = (period.previous_start + period.start) // 2
    events = [*visits("a", middle, "https://www.google.com/", ["/", "/pricing"]),
              *visits("b", middle + 60_000, "https://www.google.com/", ["/pricing"]),
              *visits("c", middle + 120_000, "https://news.ycombinator.com/", ["/blog/x"]),
              *visits("d", middle + 180_000, "", ["/"]),
              *visits("e", before, "https://www.google.com/", ["/"]),
              # outside both windows: counted by neither
              *visits("f", period.end + 1000, "https://www.bing.com/", ["/late"])]
    events = [e for e in events if e["timestamp"] < now_ms()]
    with server.client() as client:
        answer = client.post("/track", json={"events": events})
        assert answer.status_code == 200, answer.text


def subscribe(server, address: str = TO, every: str = "week") -> dict:
    with server.client() as client:
        answer = client.post("/sites/default/reports", json={"email": address, "every": every})
        assert answer.status_code == 201, answer.text
        return answer.json()


def parts(raw: bytes) -> tuple[Message, str, str]:
    message = email.message_from_bytes(raw)
    texts = {part.get_content_type(): part.get_payload(decode=True).decode().replace("\r\n", "\n")
             for part in message.walk() if not part.is_multipart()}
    return message, texts["text/plain"], texts["text/html"]


def total_of(text: str, name: str) -> str:
    return re.search(rf"^{name}:\s+(\S+)", text, re.M).group(1)


def top_list(text: str, heading: str) -> list[tuple[str, int]]:
    block = text.split(heading + "\n", 1)[1].split("\n\n", 1)[0]
    rows = [re.fullmatch(r"  (.+?)\s+([\d,]+) visitors", line) for line in block.splitlines()]
    return [(row.group(1), int(row.group(2).replace(",", ""))) for row in rows if row]


def test_a_report_arrives_and_says_what_stats_and_breakdown_say(tracker_server, smtp):
    mailbox = Mailbox()
    server = tracker_server(**mail_env(smtp(mailbox)))
    period = due_week()
    store_traffic(server, period)
    made = subscribe(server)

    [raw] = wait_for(lambda: mailbox.messages, "the report")
    message, text, page = parts(raw)
    assert message["To"] == TO and message["From"] == FROM
    window = {"from": period.start, "to": period.end}
    with server.client() as client:
        stats = client.get("/stats", params={**window, "compare": "previous"}).json()
        tops = {by: client.get("/breakdown", params={**window, "by": by, "limit": 5}).json()
                for by in ("source", "page", "country")}
    totals = stats["totals"]
    assert totals["visitors"] == 4  # a to d: e is the week before, f after
    assert total_of(text, "Visitors") == f"{totals['visitors']:,}"
    assert total_of(text, "Visits") == f"{totals['visits']:,}"
    assert total_of(text, "Pageviews") == f"{totals['pageviews']:,}"
    assert total_of(text, "Bounce rate") == f"{totals['bounceRate'] * 100:.0f}%"
    assert stats["previous"]["totals"]["visitors"] == 1
    assert re.search(r"^Visitors:.*\+300% on the week before", text, re.M)
    for heading, by, unknown in (("Top sources", "source", "(none)"), ("Top pages", "page", None),
                                 ("Top countries", "country", "Unknown")):
        expected = [(row["value"] if row["value"] is not None else unknown, row["visitors"])
                    for row in tops[by]["results"]]
        assert top_list(text, heading) == expected, heading
    assert ("Google", 2) in top_list(text, "Top sources")
    assert "/late" not in text
    first, last = period.first_day.isoformat(), period.last_day.isoformat()
    assert f"Dashboard: https://tracker.example.com/?site=default&from={first}&to={last}&tz=UTC\n" \
        in text
    assert "<table" in page and "Google" in page

    unsubscribe = re.search(r"^Unsubscribe: (\S+)$", text, re.M).group(1)
    assert message["List-Unsubscribe"] == f"<{unsubscribe}>"
    path = unsubscribe.removeprefix("https://tracker.example.com")
    with http_client(base_url=server.url) as anonymous:
        shown = anonymous.get(path)
        assert shown.status_code == 200 and '<form method="post">' in shown.text
        with server.client() as client:  # showing the page cancels nothing
            assert [r["id"] for r in client.get("/sites/default/reports").json()["reports"]] \
                == [made["id"]]
        done = anonymous.post(path, content="List-Unsubscribe=One-Click",
                              headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert done.status_code == 200 and TO in done.text
        again = anonymous.post(path, headers={"Accept": "text/html"})
        assert again.status_code == 404 and "Nothing to unsubscribe from" in again.text
        unknown = anonymous.post("/reports/unsubscribe/not-a-token")
        assert unknown.status_code == 404 and unknown.json()["error"] == "not_found"
    with server.client() as client:
        assert client.get("/sites/default/reports").json() == {"reports": []}


def test_a_restart_while_the_server_holds_the_reply_sends_nothing_twice(tracker_server, smtp):
    mailbox = Mailbox()
    mailbox.hold.set()
    env = mail_env(smtp(mailbox))
    server = tracker_server(**env)
    subscribe(server)
    wait_for(mailbox.held.is_set, "the message to reach the server")
    server.kill()
    mailbox.released.set()

    again = tracker_server(port=server.port, **env)
    # The job runs at start-up: wait for its first run to have finished.
    wait_for(lambda: _job_ran(again, "send_reports"), "the report job to run after the restart")
    assert len(mailbox.messages) == 1 and mailbox.tries == 1
    with again.client() as client:
        [report] = client.get("/sites/default/reports").json()["reports"]
    assert report["lastSend"]["status"] in ("data", "unknown")


def _job_ran(server, job: str) -> bool:
    with server.client() as client:
        text = client.get("/metrics").text
    return re.search(rf'^tracker_job_last_success_timestamp_seconds{{job="{job}"}} [1-9]', text,
                     re.M) is not None


def test_a_refusing_server_is_tried_again_later(tracker_server, smtp):
    mailbox = Mailbox(replies=("451 4.3.0 try again later",))
    server = tracker_server(**mail_env(smtp(mailbox)))
    subscribe(server)

    wait_for(lambda: mailbox.messages, "the report after the refusal")
    assert mailbox.tries == 2
    with server.client() as client:
        [report] = client.get("/sites/default/reports").json()["reports"]
        metrics = client.get("/metrics").text
    assert report["lastSend"]["status"] == "sent" and report["lastSend"]["attempts"] == 2
    assert re.search(r"^tracker_report_failures_total 1\.0$", metrics, re.M)
    assert re.search(r"^tracker_reports_sent_total 1\.0$", metrics, re.M)


def test_send_now_sends_the_last_complete_period_once(tracker_server, smtp):
    mailbox = Mailbox()
    url = smtp(mailbox)
    server = tracker_server()  # the service itself sends nothing: no mail server configured
    subscribe(server, every="month")
    env = {**server.env, **mail_env(url)}

    first = run_cli("reports", "send-now", "default", env=env)
    assert first.returncode == 0, first.stderr
    assert "1 reports sent" in first.stdout
    second = run_cli("reports", "send-now", "default", env=env)
    assert "0 reports sent, 0 failed, 1 sent before" in second.stdout
    [raw] = mailbox.messages
    month = report_periods.last_complete(report_periods.MONTH, ZoneInfo("UTC"), now_ms())
    assert email.message_from_bytes(raw)["Subject"] == f"default: 0 visitors in {month.label}"


def test_an_unreachable_server_is_a_failure_the_command_says(tracker_server):
    server = tracker_server()
    subscribe(server)
    env = {**server.env, **mail_env(f"smtp://127.0.0.1:{free_port()}"),
           "TRACKER_REPORT_RETRY_SECONDS": "3600"}
    failed = run_cli("reports", "send-now", "default", env=env)
    assert failed.returncode == 1 and "1 failed" in failed.stdout
    with server.client() as client:
        [report] = client.get("/sites/default/reports").json()["reports"]
    assert report["lastSend"]["status"] == "failed" and "cannot reach" in report["lastSend"]["error"]
    assert now_ms() < report["lastSend"]["retryAt"] <= now_ms() + 3600_000
    again = run_cli("reports", "send-now", "default", env=env)  # not before its retry time
    assert again.returncode == 0 and "0 reports sent, 0 failed, 1 sent before, being sent or waiting" in again.stdout


def test_two_workers_send_each_report_once(tracker_server, smtp):
    mailbox = Mailbox()
    server = tracker_server(workers=2, **mail_env(smtp(mailbox)))
    addresses = [f"owner{n}@example.com" for n in range(3)]
    for address in addresses:
        subscribe(server, address)
    wait_for(lambda: len(mailbox.messages) >= 3, "a report to each subscriber")
    # both workers run the job every second: give them several runs to send one twice
    time.sleep(4)
    assert sorted(email.message_from_bytes(raw)["To"] for raw in mailbox.messages) == addresses
    assert mailbox.tries == 3
