"""The app: POST /track's short path, ahead of Starlette's router, answers as the router's would."""

from __future__ import annotations

from starlette.testclient import TestClient

from helpers import TOKEN, logged, metric_samples, movement, service_env
from tracker.api import track
from tracker.app import create_app
from tracker.config import Config


def broken_clock() -> int:
    raise RuntimeError("the clock broke")


def test_an_unexpected_error_on_track_is_a_logged_and_counted_json_500(data_dir, monkeypatch):
    config = Config.from_env(service_env(data_dir))
    app = create_app(config)
    with TestClient(app, raise_server_exceptions=False,
                    headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        monkeypatch.setattr(track, "now_ms", broken_clock)
        with logged("tracker.errors") as lines:
            answer = client.post("/track", json=movement(), headers={"Origin": "https://a.example"})
        monkeypatch.undo()
        again = client.post("/track", json=movement(eventId="e2"))
        samples = metric_samples(client.get("/metrics").text)
    assert answer.status_code == 500
    assert answer.json() == {"error": "internal_error",
                             "detail": "unexpected error; it has been logged"}
    assert answer.headers["access-control-allow-origin"] == "*"  # the client sees the error
    assert lines == ["unexpected error on POST /track"]
    assert again.status_code == 200 and again.json()["accepted"] == 1
    assert samples[("tracker_http_requests_total", ("method", "POST"), ("route", "/track"),
                    ("status", "5xx"))] == 1
    assert samples[("tracker_ingest_rejected_total", ("reason", "internal_error"),
                    ("route", "/track"))] == 1
