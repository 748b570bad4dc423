"""The real service in a subprocess: durability across kill -9, SIGTERM, workers, alarm, start-up checks."""

from __future__ import annotations

import signal
import time

from helpers import Writers, connect, movement, service_env, start_and_fail, stored_event_ids
from tracker.storage import manifest


def test_acknowledged_events_survive_kill_9(tracker_server):
    server = tracker_server(TRACKER_SYNC="full")
    with Writers(server.url) as writers:
        writers.wait_for(300)
        server.kill()
    assert server.process.returncode == -signal.SIGKILL
    acknowledged = set(writers.acknowledged)
    assert len(acknowledged) >= 300 and writers.errors == []

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
        with connect(path) as conn:
            found |= {row[0] for row in conn.execute("SELECT sessionId FROM sessions")}
    return found


def test_alarm_expires_idle_sessions_keeps_movements_and_touched_sessions(tracker_server, data_dir):
    server = tracker_server(workers=2, TRACKER_SESSION_TTL_SECONDS="5",
                            TRACKER_ALARM_INTERVAL_SECONDS="1")
    with server.client() as client:
        client.post("/track", json={"events": [movement(session="idle", eventId=str(i))
                                               for i in range(5)]})
        client.post("/session", json={"userId": "u2", "sessionId": "busy"})
        client.get("/movements", params={"userId": "u1"})  # a read folds what it reads
        assert sessions_in_files(data_dir) == {"idle", "busy"}
        deadline = time.monotonic() + 20
        while "idle" in sessions_in_files(data_dir) and time.monotonic() < deadline:
            client.post("/session", json={"userId": "u2", "sessionId": "busy"})
            time.sleep(0.3)
        assert sessions_in_files(data_dir) == {"busy"}
        assert len(client.get("/movements", params={"userId": "u1"}).json()["movements"]) == 5


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


def test_an_unreadable_geoip_database_refuses_to_start_with_one_line(data_dir, tmp_path):
    garbage = tmp_path / "city.mmdb"
    garbage.write_bytes(b"not a database")
    for path, says in ((tmp_path / "missing.mmdb", "cannot open GeoIP database"),
                       (garbage, "is not a MaxMind-format database")):
        result = start_and_fail(service_env(data_dir, TRACKER_GEOIP_DB=str(path)))
        assert result.returncode == 2
        assert result.stderr.strip().count("\n") == 0, result.stderr
        assert "TRACKER_GEOIP_DB: " in result.stderr and says in result.stderr
