"""A read that cannot open or read a shard answers 503 naming it, never 500."""

from __future__ import annotations

import time

import pytest

from helpers import fold_all, movement
from tracker.storage import manifest

SHARDS = 4


def user_in_shard(shard: int) -> str:
    return next(f"u{i}" for i in range(1000) if manifest.shard_of(f"u{i}", SHARDS) == shard)


@pytest.fixture
def broken_shard(make_client, data_dir):
    """A service whose shard 1 file is gone before any read opened it."""
    client = make_client()
    user = user_in_shard(1)
    assert client.post("/track", json=movement(user=user)).status_code == 200
    client.portal.call(client.app.state.jobs.stop)
    fold_all(client)  # nothing left to fold into it: the reads below only read
    (data_dir / "shard-0001.sqlite").rename(data_dir / "moved-away.sqlite")
    return client, user


@pytest.mark.parametrize("path", ["/analytics", "/analytics?userId={user}", "/movements?userId={user}",
                                  "/users/{user}/export", "/session?sessionId=s1"])
def test_a_read_of_a_missing_shard_is_a_503_naming_it(broken_shard, path):
    client, user = broken_shard
    answer = client.get(path.format(user=user))
    assert answer.status_code == 503, answer.text
    assert answer.json() == {"error": "shard_unavailable", "detail": "shard 1 cannot be read"}
    assert answer.headers["retry-after"]


def test_reads_of_other_shards_still_answer(broken_shard):
    client, _user = broken_shard
    other = user_in_shard(2)
    client.post("/track", json=movement(user=other))
    assert client.get("/movements", params={"userId": other}).status_code == 200


def test_the_shard_reads_again_once_its_file_is_back(broken_shard, data_dir):
    client, user = broken_shard
    assert client.get("/movements", params={"userId": user}).status_code == 503
    (data_dir / "moved-away.sqlite").rename(data_dir / "shard-0001.sqlite")
    assert len(client.get("/movements", params={"userId": user}).json()["movements"]) == 1


def test_a_shard_that_cannot_fold_refuses_only_its_own_users(make_client, data_dir):
    client = make_client(TRACKER_MAX_BACKLOG="20")
    client.portal.call(client.app.state.jobs.stop)
    stuck, others = user_in_shard(1), [user_in_shard(shard) for shard in (0, 2, 3)]
    path = data_dir / "shard-0001.sqlite"
    path.rename(data_dir / "moved-away.sqlite")
    path.mkdir()  # the shard can neither be read nor folded into
    with_event_id = client.post("/track", json=movement(user=stuck, eventId="checked"))
    assert with_event_id.status_code == 503  # its duplicates cannot be checked
    assert with_event_id.json() == {"error": "shard_unavailable", "detail": "shard 1 cannot be read"}
    accepted_for_stuck = 0
    for i in range(40):
        for user in others:
            assert client.post("/track", json=movement(user=user, eventId=f"{user}-{i}")).status_code == 200
            assert client.get("/movements", params={"userId": user}).status_code == 200  # folds it
        answer = client.post("/track", json=movement(user=stuck))  # no eventId: only appended
        assert answer.status_code in (200, 503), answer.text
        accepted_for_stuck += answer.status_code == 200
    assert 0 < accepted_for_stuck < 40  # taken into the log until its shard fell too far behind
    assert answer.json()["error"] == "overloaded" and answer.headers["retry-after"]

    path.rmdir()
    (data_dir / "moved-away.sqlite").rename(path)
    answer = read_once_back(client, stuck)
    assert len(answer.json()["movements"]) == accepted_for_stuck  # nothing acknowledged was lost meanwhile


def read_once_back(client, user: str, seconds: float = 15):
    """The user's movements once the shard serves again: folding into it is retried on a
    schedule, so the first read after the file returns may still find it failing (503)."""
    deadline = time.monotonic() + seconds
    answer = client.get("/movements", params={"userId": user, "limit": 1000})
    while answer.status_code == 503 and time.monotonic() < deadline:
        time.sleep(0.2)
        answer = client.get("/movements", params={"userId": user, "limit": 1000})
    assert answer.status_code == 200, answer.text
    return answer
