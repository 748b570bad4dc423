"""Make the data directory of tests/storage/test_upgrade_from_before_sites.py with the release
before sites, and record what its read endpoints answer over it.

Usage (from the repository root, with this checkout's virtual environment):

    git archive 1bdc51c | tar -x -C /tmp/before-sites
    .venv/bin/python tests/data/before-sites/make_fixture.py /tmp/before-sites

It starts that release's `tracker serve` (4 shards) on a scratch directory,
posts a few days of traffic (identified users with sessions opened by
`POST /session`, anonymous visitors behind a trusted proxy), and kills the
service with SIGKILL right after the last acknowledged request, so that the
log keeps rows no shard has folded yet. That directory, packed, is
`data.tar.gz`. Then the release is started again on a copy, which folds those
rows, and the answer of every read endpoint over fixed windows is written
to `answers.json`.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import httpx2 as httpx

HERE = Path(__file__).resolve().parent
TOKEN = "before-sites-token"
DAY = 86_400_000
HOUR = 3_600_000
# Sessions stay live, so that `GET /session` finds them whenever the test runs.
SETTINGS = {"TRACKER_SHARDS": "4", "TRACKER_READ_TOKEN": TOKEN, "TRACKER_RATE_LIMIT": "0",
            "TRACKER_TRUSTED_PROXIES": "127.0.0.1", "TRACKER_SESSION_TTL_SECONDS": "3153600000"}
KEPT = ("manifest.json", "log.sqlite", "log.sqlite-wal", "salts")

AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Safari/605.1.15",
]
ADDRESSES = ["8.8.8.8", "194.25.2.129", "212.58.244.20", "81.96.1.2", "126.0.3.4", "90.0.5.6"]
BLOCKS = ["24.0", "77.180", "126.0", "81.96"]  # registered in the US, DE, JP and GB
PATHS = ["/", "/pricing", "/docs", "/blog/launch", "/signup"]
REFERRERS = ["", "https://www.google.com/", "https://news.ycombinator.com/item?id=1",
             "https://t.co/abc", "https://www.example.com/docs"]
UTMS = [None, {"source": "newsletter", "medium": "email", "campaign": "december"},
        {"source": "google", "medium": "cpc", "campaign": "brand", "term": "tracker"}]
USERS = [f"user-{n}" for n in range(1, 21)]
ANONYMOUS = 16
UNFOLDED = 12  # requests posted last, left in the log unfolded


def page_view(rng: random.Random, at: int, first: bool) -> dict:
    data: dict = {"path": rng.choice(PATHS), "host": "www.example.com", "title": "Example"}
    if first:
        data["referrer"] = rng.choice(REFERRERS)
        utm = rng.choice(UTMS)
        if utm:
            data["utm"] = utm
    return {"event": "page_view", "timestamp": at, "data": data}


def visit_events(rng: random.Random, start: int) -> list[dict]:
    """One visit: page views, clicks, now and then a signup or a purchase."""
    events, at = [], start
    for step in range(rng.randint(1, 8)):
        kind = rng.random()
        if step == 0 or kind < 0.55:
            events.append(page_view(rng, at, step == 0))
        elif kind < 0.8:
            events.append({"event": "click", "timestamp": at,
                           "data": {"target": rng.choice(["buy", "nav", "cta"])}})
        elif kind < 0.92:
            events.append({"event": "signup", "timestamp": at,
                           "data": {"plan": rng.choice(["free", "pro"])}})
        else:
            events.append({"event": "purchase", "timestamp": at, "data": {"amount": 49}})
        at += rng.randint(5_000, 600_000)
    return events


def traffic(now: int, seed: int = 11) -> list[tuple[str, str, list[dict]]]:
    """(User-Agent, address, events) of each request, in posting order."""
    rng = random.Random(seed)
    first_day = now - now % DAY - 6 * DAY
    requests = []
    for user in USERS:
        for number in range(rng.randint(1, 4)):
            start = first_day + rng.randint(0, 5) * DAY + rng.randint(6, 20) * HOUR
            events = [{**e, "userId": user, "sessionId": f"{user}-s{number}",
                       "eventId": f"{user}-{number}-{i}"}
                      for i, e in enumerate(visit_events(rng, start))]
            requests.append((rng.choice(AGENTS), rng.choice(ADDRESSES), events))
    for visitor in range(ANONYMOUS):
        agent = AGENTS[visitor % len(AGENTS)]
        address = f"{BLOCKS[visitor % len(BLOCKS)]}.{visitor}.{10 + visitor}"
        for number in range(rng.randint(1, 2)):
            start = first_day + rng.randint(0, 5) * DAY + rng.randint(6, 20) * HOUR
            events = [{**e, "eventId": f"anon-{visitor}-{number}-{i}"}
                      for i, e in enumerate(visit_events(rng, start))]
            requests.append((agent, address, events))
    rng.shuffle(requests)
    return requests


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(release: Path, data_dir: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, **SETTINGS, "TRACKER_DATA_DIR": str(data_dir), "PYTHONPATH": str(release)}
    process = subprocess.Popen([sys.executable, "-m", "tracker", "serve", "--host", "127.0.0.1",
                                "--port", str(port), "--workers", "2"], cwd=release, env=env,
                               start_new_session=True, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    for _ in range(600):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit("the release did not start")


def fill(release: Path, data_dir: Path, now: int) -> dict:
    """Post the traffic, then kill the service at once; returns what was acknowledged."""
    port = free_port()
    process = start(release, data_dir, port)
    accepted = duplicates = 0
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
        for user in USERS[:4]:
            opened = client.post("/session", json={"userId": user, "sessionId": f"{user}-s0",
                                                   "deviceInfo": {"screen": "1920x1080"}})
            assert opened.status_code == 200, opened.text
        requests = traffic(now)
        for number, (agent, address, events) in enumerate(requests):
            if number == len(requests) - UNFOLDED:  # a read folds everything posted so far
                folded = client.get("/analytics", headers={"Authorization": f"Bearer {TOKEN}"})
                assert folded.status_code == 200, folded.text
            answer = client.post("/track", json={"events": events},
                                 headers={"User-Agent": agent, "X-Forwarded-For": address})
            assert answer.status_code == 200 and answer.json()["ignored"] == 0, answer.text
            accepted += answer.json()["accepted"]
            duplicates += answer.json()["duplicates"]
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    return {"movements": accepted - duplicates, "sessionsOpened": 4}


def queries(now: int) -> list[tuple[str, dict]]:
    """Every read endpoint over fixed windows: the week of the traffic, and one day of it."""
    start = now - now % DAY - 7 * DAY
    week = {"from": start, "to": start + 7 * DAY}  # up to the day the fixture was made
    day = {"from": start + 3 * DAY, "to": start + 4 * DAY}
    asked: list[tuple[str, dict]] = []
    for window in (week, day):
        asked += [("/analytics", window), ("/analytics", {**window, "event": "page_view"}),
                  ("/analytics", {**window, "tz": "Asia/Kolkata"}),
                  ("/analytics", {**window, "userId": "user-3"}),
                  ("/stats", window), ("/stats", {**window, "compare": "previous"}),
                  ("/stats", {**window, "filter": "page:/pricing"}),
                  ("/stats", {**window, "filter": "device:mobile"})]
        for by in ("page", "event", "entryPage", "exitPage", "referrer", "utmSource", "utmMedium",
                   "utmCampaign", "utmTerm", "browser", "os", "device", "country", "source",
                   "channel"):
            asked.append(("/breakdown", {**window, "by": by, "limit": 100}))
        asked += [("/breakdown", {**window, "by": "prop:plan", "event": "signup"}),
                  ("/funnels", {**window, "step": ["page:/", "page:/pricing", "signup"]}),
                  ("/funnels", {**window, "step": ["page_view", "purchase"], "by": "visit"}),
                  ("/retention", {**window, "period": "day"})]
    asked.append(("/retention", {**week, "period": "week"}))
    for user in USERS:
        asked += [("/movements", {"userId": user, "limit": 1000}),
                  ("/movements", {"userId": user, "limit": 3}),
                  (f"/users/{user}/export", {}),
                  ("/session", {"sessionId": f"{user}-s0"}),
                  ("/session", {"sessionId": f"{user}-s0", "userId": user})]
    return asked


def answer_of(response: httpx.Response) -> object:
    if response.headers.get("content-type", "").startswith("application/x-ndjson"):
        return [json.loads(line) for line in response.text.splitlines() if line]
    return response.json()


def record(release: Path, data_dir: Path, now: int) -> list[dict]:
    port = free_port()
    process = start(release, data_dir, port)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30,
                          headers={"Authorization": f"Bearer {TOKEN}"}) as client:
            answers = []
            for path, params in queries(now):
                response = client.get(path, params=params)
                answers.append({"path": path, "params": params, "status": response.status_code,
                                "answer": answer_of(response)})
            return answers
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(60)


def pack(data_dir: Path, into: Path) -> None:
    """The data directory as the killed service left it (its WAL files included); not the
    read token, locks or shared-memory files, which a start makes again."""
    with tarfile.open(into, "w:gz") as tar:
        for path in sorted(data_dir.rglob("*")):
            name = path.relative_to(data_dir)
            if path.is_file() and (path.name.startswith("shard-") or str(name).startswith(KEPT)) \
                    and not path.name.endswith("-shm"):
                tar.add(path, arcname=str(name))


def main() -> None:
    release = Path(sys.argv[1]).resolve()
    now = int(time.time() * 1000)
    with tempfile.TemporaryDirectory() as scratch:
        data_dir = Path(scratch) / "data"
        made = fill(release, data_dir, now)
        pack(data_dir, HERE / "data.tar.gz")
        copy = Path(scratch) / "copy"
        shutil.copytree(data_dir, copy)
        answers = record(release, copy, now)
    recorded = {"release": "1bdc51c", "made": now, "token": TOKEN, "settings": SETTINGS,
                **made, "answers": answers}
    (HERE / "answers.json").write_text(json.dumps(recorded, sort_keys=True) + "\n")
    print(f"{made['movements']} movements; {len(answers)} answers recorded")


if __name__ == "__main__":
    main()
