"""An erasure that outlasts its wait: 202, GET /users/{userId}/erasure, joining, resuming."""

from __future__ import annotations

import threading
import time

import pytest
from starlette.testclient import TestClient

import analytics_reference as reference
from helpers import (
    HOUR,
    TOKEN,
    connect,
    fold_all,
    metric_samples,
    movement,
    now_ms,
    service_env,
)
from tracker.app import create_app
from tracker.config import Config
from tracker.lifecycle import erasures, user_data
from tracker.ops import shard_stats
from user_datasets import ERASED, analytics_queries, dataset, dump_rollups, post_all, same_answer

# A service that never waits for an erasure and erases a few movements per job.
BACKGROUND = {"TRACKER_ERASURE_WAIT_SECONDS": "0", "TRACKER_ERASE_CHUNK": "7"}


class Gate:
    """Wraps user_data.erase_some: the first job passes, later ones wait until `open()`.

    The jobs run on the shard's writer thread, so while the gate is shut the
    erasure cannot finish, however fast the machine.
    """

    def __init__(self, monkeypatch):
        self.calls = 0
        self._open = threading.Event()
        self._erase_some = user_data.erase_some
        monkeypatch.setattr(user_data, "erase_some", self._gated)

    def _gated(self, conn, shard, user_id, limit):
        self.calls += 1
        if self.calls > 1:
            assert self._open.wait(30), "the gate was never opened"
        return self._erase_some(conn, shard, user_id, limit)

    def open(self) -> None:
        self._open.set()


@pytest.fixture
def gate(monkeypatch):
    gate = Gate(monkeypatch)
    yield gate
    gate.open()  # a failing test must not leave a writer thread waiting


def erasure(client, user: str) -> dict:
    answer = client.get(f"/users/{user}/erasure")
    assert answer.status_code == 200, answer.text
    return answer.json()


def finished(client, user: str, timeout: float = 60) -> dict:
    """The user's erasure record once it says done (waiting however slow the machine is)."""
    deadline = time.monotonic() + timeout
    while (found := erasure(client, user))["status"] == "running":
        assert time.monotonic() < deadline, found
        time.sleep(0.02)
    return found


def erasures_running(client) -> float:
    return metric_samples(client.get("/metrics").text)[("tracker_erasures_running",)]


def test_a_small_erasure_answers_200_and_its_record_says_done(client):
    client.post("/track", json={"events": [movement(session="s1"), movement(session="s2")]})
    before = now_ms()
    answer = client.delete("/users/u1")
    after = now_ms()

    assert answer.status_code == 200
    assert answer.json() == {"userId": "u1", "movements": 2, "sessions": 2}
    record = erasure(client, "u1")
    assert record == {"userId": "u1", "status": "done", "movements": 2, "sessions": 2,
                      "requestedAt": record["requestedAt"], "finishedAt": record["finishedAt"]}
    assert before <= record["requestedAt"] <= record["finishedAt"] <= after


def test_erasing_again_starts_a_new_record(client):
    client.post("/track", json=movement())
    client.delete("/users/u1")
    first = erasure(client, "u1")
    assert client.delete("/users/u1").json() == {"userId": "u1", "movements": 0, "sessions": 0}
    second = erasure(client, "u1")
    assert (second["movements"], second["sessions"]) == (0, 0)
    assert second["requestedAt"] >= first["finishedAt"]


def test_no_erasure_requested_is_a_404(client):
    client.post("/track", json=movement())
    answer = client.get("/users/u1/erasure")
    assert answer.status_code == 404
    assert answer.json() == {"error": "not_found", "detail": "no erasure was requested for this userId"}


def test_the_erasure_record_needs_the_read_token(client):
    client.delete("/users/u1")
    for headers in ({"Authorization": "Bearer wrong"}, {"Authorization": ""}):
        answer = client.get("/users/u1/erasure", headers=headers)
        assert answer.status_code == 401
        assert answer.json()["error"] == "unauthorized"


@pytest.mark.parametrize("user", ["x" * 129, "tab%09"])
def test_a_bad_user_id_in_the_erasure_path_is_a_422(client, user):
    answer = client.get(f"/users/{user}/erasure")
    assert answer.status_code == 422
    assert "userId" in answer.json()["detail"]


def test_a_long_erasure_answers_202_goes_on_and_is_joined(make_client, tmp_path, gate, now):
    events = dataset(now)
    erased = [e for e in events if e["userId"] == ERASED]
    everyone = make_client(**BACKGROUND)
    post_all(everyone, events, batch=97)
    others_dir = tmp_path / "others"
    others = make_client(TRACKER_DATA_DIR=str(others_dir))
    post_all(others, [e for e in events if e["userId"] != ERASED], batch=97)

    answer = everyone.delete(f"/users/{ERASED}")

    assert answer.status_code == 202
    running = answer.json()
    assert list(running) == ["status", "userId", "movements", "sessions", "requestedAt"]
    assert running["status"] == "running" and running["userId"] == ERASED
    assert running["movements"] < len(erased) and running["sessions"] == 0
    record = erasure(everyone, ERASED)
    assert record["status"] == "running" and record["finishedAt"] is None
    assert record["requestedAt"] == running["requestedAt"]
    joined = everyone.delete(f"/users/{ERASED}")
    assert joined.status_code == 202 and joined.json()["requestedAt"] == running["requestedAt"]
    assert erasures_running(everyone) == 1

    gate.open()
    done = finished(everyone, ERASED)

    assert done["movements"] == len(erased)
    assert done["sessions"] == len({e["sessionId"] for e in erased})
    assert done["requestedAt"] == running["requestedAt"] <= done["finishedAt"]
    assert gate.calls == len(erased) // 7 + 1  # jobs of 7, then one finding fewer
    assert erasures_running(everyone) == 0
    assert everyone.get(f"/users/{ERASED}/export").status_code == 404
    fold_all(everyone)
    fold_all(others)
    assert dump_rollups(everyone.app.state.config.data_dir) == dump_rollups(others_dir)
    for params in analytics_queries(now)[::5]:
        left, right = same_answer(everyone, others, params)
        assert left == right, params


