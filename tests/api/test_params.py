"""The read endpoints' query parameters, one row a case."""

from __future__ import annotations

import pytest

from rule_table import check_rule, get

CASES = [
    # name, request, status, error code
    ("read sessionId missing", get("/session"), 422, "invalid_field"),
    ("read sessionId 129 characters", get("/session?sessionId=" + "s" * 129), 422, "invalid_field"),
    ("read sessionId control character", get("/session?sessionId=a%07b"), 422, "invalid_field"),
    ("read userId missing", get("/movements"), 422, "invalid_field"),
    ("read userId empty", get("/movements?userId="), 422, "invalid_field"),
    ("read limit 0", get("/movements?userId=u1&limit=0"), 422, "invalid_field"),
    ("read limit 1001", get("/movements?userId=u1&limit=1001"), 422, "invalid_field"),
    ("read limit not an integer", get("/movements?userId=u1&limit=ten"), 422, "invalid_field"),
    ("read from negative", get("/movements?userId=u1&from=-1"), 422, "invalid_field"),
    ("read cursor not ours", get("/movements?userId=u1&cursor=%%%"), 422, "invalid_field"),
    ("read event 65 characters", get("/movements?userId=u1&event=" + "e" * 65), 422, "invalid_field"),
]


@pytest.mark.parametrize("name, request_, status, code", CASES, ids=[c[0] for c in CASES])
def test_rule(table_client, name, request_, status, code):
    check_rule(table_client, request_, status, code)
