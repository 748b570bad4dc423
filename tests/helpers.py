"""Helpers shared by the tests."""

from __future__ import annotations

import socket
from pathlib import Path

TOKEN = "test-read-token"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def service_env(data_dir: Path, **overrides: str) -> dict[str, str]:
    """Settings for a test service: its own data dir, no rate limit, a known token."""
    env = {
        "TRACKER_DATA_DIR": str(data_dir),
        "TRACKER_SHARDS": "4",
        "TRACKER_READ_TOKEN": TOKEN,
        "TRACKER_RATE_LIMIT": "0",
        "TRACKER_SYNC": "normal",
    }
    env.update(overrides)
    return env


def movement(user: str = "u1", session: str = "s1", event: str = "click", **fields) -> dict:
    return {"userId": user, "sessionId": session, "event": event, **fields}


def same_shard_user(store, user: str) -> str:
    """Another user id that hashes to the same shard as `user`."""
    return next(f"{user}-{i}" for i in range(10_000)
                if store.shard_of(f"{user}-{i}") == store.shard_of(user))


def metric_samples(text: str) -> dict[tuple, float]:
    """A /metrics answer as {(sample name, (label, value), ...): value}."""
    from prometheus_client.parser import text_string_to_metric_families

    return {(s.name, *sorted(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}
