"""GET /metrics in process: exact counts after a known workload, naming, the token, turning it off."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from helpers import HOUR, fold_all, metric_samples, movement, now_ms

ROOT = Path(__file__).resolve().parents[2]
METRICS_PAGE = (ROOT / "docs" / "metrics.md").read_text()
DASHBOARD = ROOT / "deploy" / "grafana-dashboard.json"


def scrape(client, **headers) -> dict[tuple, float]:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return metric_samples(response.text)


def test_known_workload_gives_exact_counts(client):
    assert client.post("/track", json={"events": [movement(eventId="a"), movement(eventId="a"),
                                                  movement(user="u2", session="s2")]}).json() \
        == {"accepted": 3, "duplicates": 1, "ignored": 0}
    client.post("/track", json=movement(eventId="a"))  # a retry: one more duplicate
    client.post("/track", json=movement(session="s3"))
    assert client.post("/session", json={"userId": "u3", "sessionId": "s4"}).json()["created"]
    client.post("/session", json={"userId": "u3", "sessionId": "s4"})  # refreshed, not created
    client.post("/track", content=b"{", headers={"Content-Type": "application/json"})
    client.post("/track", json={"events": [movement(event="")]})
    client.get("/nowhere")
    fold_all(client)  # sessions are made when the log is folded into the shards

    samples = scrape(client)
    assert samples[("tracker_events_accepted_total",)] == 5
    assert samples[("tracker_events_ingested_total",)] == 3
    assert samples[("tracker_events_duplicate_total",)] == 2
    assert samples[("tracker_track_batch_events_count",)] == 3
    assert samples[("tracker_track_batch_events_sum",)] == 5
    assert samples[("tracker_sessions_created_total",)] == 4  # s1, s2, s3 by movements; s4
    assert samples[http("POST", "/track", "2xx")] == 3
    assert samples[http("POST", "/track", "4xx")] == 2
    assert samples[http("POST", "/session", "2xx")] == 2
    assert samples[http("GET", "unmatched", "4xx")] == 1
    assert samples[("tracker_ingest_rejected_total", ("reason", "malformed"), ("route", "/track"))] == 1
    assert samples[("tracker_ingest_rejected_total", ("reason", "invalid"), ("route", "/track"))] == 1
    assert samples[("tracker_http_request_duration_seconds_count", ("method", "POST"),
                    ("route", "/track"))] == 5
    commits = sum(v for k, v in samples.items()
                  if k[0] == "tracker_commits_total" and ("outcome", "committed") in k)
    assert commits == samples[("tracker_commit_duration_seconds_count",)] >= 3
    assert sum(v for k, v in samples.items() if k[0] == "tracker_sessions_live") == 4


def http(method: str, route: str, status: str) -> tuple:
    return ("tracker_http_requests_total", ("method", method), ("route", route), ("status", status))


ROUTES = [("POST", "/track"), ("POST", "/session"), ("GET", "/session"), ("GET", "/movements"),
          ("GET", "/analytics"), ("GET", "/users/{userId}/export"), ("DELETE", "/users/{userId}"),
          ("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/tracker.js"), ("GET", "/metrics"),
          ("GET", "/openapi.json")]
INGEST_REASONS = ["malformed", "invalid", "too_large", "content_type", "rate_limited",
                  "unavailable", "internal_error"]


def rejected(route: str, reason: str) -> tuple:
    return ("tracker_ingest_rejected_total", ("reason", reason), ("route", route))


def test_a_fresh_service_shows_every_known_label_set_at_zero(client):
    samples = scrape(client)  # the first request: nothing counted yet
    for method, route in ROUTES:
        for status in ("2xx", "4xx", "5xx"):
            assert samples[http(method, route, status)] == 0, (method, route, status)
    for reason in INGEST_REASONS:
        assert samples[rejected("/track", reason)] == 0, reason
        assert samples[rejected("/session", reason)] == 0, reason
    assert samples[rejected("/session", "session_conflict")] == 0
    for shard in range(4):
        assert samples[("tracker_commits_total", ("outcome", "failed"), ("shard", str(shard)))] == 0
    for job in client.app.state.jobs.jobs:
        assert samples[("tracker_job_failures_total", ("job", job))] == 0, job
    assert not any(key[0] == "tracker_http_requests_total" and ("route", "unmatched") in key
                   for key in samples)


def test_rate_limited_ingest_is_counted_under_its_route(make_client):
    client = make_client(TRACKER_RATE_LIMIT="1", TRACKER_RATE_BURST="1")
    assert client.post("/track", json=movement()).status_code == 200
    assert client.post("/track", json=movement()).status_code == 429
    samples = scrape(client)
    assert samples[rejected("/track", "rate_limited")] == 1
    assert samples[http("POST", "/track", "4xx")] == 1


def test_shard_file_sizes_are_read_at_scrape_time(client):
    client.post("/track", json=movement())
    client.get("/stats")  # folds every shard now, so that no fold changes a file meanwhile
    samples = scrape(client)
    for index, path in enumerate([f.path for f in client.app.state.store.files(0)]):
        wal = path.with_name(path.name + "-wal")
        assert samples[("tracker_shard_file_bytes", ("shard", str(index)))] == path.stat().st_size
        assert samples[("tracker_shard_wal_bytes", ("shard", str(index)))] == wal.stat().st_size


def test_session_expiry_counts_expired_sessions_and_its_last_success(make_client):
    client = make_client(TRACKER_SESSION_TTL_SECONDS="60")
    old = now_ms() - HOUR
    client.post("/track", json={"events": [movement(session=f"old{i}", timestamp=old)
                                           for i in range(3)]})
    client.post("/track", json=movement(session="fresh"))
    before = time.time()
    assert client.portal.call(client.app.state.jobs.run, "expire_sessions") == 3
    samples = scrape(client)
    job = ("job", "expire_sessions")
    assert samples[("tracker_sessions_expired_total",)] == 3
    assert samples[("tracker_job_duration_seconds_count", job)] == 2  # start-up run, ours
    assert before <= samples[("tracker_job_last_success_timestamp_seconds", job)] <= time.time()


ANALYTICS_COUNT = "tracker_analytics_query_duration_seconds_count"


def analytics_counts(client) -> dict[tuple[str, str], float]:
    """{(scope, range): queries observed} from a /metrics scrape."""
    counts = {}
    for (name, *labels), value in scrape(client).items():
        if name == ANALYTICS_COUNT:
            label = dict(labels)
            counts[label["scope"], label["range"]] = value
    return counts


def test_analytics_requests_are_timed_by_scope_and_range(client):
    client.post("/track", json={"events": [movement(), movement(user="u2", session="s2")]})
    before = analytics_counts(client)
    now = now_ms()
    queries = [
        ({}, ("all", "24h")),
        ({"timeRange": "7d", "userId": "u1"}, ("user", "7d")),
        ({"timeRange": "1h"}, ("all", "1h")),
        ({"from": now - HOUR, "to": now, "userId": "u2"}, ("user", "custom")),
        ({"from": now - HOUR, "to": now, "userId": "u1"}, ("user", "custom")),
    ]
    for query, _labels in queries:
        assert client.get("/analytics", params=query).status_code == 200
    assert client.get("/analytics", params={"timeRange": "2h"}).status_code == 422  # not a query
    after = analytics_counts(client)
    grown = {labels: after[labels] - before.get(labels, 0) for labels in after}
    assert {labels: n for labels, n in grown.items() if n} == Counter(labels for _, labels in queries)


def test_full_queue_is_counted_and_queue_depth_shown(make_client):
    client = make_client(TRACKER_QUEUE_LIMIT="5", TRACKER_SHARDS="1")
    deadline = time.monotonic() + 10
    while not all(scrape(client).get(("tracker_job_duration_seconds_count", ("job", job)))
                  for job in client.app.state.jobs.jobs):  # their start-up runs are done
        assert time.monotonic() < deadline
        time.sleep(0.01)
    writer = client.app.state.store.log.writer
    release = threading.Event()
    client.portal.call(_submit, writer, lambda conn: release.wait(10), 1)
    while writer.queued_events:  # the writer has taken the blocking job
        time.sleep(0.01)
    client.portal.call(_submit, writer, lambda conn: None, 5)
    try:
        assert client.post("/track", json={"events": [movement()] * 3}).status_code == 503
        samples = scrape(client)
    finally:
        release.set()
    assert samples[("tracker_queue_events", ("shard", "log"))] == 5
    assert samples[("tracker_queue_full_total",)] == 1
    assert samples[("tracker_ingest_rejected_total", ("reason", "unavailable"), ("route", "/track"))] == 1
    assert samples[http("POST", "/track", "5xx")] == 1


async def _submit(writer, work, weight):
    writer.submit(writer.file, work, weight)


def test_metrics_token_is_required_when_set(make_client):
    client = make_client(TRACKER_METRICS_TOKEN="scrape-secret")
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic scrape-secret"}):
        response = client.get("/metrics", headers=headers)
        assert response.status_code == 401
        assert response.json()["error"] == "unauthorized"
    scrape(client, Authorization="Bearer scrape-secret")


def test_metrics_off_answers_404_and_ingest_still_works(make_client):
    client = make_client(TRACKER_METRICS="false")
    assert client.post("/track", json=movement()).json() == {"accepted": 1, "duplicates": 0, "ignored": 0}
    response = client.get("/metrics")
    assert response.status_code == 404 and response.json()["error"] == "not_found"


def registered_families(client) -> list:
    families = list(client.app.state.metrics.registry.collect())
    assert {f.name for f in families} >= {"tracker_events_ingested", "tracker_shard_file_bytes"}
    return families


def test_every_metric_has_help_and_follows_naming_rules(client):
    for family in registered_families(client):
        name = family.name + ("_total" if family.type == "counter" else "")
        assert re.fullmatch(r"tracker_[a-z][a-z0-9_]*[a-z0-9]", name), name
        assert len(family.documentation) > 10, name
        assert (family.type == "counter") == name.endswith("_total"), name
        assert not re.search(r"_(ms|milliseconds|kb|mb|count|sum|bucket)$", name), name
        if "duration" in name or "time" in name:
            assert re.search(r"_seconds(_total)?$", name), name
        if "size" in name or "bytes" in name:
            assert name.endswith("_bytes"), name


@pytest.mark.skipif(shutil.which("promtool") is None,
                    reason="promtool is missing: apt-get install prometheus "
                           "(make test does it when run as root)")
def test_promtool_accepts_the_metrics(client):
    client.post("/track", json=movement())
    client.get("/analytics", params={"timeRange": "1h", "userId": "u1"})
    text = client.get("/metrics").text
    result = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                            text=True, timeout=30)
    assert result.returncode == 0 and result.stdout + result.stderr == "", result.stdout + result.stderr


def test_every_metric_is_on_the_metrics_page(client):
    for family in registered_families(client):
        name = family.name + ("_total" if family.type == "counter" else "")
        assert f"| `{name}` |" in METRICS_PAGE, name


def test_dashboard_imports_with_a_datasource_input_and_names_real_metrics(client):
    dashboard = json.loads(DASHBOARD.read_text())
    assert [i["name"] for i in dashboard["__inputs"]] == ["DS_PROMETHEUS"]
    names = {f.name for f in registered_families(client)}
    panels = dashboard["panels"]
    assert len(panels) >= 6
    for panel in panels:
        assert panel["datasource"]["uid"] == "${DS_PROMETHEUS}"
        for target in panel["targets"]:
            used = set(re.findall(r"tracker_[a-z0-9_]+", target["expr"]))
            assert used and all(re.sub(r"_(total|bucket|sum|count)$", "", n) in names
                                for n in used), target["expr"]
