"""GET /funnels: its parameters and its token."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from helpers import HOUR

BAD_PARAMETERS = [
    {"step": ["signup"]},
    {"step": [f"e{i}" for i in range(9)]},
    {"step": ["a", "b"], "within": "0"},
    {"step": ["a", "b"], "within": "abc"},
    {"step": ["a", "b"], "within": str(400 * 24 * HOUR + 1)},
    {"step": ["a", "b"], "by": "foo"},
    {"step": ["a", "b"], "filter": "planet:Mars"},
    {"step": ["a", "page:"]},
    {"step": ["a", "b"], "timeRange": "2y"},
]


@pytest.mark.parametrize("params", BAD_PARAMETERS,
                         ids=[urlencode(p, doseq=True) for p in BAD_PARAMETERS])
def test_bad_parameters_are_422_with_an_error_and_a_detail(web_client, params):
    response = web_client.get("/funnels", params=params)
    assert response.status_code == 422, response.text
    body = response.json()
    assert isinstance(body["error"], str) and body["error"]
    assert isinstance(body["detail"], str) and body["detail"]


def test_funnels_need_the_read_token(web_client):
    response = web_client.get("/funnels?step=a&step=b", headers={"Authorization": "Bearer wrong"})
    assert response.status_code == 401 and response.json()["error"] == "unauthorized"
