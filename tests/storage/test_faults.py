"""One bad shard: the others keep working, the bad one answers 503 and recovers without a restart."""

from __future__ import annotations

import os
import subprocess
import sys

from helpers import connect, movement, service_env
from tracker.storage import manifest


def user_in_shard(index: int, shards: int = 4) -> str:
    return next(f"user-{i}" for i in range(10_000) if manifest.shard_of(f"user-{i}", shards) == index)


def test_an_unwritable_shard_fails_alone_and_recovers_once_fixed(tracker_server, data_dir):
    server = tracker_server(TRACKER_SYNC="full")
    users = [user_in_shard(i) for i in range(4)]
    bad = data_dir / "shard-0001.sqlite"
    aside = data_dir / "shard-0001.aside"
    with server.client() as client:
        for user in users:
            assert client.post("/track", json=movement(user=user, eventId="before")).status_code == 200

        os.rename(bad, aside)
        bad.mkdir()  # root ignores permissions; a directory in its place fails for anyone
        # The other shards' users go on; shard 1's cannot have their eventIds checked.
        for user in (users[0], users[2], users[3]):
            assert client.post("/track", json=movement(user=user, eventId="during")).status_code == 200
        refused = client.post("/track", json=movement(user=users[1], eventId="during"))
        assert refused.status_code == 503
        assert refused.json() == {"error": "shard_unavailable", "detail": "shard 1 cannot be read"}
        failed = client.get("/movements", params={"userId": users[1]})  # folds shard 1 first
        assert failed.status_code == 503
        assert failed.json() == {"error": "shard_unavailable", "detail": "shard 1 cannot be written"}
        assert int(failed.headers["Retry-After"]) > 0
        for user in (users[0], users[2], users[3]):
            assert client.get("/movements", params={"userId": user}).status_code == 200
        ready = client.get("/readyz")
        assert ready.status_code == 503 and "shard-0001.sqlite" in ready.text

        bad.rmdir()
        os.rename(aside, bad)
        retried = client.post("/track", json=movement(user=users[1], eventId="during"))
        assert retried.status_code == 200 and retried.json()["duplicates"] == 0  # refused before
        assert client.get("/readyz").status_code == 200
        for user in users:
            stored = client.get("/movements", params={"userId": user}).json()["movements"]
            assert sorted(m["eventId"] for m in stored) == ["before", "during"]


def test_a_damaged_shard_stops_start_up_naming_the_file(tracker_server, data_dir):
    tracker_server().stop()
    damaged = data_dir / "shard-0002.sqlite"
    with connect(damaged) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    content = bytearray(damaged.read_bytes())
    content[4096:8192] = b"\xa5" * 4096
    damaged.write_bytes(bytes(content))
    result = subprocess.run([sys.executable, "-m", "tracker", "serve", "--port", "1"],
                            env={**os.environ, **service_env(data_dir)},
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    line = result.stderr.strip()
    assert "\n" not in line
    assert str(damaged) in line and "tracker check" in line and "tracker restore" in line
