"""`tracker import`: each format round-trips into the reads, with the service running or not."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from helpers import MINUTE, now_ms, service_env

DATA = Path(__file__).parents[1] / "data"
MARCH_2024 = {"from": int(datetime(2024, 3, 1, tzinfo=UTC).timestamp() * 1000),
              "to": int(datetime(2024, 3, 8, tzinfo=UTC).timestamp() * 1000), "tz": "UTC"}


def tracker(data_dir: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tracker", *args], env={**os.environ, **service_env(data_dir)},
                          capture_output=True, text=True, timeout=120)


def import_file(data_dir: Path, site: str, kind: str, *names: str) -> subprocess.CompletedProcess:
    return tracker(data_dir, "import", "--site", site, "--format", kind, *[str(DATA / name) for name in names])


def summary(done: subprocess.CompletedProcess) -> dict[str, int]:
    """The summary's counts: stored, skipped as duplicates, rejected."""
    lines = [line.strip() for line in done.stdout.splitlines() if line.startswith("  ")]
    return {key: int(value.replace(",", "")) for key, value in (line.split(": ") for line in lines)}


def read(server, path: str, **params) -> dict:
    with server.client() as http:
        answer = http.get(path, params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()


def values(server, by: str, measure: str, **params) -> dict:
    rows = read(server, "/breakdown", by=by, limit=100, **params)["results"]
    return {row["value"]: row[measure] for row in rows}


def test_goatcounter_into_a_stopped_service_then_read(data_dir, tracker_server):
    assert tracker(data_dir, "sites", "add", "shop", "--domain", "shop.example").returncode == 0
    done = import_file(data_dir, "shop", "goatcounter", "goatcounter-export.csv")
    assert done.returncode == 1, done.stderr  # some rows rejected
    assert summary(done) == {"stored": 9, "skipped as duplicates": 0, "rejected": 3}
    path = DATA / "goatcounter-export.csv"
    assert done.stderr.splitlines() == [f"{path}:11: a bot's hit (Bot 3)",
                                        f"{path}:12: `Date` is not an ISO 8601 time: 'yesterday'",
                                        f"{path}:13: has 3 fields; GoatCounter's CSV has 14"]
    server = tracker_server()
    window = {"site": "shop", **MARCH_2024}
    totals = read(server, "/stats", **window)["totals"]
    assert (totals["visitors"], totals["visits"], totals["pageviews"]) == (4, 4, 8)
    assert values(server, "page", "pageviews", **window) == {"/blog/caf%C3%A9": 3, "/": 2, "/pricing": 2,
                                                             "/docs": 1}
    assert values(server, "event", "events", **window) == {"page_view": 8, "signup-click": 1}
    assert values(server, "country", "visitors", **window) == {"NL": 1, "US": 1, "DE": 1, None: 1}
    assert values(server, "browser", "visitors", **window) == {"Chrome": 2, "Firefox": 1, "Safari": 1}
    assert values(server, "utmSource", "visitors", **window) == {"spring-sale": 1, None: 3}
    assert values(server, "referrer", "visitors", **window) == {"google.com": 1, "news.ycombinator.com": 1,
                                                                None: 2}
    # Nothing of the shop's is in the default site.
    assert read(server, "/stats", site="default", **MARCH_2024)["totals"]["visits"] == 0


def test_importing_twice_stores_once(data_dir, tracker_server):
    assert tracker(data_dir, "sites", "add", "shop").returncode == 0
    first = import_file(data_dir, "shop", "goatcounter", "goatcounter-export.csv")
    server = tracker_server()
    before = read(server, "/stats", site="shop", **MARCH_2024)
    again = import_file(data_dir, "shop", "goatcounter", "goatcounter-export.csv")  # while it runs
    assert summary(first)["stored"] == 9
    assert summary(again) == {"stored": 0, "skipped as duplicates": 9, "rejected": 3}
    assert read(server, "/stats", site="shop", **MARCH_2024) == before


def test_umami_into_a_running_service(data_dir, tracker_server):
    server = tracker_server()
    with server.client() as http:
        assert http.post("/sites", json={"id": "shop", "domains": ["shop.example"]}).status_code == 201
    done = import_file(data_dir, "shop", "umami", "umami-website_event.csv")
    assert summary(done) == {"stored": 5, "skipped as duplicates": 0, "rejected": 2}
    window = {"site": "shop", **MARCH_2024}
    totals = read(server, "/stats", **window)["totals"]
    assert (totals["visitors"], totals["visits"], totals["pageviews"]) == (2, 3, 4)
    assert values(server, "page", "pageviews", **window) == {"/": 1, "/pricing": 1, "/blog/caf%C3%A9": 1,
                                                             "/docs": 1}
    assert values(server, "event", "events", **window) == {"page_view": 4, "signup": 1}
    assert values(server, "channel", "visits", **window) == {"Email": 1, "Organic Social": 1, "Direct": 1}
    again = import_file(data_dir, "shop", "umami", "umami-website_event.csv")
    assert summary(again)["skipped as duplicates"] == 5


def test_umami_without_visit_ids_makes_visits_as_for_anonymous_traffic(data_dir, tracker_server):
    assert tracker(data_dir, "sites", "add", "shop").returncode == 0
    assert import_file(data_dir, "shop", "umami", "umami-website_event-2.x.csv").returncode == 0
    server = tracker_server()
    window = {"site": "shop", "from": MARCH_2024["from"] - 120 * 86_400_000, "to": MARCH_2024["from"]}
    totals = read(server, "/stats", **window)["totals"]
    assert (totals["visitors"], totals["visits"], totals["pageviews"]) == (1, 2, 3)  # 4 hours apart
    assert values(server, "source", "visits", **window) == {"mastodon": 1, "Direct": 1}


def test_trackers_own_export_round_trips(data_dir, tracker_server):
    server = tracker_server()
    now = now_ms()
    events = [{"userId": "u1", "sessionId": f"s{i // 3}", "event": "page_view" if i % 3 else "signup",
               "timestamp": now - (20 - i) * MINUTE, "data": {"path": f"/p{i % 4}", "n": i},
               **({"eventId": f"e{i}"} if i % 2 else {})} for i in range(12)]
    with server.client() as http:
        assert http.post("/track", json={"events": events}).status_code == 200
        assert http.post("/sites", json={"id": "copy"}).status_code == 201
        exported = http.get("/users/u1/export", params={"site": "default"})
    export = data_dir.parent / "u1.ndjson"
    export.write_bytes(exported.content)
    done = tracker(data_dir, "import", "--site", "copy", "--format", "ndjson", str(export))
    assert summary(done) == {"stored": 12, "skipped as duplicates": 0, "rejected": 0}
    original = read(server, "/movements", site="default", userId="u1", limit=100)["movements"]
    copied = read(server, "/movements", site="copy", userId="u1", limit=100)["movements"]
    assert [{**m, "eventId": None} for m in copied] == [{**m, "eventId": None} for m in original]
    assert [m["eventId"] for m in copied if not m["eventId"].startswith("ndjson:")] == [
        m["eventId"] for m in original if m["eventId"]]
    window = {"timeRange": "24h"}
    assert read(server, "/analytics", site="copy", **window)["totals"] == \
        read(server, "/analytics", site="default", **window)["totals"]
    assert summary(tracker(data_dir, "import", "--site", "copy", "--format", "ndjson", str(export))) == {
        "stored": 0, "skipped as duplicates": 12, "rejected": 0}


def test_the_sample_export_round_trips_but_for_its_bad_lines(data_dir, tracker_server):
    assert tracker(data_dir, "sites", "add", "shop").returncode == 0
    done = import_file(data_dir, "shop", "ndjson", "tracker-export.ndjson")
    assert summary(done) == {"stored": 5, "skipped as duplicates": 0, "rejected": 2}
    assert [line.split(":")[1] for line in done.stderr.splitlines()] == ["6", "7"]
    server = tracker_server()
    lines = [json.loads(line) for line in (DATA / "tracker-export.ndjson").read_text().splitlines()[1:5]]
    copied = {m["timestamp"]: m for m in read(server, "/movements", site="shop", userId="u-42", limit=100)["movements"]}
    assert sorted(copied) == sorted(line["timestamp"] for line in lines)
    for line in lines:  # each as the file says; an eventId where it had one, else a stable one
        movement = copied[line["timestamp"]]
        assert {key: value for key, value in movement.items() if key != "eventId"} == \
            {key: value for key, value in line.items() if key not in ("eventId", "type")}
        assert movement["eventId"] == line["eventId"] if line["eventId"] else movement["eventId"].startswith("ndjson:")


@pytest.mark.parametrize("args, message", [
    (["--site", "nowhere", "--format", "umami", str(DATA / "umami-website_event.csv")], "no site `nowhere`"),
    (["--format", "umami", str(DATA / "umami-website_event.csv")], "the following arguments are required: --site"),
    (["--site", "default", "--format", "umami", "/no/such/file.csv"], "/no/such/file.csv: No such file"),
    (["--site", "default", "--format", "goatcounter", str(DATA / "umami-website_event.csv")],
     "not GoatCounter's CSV export of version 2"),
    (["--site", "default", "--format", "umami", str(DATA / "goatcounter-export.csv")],
     "not Umami's website_event table"),
])
def test_what_cannot_be_imported_says_why(data_dir, args, message):
    done = tracker(data_dir, "import", *args)
    assert done.returncode == 2
    assert message in done.stderr


def on_a_terminal(data_dir: Path, *args: str) -> tuple[int, str]:
    """The exit status and what stderr showed, run with stderr on a pseudo-terminal."""
    leader, follower = pty.openpty()
    try:
        child = subprocess.Popen([sys.executable, "-m", "tracker", "import", *args],
                                 env={**os.environ, **service_env(data_dir)}, stdout=subprocess.DEVNULL,
                                 stderr=follower)
        os.close(follower)
        shown = b""
        while True:  # read as it runs, so that a full terminal buffer never blocks it
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the terminal's other end closed
                break
            if not chunk:
                break
            shown += chunk
        status = child.wait(timeout=120)
    finally:
        os.close(leader)
    return status, shown.decode()


def test_a_terminal_sees_a_progress_bar_and_the_rejected_rows_between(data_dir, tmp_path):
    big = tmp_path / "website_event.csv"
    header = "event_id,session_id,created_at,url_path,event_type"
    rows = [f"e{n},s{n % 300},2024-03-01 09:{n // 600 % 60:02}:{n % 60:02},/p{n % 40},1" for n in range(24_000)]
    rows[7_000] = "e-bad,s1,not a time,/,1"
    big.write_text("\n".join([header, *rows]) + "\n")
    status, shown = on_a_terminal(data_dir, "--site", "default", "--format", "umami", str(big))
    assert status == 1
    frames = [frame.removeprefix("\x1b[K") for line in shown.splitlines() for frame in line.split("\r")
              if frame.strip("\x1b[K")]
    assert f"{big}:7002: `created_at` is not an ISO 8601 time: 'not a time'" in frames
    bars = [frame for frame in frames if frame.startswith("[")]
    shares = [int(frame[frame.index("]") + 1:].split("%")[0]) for frame in bars]
    assert 0 < shares[0] < 100 and shares == sorted(shares)  # the first batch's share of the file
    assert bars[-1] == (f"[{'#' * 24}] 100% 24,000 rows read, 23,999 stored, 0 duplicates, 1 rejected "
                        + bars[-1][bars[-1].index("("):])
    assert shown.endswith("rows/s)\r\n")  # the last bar stays, on a line of its own


def test_the_summary_counts_in_words(data_dir):
    done = import_file(data_dir, "default", "ndjson", "tracker-export.ndjson")
    first = done.stdout.splitlines()[0]
    assert first.startswith("imported into default: 7 rows from 1 file in ")
    assert done.stderr.count("\n") == 2 and "\r" not in done.stderr  # no bar where stderr is no terminal
