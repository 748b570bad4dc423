"""Fuzzing: schema-driven requests against the live service, random JSON at the ingest endpoints."""

from __future__ import annotations

import json

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from helpers import TOKEN
from tracker.api.ops import CLIENT_JS
from tracker.app import ROUTES

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
EXAMPLES_PER_OPERATION = 30
FUZZ = settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
                suppress_health_check=list(HealthCheck))


# Answers that never end (a live stream) cannot be read whole: tests/api/test_live.py covers them.
ENDLESS = {("/live", "get")}


def served_operations(schema) -> list:
    """The described operations this build serves (the others answer 404 until they exist)."""
    routed = {(route.path, method.lower()) for route in ROUTES for method in route.methods or ()}
    routed -= ENDLESS
    if not CLIENT_JS.exists():
        routed.discard(("/tracker.js", "get"))
    operations = [result.ok() for result in schema.get_all_operations()]
    return [op for op in operations if (op.path, op.method.lower()) in routed]


def test_schema_driven_requests_get_described_answers_and_never_5xx(tracker_server):
    server = tracker_server()
    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
    operations = served_operations(schema)
    assert {op.path for op in operations} >= {"/track", "/session", "/movements", "/healthz"}
    for operation in operations:
        @FUZZ
        @given(case=operation.as_strategy())
        def check(case) -> None:
            case.call_and_validate(headers={"Authorization": f"Bearer {TOKEN}"}, checks=CHECKS,
                                   timeout=30)

        check()
    with server.client() as http:
        assert http.get("/healthz").status_code == 200


JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=80)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=5),
    max_leaves=20,
)
FIELDS = ["userId", "sessionId", "event", "timestamp", "data", "eventId", "deviceInfo", "events"]
# Objects with the real field names reach validation far more often than arbitrary JSON.
LIKELY_BODIES = st.dictionaries(st.sampled_from(FIELDS), JSON_VALUES, max_size=len(FIELDS))
MOVEMENT_LIKE = st.fixed_dictionaries(
    {"userId": st.text(max_size=130), "sessionId": st.text(max_size=130), "event": st.text(max_size=66)},
    optional={"timestamp": JSON_VALUES, "data": JSON_VALUES, "eventId": JSON_VALUES},
)
BODIES = JSON_VALUES | LIKELY_BODIES | MOVEMENT_LIKE | st.builds(
    lambda events: {"events": events}, st.lists(MOVEMENT_LIKE | JSON_VALUES, max_size=4))

ENCODED = BODIES.map(lambda value: json.dumps(value, ensure_ascii=False).encode())
# Bytes spliced into encoded JSON: broken syntax, and strings that are not UTF-8.
CORRUPTED = st.builds(lambda body, where, junk: _splice(body, int(where * len(body)), junk),
                      ENCODED, st.floats(0, 1),
                      st.binary(min_size=1, max_size=4) | st.integers(0x80, 0xFF).map(lambda b: bytes([b])))



def _splice(body: bytes, at: int, junk: bytes) -> bytes:
    return body[:at] + junk + body[at:]


@settings(max_examples=200, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(path=st.sampled_from(["/track", "/session"]), body=ENCODED | CORRUPTED)
def test_random_json_gets_200_or_4xx_never_5xx(client, path, body):
    answer = client.post(path, content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 200 or 400 <= answer.status_code < 500, answer.text
    if answer.status_code != 200:
        assert set(answer.json()) == {"error", "detail"}
    assert client.get("/healthz").status_code == 200
