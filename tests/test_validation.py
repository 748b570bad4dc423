"""Every rule of the contract's "Identifiers and limits" and "Errors": one row a case."""

from __future__ import annotations

import json
import time

import pytest

from helpers import movement

MINUTE = 60_000
DAY = 24 * 60 * MINUTE


class FromNow(int):
    """A timestamp this many ms from the moment the request is sent, not from collection."""


def resolve(value):
    if isinstance(value, dict):
        return {k: resolve(v) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v) for v in value]
    return int(time.time() * 1000) + value if isinstance(value, FromNow) else value


def track(**fields):
    return ("POST", "/track", {**movement(), **fields})


def batch(events):
    return ("POST", "/track", {"events": events})


def session(**fields):
    return ("POST", "/session", {"userId": "u1", "sessionId": "s1", **fields})


CASES = [
    # name, request, status, error code
    ("userId 128 characters", track(userId="u" * 128), 200, None),
    ("userId 128 code points beyond the BMP", track(userId="\U0001F600" * 128), 200, None),
    ("userId 129 characters", track(userId="u" * 129), 422, "invalid_field"),
    ("userId empty", track(userId=""), 422, "invalid_field"),
    ("userId control character", track(userId="a\u0007b"), 422, "invalid_field"),
    ("userId C1 control character", track(userId="a\u0085b"), 422, "invalid_field"),
    ("userId not a string", track(userId=12), 422, "invalid_field"),
    ("userId null", track(userId=None), 422, "invalid_field"),
    ("sessionId 129 characters", track(sessionId="s" * 129), 422, "invalid_field"),
    ("sessionId empty", track(sessionId=""), 422, "invalid_field"),
    ("sessionId control character", track(sessionId="s\n"), 422, "invalid_field"),
    ("event 64 characters", track(event="e" * 64), 200, None),
    ("event 65 characters", track(event="e" * 65), 422, "invalid_field"),
    ("event empty", track(event=""), 422, "invalid_field"),
    ("event control character", track(event="\x7fclick"), 422, "invalid_field"),
    ("eventId 64 characters", track(eventId="i" * 64), 200, None),
    ("eventId 65 characters", track(eventId="i" * 65), 422, "invalid_field"),
    ("eventId empty", track(eventId=""), 422, "invalid_field"),
    ("eventId control character", track(eventId="a\tb"), 422, "invalid_field"),
    ("eventId null is absent", track(eventId=None), 200, None),
    ("timestamp absent", track(), 200, None),
    ("timestamp null is absent", track(timestamp=None), 200, None),
    ("timestamp 9 minutes ahead", track(timestamp=FromNow(9 * MINUTE)), 200, None),
    ("timestamp 11 minutes ahead", track(timestamp=FromNow(11 * MINUTE)), 422, "invalid_field"),
    ("timestamp 29 days ago", track(timestamp=FromNow(-29 * DAY)), 200, None),
    ("timestamp 31 days ago", track(timestamp=FromNow(-31 * DAY)), 422, "invalid_field"),
    ("timestamp not an integer", track(timestamp=1.5), 422, "invalid_field"),
    ("timestamp a string", track(timestamp="1700000000000"), 422, "invalid_field"),
    ("timestamp negative", track(timestamp=-1), 422, "invalid_field"),
    ("timestamp huge", ("POST", "/track", '{"userId":"u","sessionId":"s","event":"e","timestamp":1' + "0" * 40 + "}"), 422, "invalid_field"),
    ("data an object", track(data={"path": "/", "n": [1, 2]}), 200, None),
    ("data null is absent", track(data=None), 200, None),
    ("data an array", track(data=[1]), 422, "invalid_field"),
    ("data a string", track(data="x"), 422, "invalid_field"),
    ("data 16 KiB encoded", track(data={"k": "x" * (16 * 1024 - 8)}), 200, None),
    ("data over 16 KiB encoded", track(data={"k": "x" * (16 * 1024)}), 422, "invalid_field"),
    ("unknown fields ignored", track(browser="new-client"), 200, None),
    ("batch of 500", batch([movement()] * 500), 200, None),
    ("batch of 501", batch([movement()] * 501), 422, "invalid_field"),
    ("batch empty", batch([]), 422, "invalid_field"),
    ("batch not a list", ("POST", "/track", '{"events": {"a": 1}}'), 422, "invalid_field"),
    ("batch event not an object", batch([1]), 422, "invalid_field"),
    ("body over 1 MiB", batch([movement(data={"k": "x" * 15000})] * 80), 413, "body_too_large"),
    ("malformed JSON", ("POST", "/track", '{"userId": '), 400, "malformed_json"),
    ("empty body", ("POST", "/track", ""), 400, "malformed_json"),
    ("body an array", ("POST", "/track", "[]"), 400, "not_an_object"),
    ("body a number", ("POST", "/track", "12"), 400, "not_an_object"),
    ("deeply nested data", ("POST", "/track", '{"data":' + "[" * 100_000 + "]" * 100_000 + "}"), 400, "malformed_json"),
    ("session minimal", session(), 200, None),
    ("session deviceInfo object", session(deviceInfo={"screen": "1x1"}), 200, None),
    ("session deviceInfo null is absent", session(deviceInfo=None), 200, None),
    ("session deviceInfo an array", session(deviceInfo=[]), 422, "invalid_field"),
    ("session deviceInfo over 16 KiB", session(deviceInfo={"k": "x" * (16 * 1024)}), 422, "invalid_field"),
    ("session userId 129 characters", session(userId="u" * 129), 422, "invalid_field"),
    ("session sessionId control character", session(sessionId="\x00"), 422, "invalid_field"),
    ("session body an array", ("POST", "/session", "[1]"), 400, "not_an_object"),
    ("session malformed JSON", ("POST", "/session", "{"), 400, "malformed_json"),
    ("wrong method", ("PUT", "/track", "{}"), 405, "method_not_allowed"),
    ("unknown path", ("GET", "/nowhere", None), 404, "not_found"),
]


@pytest.mark.parametrize("name, request_, status, code", CASES, ids=[c[0] for c in CASES])
def test_rule(client, name, request_, status, code):
    method, path, body = request_
    if isinstance(body, dict):
        body = json.dumps(resolve(body))
    response = client.request(method, path, content=body,
                              headers={"Content-Type": "application/json"})
    assert response.status_code == status, response.text
    if code is not None:
        assert response.json()["error"] == code
        assert response.headers["content-type"] == "application/json"


@pytest.mark.parametrize("content_type", ["application/xml", "multipart/form-data",
                                          "application/x-www-form-urlencoded"])
def test_other_content_types_are_415(client, content_type):
    response = client.post("/track", content=json.dumps(movement()),
                           headers={"Content-Type": content_type})
    assert response.status_code == 415 and response.json()["error"] == "unsupported_media_type"


def test_error_detail_names_the_batch_index_and_field(client):
    events = [movement(), movement(), movement(timestamp=1)]
    detail = client.post("/track", json={"events": events}).json()["detail"]
    assert "$.events[2].timestamp" in detail


def test_body_announced_over_limit_is_refused_before_reading(client):
    response = client.post("/track", content=b"{}",
                           headers={"Content-Type": "application/json",
                                    "Content-Length": str(2 * 1024 * 1024)})
    assert response.status_code == 413