def service_on(data_dir, **settings: str) -> TestClient:
    """The in-process service on `data_dir`, started and stopped by a `with` block."""
    config = Config.from_env(service_env(data_dir, **settings))
    return TestClient(create_app(config), headers={"Authorization": f"Bearer {TOKEN}"})


class Crash(Exception):
    """Stands for the process dying in the middle of an erasure."""


def test_an_erasure_left_running_is_resumed_when_the_service_starts(make_client, data_dir,
                                                                   monkeypatch):
    erase_some = user_data.erase_some
    jobs = []

    def dies_at_the_third_job(conn, shard, user_id, limit):
        jobs.append(limit)
        if len(jobs) == 3:
            raise Crash()
        return erase_some(conn, shard, user_id, limit)

    with service_on(data_dir, **BACKGROUND) as first:
        post_all(first, [movement(session=f"s{i % 4}", eventId=f"e{i}") for i in range(100)])
        first.post("/track", json=movement(user="someone-else"))
        monkeypatch.setattr(user_data, "erase_some", dies_at_the_third_job)
        assert first.delete("/users/u1").status_code == 202
        deadline = time.monotonic() + 30
        while len(jobs) < 3:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        left = erasure(first, "u1")
    assert (left["status"], left["movements"]) == ("running", 14)
    monkeypatch.setattr(user_data, "erase_some", erase_some)

    again = make_client(**BACKGROUND)  # its start-up run of resume_erasures takes it up
    done = finished(again, "u1")

    assert (done["movements"], done["sessions"]) == (100, 4)
    assert done["requestedAt"] == left["requestedAt"]
    assert again.get("/users/u1/export").status_code == 404
    assert again.get("/users/someone-else/export").status_code == 200
    totals = again.get("/analytics", params={"timeRange": "1h"}).json()["totals"]
    assert (totals["movements"], totals["users"], totals["sessions"]) == (1, 1, 1)


def shard_record(data_dir, user: str) -> tuple:
    """(status, movements) of the user's erasure, read from the shard files directly."""
    for path in sorted(data_dir.glob("shard-*.sqlite")):
        with connect(path, read_only=True) as conn:
            row = conn.execute("SELECT status, movements FROM erasures WHERE userId = ?",
                               (user,)).fetchone()
            if row is not None:
                return row
    raise AssertionError(f"no erasure recorded for {user}")


@pytest.mark.slow
def test_kill_9_mid_erasure_then_two_workers_finish_it_exactly(tracker_server, data_dir, now):
    """The service dies mid-erasure; restarted with two workers, which may both take the
    erasure up, it ends by itself with exact counts and nothing of the user left."""
    settings = {"TRACKER_ERASURE_WAIT_SECONDS": "0", "TRACKER_ERASE_CHUNK": "1",
                "TRACKER_SESSION_TTL_SECONDS": str(40 * 24 * 3600)}  # no session expires
    events = dataset(now)
    others = [e for e in events if e["userId"] != ERASED]
    erased = [e for e in events if e["userId"] == ERASED] + [
        movement(user=ERASED, session=f"big-{i % 50}", timestamp=now - HOUR - i, eventId=f"big-{i}")
        for i in range(10_000)]
    server = tracker_server(**settings)
    with server.client() as client:
        post_all(client, others + erased, batch=500)
        answer = client.delete(f"/users/{ERASED}")
        assert answer.status_code == 202, answer.text
        started = time.monotonic()
        while erasure(client, ERASED)["movements"] == 0:
            time.sleep(0.005)
    server.kill()
    status, left_at = shard_record(data_dir, ERASED)
    print(f"killed {time.monotonic() - started:.3f} s into the erasure, "
          f"{left_at} of {len(erased)} movements erased")
    assert status == "running" and 0 < left_at < len(erased)

    restarted = tracker_server(workers=2, **settings)
    with restarted.client() as client:
        started = time.monotonic()
        done = finished(client, ERASED, timeout=240)
        print(f"the restarted service finished it in {time.monotonic() - started:.1f} s")
        assert done["requestedAt"] == answer.json()["requestedAt"]
        assert (done["movements"], done["sessions"]) == (
            len(erased), len({e["sessionId"] for e in erased}))
        assert client.get(f"/users/{ERASED}/export").status_code == 404
        assert client.get("/movements", params={"userId": ERASED}).json()["movements"] == []
        for params in analytics_queries(now)[::3]:
            got = client.get("/analytics", params=params).json()
            assert got == reference.analytics(others, got, params.get("userId"),
                                              params.get("event"), params.get("tz")), params


def test_every_erasure_record_statement_is_an_index_search(client, data_dir):
    client.delete("/users/u1")
    statements = [erasures.BEGIN, erasures.RECORD, erasures.ADD_ERASED, erasures.FINISH,
                  erasures.RUNNING_USERS, shard_stats.COUNT_RUNNING_ERASURES]
    with connect(data_dir / "shard-0000.sqlite") as conn:
        for sql in statements:
            plan = " | ".join(row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}",
                                                             [1] * sql.count("?")))
            assert "SCAN erasures" not in plan, f"{sql.strip()}\n  plan: {plan}"
