"""Data sets and readers shared by the tests of a user's data and of retention."""

from __future__ import annotations

import itertools
import json
import random
import time
from pathlib import Path

from helpers import DAY, HOUR, MINUTE, ROLLUP_TABLES, connect, movement

USERS = ["ann", "ben", "cy", "dee"]
ERASED = "cy"


def post_all(client, events: list[dict], batch: int = 500) -> None:
    """Post every event, a batch at a time; a batch refused as overloaded (its events stored
    none) is sent again, as the JavaScript client does, for up to a minute."""
    for start in range(0, len(events), batch):
        deadline = time.monotonic() + 60
        while True:
            answer = client.post("/track", json={"events": events[start:start + batch]})
            if answer.status_code != 503 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert answer.status_code == 200, answer.text


def export_lines(client, user: str) -> list[dict]:
    answer = client.get(f"/users/{user}/export")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/x-ndjson"
    assert answer.text.endswith("\n")
    return [json.loads(line) for line in answer.text.splitlines()]


def all_movements(client, user: str) -> list[dict]:
    found, cursor = [], None
    while True:
        params = {"userId": user, "limit": 1000, **({"cursor": cursor} if cursor else {})}
        page = client.get("/movements", params=params).json()
        found += page["movements"]
        if (cursor := page["nextCursor"]) is None:
            return found


def dataset(now: int, seed: int = 11) -> list[dict]:
    """Movements of several users before `now`: clusters and long gaps, page views, many events."""
    rng = random.Random(seed)
    edges = [now - span for span in (HOUR, DAY, 7 * DAY, 30 * DAY)]
    events = []
    for i in range(1_200):
        stamp = rng.choice([
            now - rng.randrange(2 * MINUTE, 29 * DAY),
            now - rng.randrange(2 * MINUTE, 55 * MINUTE),
            now - 3 * DAY + rng.randrange(-40 * MINUTE, 40 * MINUTE),
        ])
        if any(abs(stamp - edge) < 3 * MINUTE for edge in edges):
            continue  # windows ending now move between the two services' answers
        event = rng.choice(["page_view", "page_view", "click", "signup"])
        data = rng.choice([{"path": "/a"}, {"path": "/b"}, {"path": 3}, {}])
        user = rng.choice(USERS)
        events.append(movement(user=user, session=f"{user}-s{rng.randrange(6)}",
                               event=event, timestamp=stamp, data=data, eventId=f"id-{i}"))
    return events


def user_ids_session(user: str, events: list[dict]) -> str:
    return next(e["sessionId"] for e in events if e["userId"] == user)


def analytics_queries(now: int) -> list[dict]:
    """/analytics parameters over the windows of `dataset(now)`."""
    windows = [{"timeRange": r} for r in ("1h", "24h", "7d", "30d")] + [
        {"from": now - 29 * DAY, "to": now - DAY}, {"from": now - 3 * DAY - 7, "to": now - 2 * DAY},
        {"from": now - 3 * DAY - HOUR, "to": now - 3 * DAY + HOUR + 12_345}]
    found = []
    for window, user, event, zone in itertools.product(
            windows, [None, ERASED, USERS[0]], [None, "page_view", "click"], [None, "Asia/Kolkata"]):
        found.append({**window, **({"userId": user} if user else {}),
                      **({"event": event} if event else {}), **({"tz": zone} if zone else {})})
    return found


WEB_FILTERS = [[], ["page:/a"], ["entryPage:/b", "exitPage:/a"], ["source:Direct"], ["page:/b", "page:/a"]]
WEB_BREAKDOWNS = ["page", "event", "entryPage", "exitPage", "source"]


def web_queries(now: int) -> list[tuple[str, dict]]:
    """(path, parameters) of /stats and /breakdown over the windows of `dataset(now)`."""
    windows = [{"timeRange": "30d"}, {"timeRange": "7d", "tz": "Asia/Kolkata"},
               {"from": now - 29 * DAY, "to": now - DAY}, {"from": now - 3 * DAY - 7, "to": now - 2 * DAY},
               {"from": now - 3 * DAY - HOUR, "to": now - 3 * DAY + HOUR + 12_345}]
    found = []
    for window, filters in itertools.product(windows, WEB_FILTERS):
        found.append(("/stats", {**window, "filter": filters, "compare": "previous"}))
        for by in WEB_BREAKDOWNS:
            found.append(("/breakdown", {**window, "filter": filters, "by": by, "limit": 1000}))
        found.append(("/breakdown", {**window, "filter": filters, "by": "prop:path",
                                     "event": "page_view"}))
    return found


def same_answer(left, right, params: dict, path: str = "/analytics") -> tuple[dict, dict]:
    """Both answers without the clock's `from`/`to`; asked again if a bucket edge passed between."""
    for _ in range(3):
        answers = [client.get(path, params=params).json() for client in (left, right)]
        if "timeRange" not in params:
            return answers[0], answers[1]
        for answer in answers:
            del answer["from"], answer["to"]
            if answer.get("previous"):
                del answer["previous"]["from"], answer["previous"]["to"]
        if [p["t"] for p in answers[0].get("series", [])] == \
                [p["t"] for p in answers[1].get("series", [])]:
            break
    return answers[0], answers[1]


def dump_rollups(data_dir: Path) -> list[dict]:
    dumps = []
    for path in sorted(data_dir.glob("shard-*.sqlite")):
        with connect(path, read_only=True) as conn:
            dumps.append({table: sorted(conn.execute(f"SELECT * FROM {table}").fetchall())
                          for table in ROLLUP_TABLES})
    return dumps
