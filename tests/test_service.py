"""The real service in a subprocess: durability across kill -9, SIGTERM, workers, alarm, start-up checks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid

import apsw
import httpx2 as httpx

from helpers import movement, service_env
from tracker import manifest


class Writers:
    """Threads posting batches with unique eventIds, remembering what was acknowledged."""

    def __init__(self, url: str, threads: int = 6, users: int = 30):
        self.url = url
        self.users = [f"user-{i}" for i in range(users)]
        self.acknowledged: list[tuple[str, str]] = []
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._post, args=(n,)) for n in range(threads)]

    def __enter__(self) -> Writers:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(30)

    def _post(self, n: int) -> None:
        with httpx.Client(base_url=self.url, timeout=10) as client:
            for i in range(100_000):
                if self._stop.is_set():
                    return
                events = [movement(user=self.users[(n * 7 + i + k) % len(self.users)],
                                   eventId=uuid.uuid4().hex) for k in range(1 + i % 20)]
                try:
                    response = client.post("/track", json={"events": events})
                except httpx.TransportError:
                    continue  # the server went away mid-request: not acknowledged
                if response.status_code == 200:
                    with self._lock:
                        self.acknowledged += [(e["userId"], e["eventId"]) for e in events]
                else:
                    self.errors.append(f"{response.status_code} {response.text}")


def stored_event_ids(server, users: list[str]) -> list[tuple[str, str]]:
    found = []
    with server.client() as client:
        for user in users:
            cursor = None
            while True:
                params = {"userId": user, "limit": 1000, **({"cursor": cursor} if cursor else {})}
                page = client.get("/movements", params=params).json()
                found += [(user, m["eventId"]) for m in page["movements"]]
                if (cursor := page["nextCursor"]) is None:
                    break
    return found


def test_acknowledged_events_survive_kill_9(tracker_server):
    server = tracker_server(TRACKER_SYNC="full")
    with Writers(server.url) as writers:
        time.sleep(1.5)
        server.kill()
    assert server.process.returncode == -signal.SIGKILL
    acknowledged = set(writers.acknowledged)
    assert len(acknowledged) > 200 and writers.errors == []

    restarted = tracker_server(TRACKER_SYNC="full")
    stored = stored_event_ids(restarted, writers.users)
    assert acknowledged <= set(stored)
    assert len(stored) == len(set(stored)), "an event was stored twice"


def test_sigterm_commits_accepted_events_and_exits_0(tracker_server):
    server = tracker_server()
    with Writers(server.url) as writers:
        time.sleep(1.0)
        status = server.stop(signal.SIGTERM)
    assert status == 0, server.output()
    assert "shards committed and closed" in server.output()
    restarted = tracker_server()
    assert set(writers.acknowledged) <= set(stored_event_ids(restarted, writers.users))


def test_two_workers_ingest_into_the_same_shards(tracker_server):
    server = tracker_server(workers=2, TRACKER_SYNC="full")
    with Writers(server.url, threads=8) as writers:
        time.sleep(2.0)
    assert writers.errors == []
    stored = stored_event_ids(server, writers.users)
    assert sorted(stored) == sorted(writers.acknowledged)
    assert server.stop(signal.SIGTERM) == 0


def sessions_in_files(data_dir, shards: int = 4) -> set[str]:
    found = set()
    for path in manifest.shard_paths(data_dir, shards):
        conn = apsw.Connection(str(path))
        found |= {row[0] for row in conn.execute("SELECT sessionId FROM sessions")}
        conn.close()
    return found


def test_alarm_expires_idle_sessions_keeps_movements_and_touched_sessions(tracker_server, data_dir):
    server = tracker_server(workers=2, TRACKER_SESSION_TTL_SECONDS="2",
                            TRACKER_ALARM_INTERVAL_SECONDS="1")
    with server.client() as client:
        client.post("/track", json={"events": [movement(session="idle", eventId=str(i))
                                               for i in range(5)]})
        client.post("/session", json={"userId": "u2", "sessionId": "busy"})
        assert sessions_in_files(data_dir) == {"idle", "busy"}
        deadline = time.monotonic() + 15
        while "idle" in sessions_in_files(data_dir) and time.monotonic() < deadline:
            client.post("/session", json={"userId": "u2", "sessionId": "busy"})
            time.sleep(0.3)
        assert sessions_in_files(data_dir) == {"busy"}
        assert len(client.get("/movements", params={"userId": "u1"}).json()["movements"]) == 5


def start_and_fail(env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tracker", "serve", "--port", "1"],
                          env={**os.environ, **env}, capture_output=True, text=True, timeout=60)


def test_shard_count_mismatch_refuses_to_start_with_one_line(tracker_server, data_dir):
    tracker_server().stop()
    result = start_and_fail(service_env(data_dir, TRACKER_SHARDS="8"))
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "created with 4 shards but TRACKER_SHARDS is 8" in result.stderr


def test_bad_session_ttl_refuses_to_start_with_one_line(data_dir):
    for bad in ("-5", "0", "soon"):
        result = start_and_fail(service_env(data_dir, TRACKER_SESSION_TTL_SECONDS=bad))
        assert result.returncode == 2
        assert result.stderr.strip().count("\n") == 0
        assert f"TRACKER_SESSION_TTL_SECONDS='{bad}': must be an integer >= 1" in result.stderr
