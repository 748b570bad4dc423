"""GET /stats and GET /breakdown: their parameters and their token."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

BAD_PARAMETERS = [
    ("/stats", {"filter": "planet:Mars"}),
    ("/breakdown", {"by": "source", "filter": "planet:Mars"}),
    ("/stats", {"filter": "country"}),
    ("/breakdown", {"by": "planet"}),
    ("/breakdown", {}),
    ("/breakdown", {"by": "prop:plan"}),
    ("/breakdown", {"by": "source", "limit": "0"}),
    ("/breakdown", {"by": "source", "limit": "1001"}),
    ("/breakdown", {"by": "source", "limit": "ten"}),
    ("/stats", {"tz": "Mars/Olympus"}),
    ("/stats", {"timeRange": "1h", "from": "1", "to": "2"}),
]


@pytest.mark.parametrize("path, params", BAD_PARAMETERS,
                         ids=[f"{path}?{urlencode(params)}" for path, params in BAD_PARAMETERS])
def test_bad_parameters_are_422_with_an_error_and_a_detail(web_client, path, params):
    response = web_client.get(path, params=params)
    assert response.status_code == 422, response.text
    body = response.json()
    assert isinstance(body["error"], str) and body["error"]
    assert isinstance(body["detail"], str) and body["detail"]


@pytest.mark.parametrize("path", ["/stats", "/breakdown?by=source"])
def test_web_analytics_need_the_read_token(web_client, path):
    response = web_client.get(path, headers={"Authorization": "Bearer wrong"})
    assert response.status_code == 401 and response.json()["error"] == "unauthorized"
