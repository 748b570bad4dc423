"""The request Structs' rules: identifiers, timestamps, data, batches and sessions, one row a case."""

from __future__ import annotations

import pytest

from helpers import DAY, MINUTE, movement
from rule_table import FromNow, batch, check_rule, session, track, without

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
    ("userId missing", without("userId"), 422, "invalid_field"),
    ("sessionId 128 characters", track(sessionId="s" * 128), 200, None),
    ("sessionId missing", without("sessionId"), 422, "invalid_field"),
    ("sessionId not a string", track(sessionId=["s"]), 422, "invalid_field"),
    ("sessionId 129 characters", track(sessionId="s" * 129), 422, "invalid_field"),
    ("sessionId empty", track(sessionId=""), 422, "invalid_field"),
    ("sessionId control character", track(sessionId="s\n"), 422, "invalid_field"),
    ("event 64 characters", track(event="e" * 64), 200, None),
    ("event 65 characters", track(event="e" * 65), 422, "invalid_field"),
    ("event empty", track(event=""), 422, "invalid_field"),
    ("event control character", track(event="\x7fclick"), 422, "invalid_field"),
    ("event missing", without("event"), 422, "invalid_field"),
    ("event not a string", track(event=True), 422, "invalid_field"),
    ("event 64 code points beyond the BMP", track(event="\U0001F600" * 64), 200, None),
    ("eventId 64 characters", track(eventId="i" * 64), 200, None),
    ("eventId 65 characters", track(eventId="i" * 65), 422, "invalid_field"),
    ("eventId empty", track(eventId=""), 422, "invalid_field"),
    ("eventId control character", track(eventId="a\tb"), 422, "invalid_field"),
    ("eventId null is absent", track(eventId=None), 200, None),
    ("eventId not a string", track(eventId=7), 422, "invalid_field"),
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
    ("data 16 KiB counted encoded, not in characters", track(data={"k": "\u00e9" * 8200}), 422, "invalid_field"),
    ("data with a number too large", ("POST", "/track", '{"userId":"u","sessionId":"s","event":"e","data":{"n":1e400}}'), 422, "invalid_field"),
    ("data with an integer too large", ("POST", "/track", '{"userId":"u","sessionId":"s","event":"e","data":{"n":1' + "0" * 5000 + "}}"), 422, "invalid_field"),
    ("unknown fields ignored", track(browser="new-client"), 200, None),
    ("batch of 500", batch([movement()] * 500), 200, None),
    ("batch of 501", batch([movement()] * 501), 422, "invalid_field"),
    ("batch empty", batch([]), 422, "invalid_field"),
    ("batch not a list", ("POST", "/track", '{"events": {"a": 1}}'), 422, "invalid_field"),
    ("batch event not an object", batch([1]), 422, "invalid_field"),
    ("batch event null", batch([None]), 422, "invalid_field"),
    ("session minimal", session(), 200, None),
    ("session deviceInfo object", session(deviceInfo={"screen": "1x1"}), 200, None),
    ("session deviceInfo null is absent", session(deviceInfo=None), 200, None),
    ("session deviceInfo an array", session(deviceInfo=[]), 422, "invalid_field"),
    ("session deviceInfo 16 KiB", session(deviceInfo={"k": "x" * (16 * 1024 - 8)}), 200, None),
    ("session deviceInfo over 16 KiB", session(deviceInfo={"k": "x" * (16 * 1024)}), 422, "invalid_field"),
    ("session userId missing", ("POST", "/session", '{"sessionId": "s1"}'), 422, "invalid_field"),
    ("session userId 129 characters", session(userId="u" * 129), 422, "invalid_field"),
    ("session sessionId control character", session(sessionId="\x00"), 422, "invalid_field"),
]


@pytest.mark.parametrize("name, request_, status, code", CASES, ids=[c[0] for c in CASES])
def test_rule(table_client, name, request_, status, code):
    check_rule(table_client, request_, status, code)
