"""A table of request rules, one row a case: the request, the status and the error code it gets.

The rows of the contract's "Identifiers and limits" and "Errors" live beside the tests of the
module that enforces each (tests/test_schemas.py, tests/api/test_body.py, ...); each such module
checks its rows against one service, the `table_client` fixture.
"""

from __future__ import annotations

import json

from helpers import movement, now_ms


class FromNow(int):
    """A timestamp this many ms from the moment the request is sent, not from collection."""


def resolve(value):
    if isinstance(value, dict):
        return {k: resolve(v) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v) for v in value]
    return now_ms() + value if isinstance(value, FromNow) else value


def track(**fields):
    return ("POST", "/track", {**movement(), **fields})


def batch(events):
    return ("POST", "/track", {"events": events})


def session(**fields):
    return ("POST", "/session", {"userId": "u1", "sessionId": "s1", **fields})


def without(field: str):
    return ("POST", "/track", {k: v for k, v in movement().items() if k != field})


def get(path: str, **headers: str):
    return ("GET", path, None, headers)


def padded_to(size: int) -> tuple:
    """A valid body of exactly `size` bytes (trailing whitespace is valid JSON)."""
    body = json.dumps(movement())
    return ("POST", "/track", body + " " * (size - len(body)))


def check_rule(client, request_: tuple, status: int, code: str | None) -> None:
    """Sends the row's request; its answer must have the row's status and error code."""
    method, path, body, *extra = request_
    if isinstance(body, dict):
        body = json.dumps(resolve(body))
    headers = {"Content-Type": "application/json", **(extra[0] if extra else {})}
    response = client.request(method, path, content=body, headers=headers)
    assert response.status_code == status, response.text
    if code is not None:
        assert response.json()["error"] == code
        assert response.headers["content-type"] == "application/json"
