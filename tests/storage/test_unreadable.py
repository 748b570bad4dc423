"""A read that cannot open or read a shard answers 503 naming it, never 500."""

from __future__ import annotations

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
