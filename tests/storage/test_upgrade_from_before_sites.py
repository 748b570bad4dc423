"""A data directory made by the release before sites opens as one site, `default`, holding all of
its data, and every read answers as that release answered (tests/data/before-sites/README.md)."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pytest

from helpers import TOKEN, connect, now_ms

FIXTURE = Path(__file__).resolve().parent.parent / "data" / "before-sites"
RECORDED = json.loads((FIXTURE / "answers.json").read_text())
# Migration 0011 re-derives every visit's source and channel by GA4's rules, which changed
# after that release: these two breakdowns may answer otherwise, and rightly.
RULES_CHANGED = {"source", "channel"}


def unchanged_answers() -> list[dict]:
    return [a for a in RECORDED["answers"]
            if not (a["path"] == "/breakdown" and a["params"]["by"] in RULES_CHANGED)]


@pytest.fixture
def upgraded(data_dir, tracker_server):
    """The release's data directory, as its killed service left it, served by this one."""
    with tarfile.open(FIXTURE / "data.tar.gz") as tar:
        tar.extractall(data_dir, filter="data")
    assert unfolded_rows(data_dir) > 0
    return tracker_server(**{**RECORDED["settings"], "TRACKER_READ_TOKEN": TOKEN})


def unfolded_rows(data_dir: Path) -> int:
    """Log rows some shard has not folded yet."""
    unfolded = 0
    with connect(data_dir / "log.sqlite", read_only=True) as log:
        for index in range(4):
            with connect(data_dir / f"shard-{index:04d}.sqlite", read_only=True) as shard:
                [[position]] = shard.execute("SELECT seq FROM fold_position").fetchall()
            [[count]] = log.execute("SELECT count(*) FROM log WHERE shard = ? AND seq > ?",
                                    (index, position)).fetchall()
            unfolded += count
    return unfolded


# What a read's defaults were before: retention counted every visitor, anonymous ones too
# (now its cohorts are of identified users unless asked).
AS_BEFORE = {"/retention": {"identified": "false"}}


def answer_of(response) -> object:
    if response.headers.get("content-type", "").startswith("application/x-ndjson"):
        return [json.loads(line) for line in response.text.splitlines() if line]
    return response.json()


def test_every_read_answers_as_the_release_before_sites_did(upgraded):
    asked = unchanged_answers()
    assert len(asked) > 100
    with upgraded.client() as client:
        for recorded in asked:
            response = client.get(recorded["path"], params=recorded["params"] | AS_BEFORE.get(
                recorded["path"], {}))
            assert (response.status_code, answer_of(response)) == (
                recorded["status"], recorded["answer"]), (recorded["path"], recorded["params"])


def test_source_and_channel_count_the_same_visits_under_the_new_rules(upgraded):
    rederived = [a for a in RECORDED["answers"]
                 if a["path"] == "/breakdown" and a["params"]["by"] in RULES_CHANGED]
    assert len(rederived) == 4
    with upgraded.client() as client:
        for recorded in rederived:
            rows = client.get("/breakdown", params=recorded["params"]).json()["results"]
            assert sum(row["visits"] for row in rows) == sum(
                row["visits"] for row in recorded["answer"]["results"])


def test_one_site_default_holds_everything_and_ingest_goes_on(upgraded, data_dir):
    with upgraded.client() as client:
        [site] = client.get("/sites").json()["sites"]
        assert (site["id"], site["domains"], site["status"]) == ("default", [], "live")
        week = next(a for a in RECORDED["answers"] if a["path"] == "/analytics")["params"]
        totals = client.get("/analytics", params=week).json()["totals"]
        assert totals["movements"] == RECORDED["movements"]
        assert client.get("/analytics", params={**week, "site": "default"}).json()["totals"] == totals

        now = now_ms()
        again = {"userId": "user-1", "sessionId": "user-1-s0", "event": "click",
                 "eventId": "user-1-0-0", "timestamp": now}
        fresh = {"userId": "user-1", "sessionId": "after", "event": "page_view",
                 "eventId": "after-upgrade", "timestamp": now, "data": {"path": "/new"}}
        posted = client.post("/track", json={"events": [again, fresh]})
        assert posted.json() == {"accepted": 2, "duplicates": 1, "ignored": 0}
        newest = client.get("/movements", params={"userId": "user-1", "limit": 1}).json()
        assert newest["movements"][0]["eventId"] == "after-upgrade"
        assert client.get("/stats", params={"timeRange": "1h"}).json()["totals"]["pageviews"] == 1
        assert client.get("/analytics", params=week).json()["totals"] == totals
    assert unfolded_rows(data_dir) == 0
    assert not (data_dir / "sites").exists() or not any((data_dir / "sites").iterdir())
