"""Prometheus metrics: every metric defined once, the observations handlers make, GET /metrics.

Each application gets its own `Metrics` (and registry), so an in-process
app counts from zero. With several workers, prometheus-client's multiprocess
mode keeps each worker's values in files under PROMETHEUS_MULTIPROC_DIR
(see `tracker.ops.multiproc`), and a scrape sums the counters and histograms of
every worker. Gauges say how workers combine in their `multiprocess_mode`.
Shard file sizes and live sessions are read when scraped, by `ShardCollector`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable

import apsw
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client import multiprocess
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from tracker.ops import multiproc
from tracker.ops import stats
from tracker.api.auth import bearer_matches
from tracker.api.errors import CLIENT_CLOSED, ApiError, unauthorized
from tracker.storage.group_commit import CommitStats

SECONDS_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
QUERY_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
BATCH_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500)
ROWS_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000)

# Label values are bounded: anything else is reported as the fallback.
METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
TIME_RANGES = frozenset({"1h", "24h", "7d", "30d"})
INGEST_ROUTES = frozenset({("POST", "/track"), ("POST", "/session")})
REJECT_REASONS = {
    400: "malformed", 401: "unauthorized", 404: "not_found", 405: "method_not_allowed",
    409: "session_conflict", 413: "too_large", 415: "content_type", 422: "invalid",
    429: "rate_limited", 500: "internal_error", 503: "unavailable",
}


class Metrics:
    """Every metric the service records, and one method per kind of observation."""

    def __init__(self, shard_count: int):
        self.registry = CollectorRegistry()
        self._scrape_registry = self.registry
        self._queues: list = []
        self._define_http()
        self._define_ingest()
        self._define_commits(shard_count)
        self._define_alarm_and_analytics()
        self._http_children: dict[tuple[str, str, str], tuple] = {}

    def _counter(self, name: str, help_text: str, labels: Iterable[str] = ()) -> Counter:
        return Counter(name, help_text, labelnames=tuple(labels), registry=self.registry)

    def _histogram(self, name: str, help_text: str, buckets: tuple,
                   labels: Iterable[str] = ()) -> Histogram:
        return Histogram(name, help_text, labelnames=tuple(labels), buckets=buckets,
                         registry=self.registry)

    def _define_http(self) -> None:
        self.http_requests = self._counter(
            "tracker_http_requests_total",
            "HTTP requests answered, by method, route template and status class "
            "(client_closed: the client went away before its request was whole)",
            ("method", "route", "status"))
        self.http_duration = self._histogram(
            "tracker_http_request_duration_seconds",
            "Time from receiving an HTTP request to the end of its answer, by method and route",
            SECONDS_BUCKETS, ("method", "route"))
        self.ingest_rejected = self._counter(
            "tracker_ingest_rejected_total",
            "Ingest requests (POST /track, POST /session) answered with an error, by route and "
            "reason; a rejected request stores none of its events",
            ("route", "reason"))

    def _define_ingest(self) -> None:
        self.events_accepted = self._counter(
            "tracker_events_accepted_total",
            "Events in acknowledged POST /track requests, duplicates included")
        self.events_ingested = self._counter(
            "tracker_events_ingested_total",
            "Movements stored (duplicates not included)")
        self.events_duplicate = self._counter(
            "tracker_events_duplicate_total",
            "Acknowledged events not stored again because their eventId was already stored")
        self.batch_events = self._histogram(
            "tracker_track_batch_events",
            "Events per acknowledged POST /track request (its count is the number of batches)",
            BATCH_BUCKETS)
        self.sessions_created = self._counter(
            "tracker_sessions_created_total",
            "Sessions created, by POST /session or by a movement of a new session")
        self.queue_full = self._counter(
            "tracker_queue_full_total",
            "Ingest requests answered 503 because a shard writer's queue was full")

    def _define_commits(self, shard_count: int) -> None:
        commits = self._counter(
            "tracker_commits_total",
            "Group-commit transactions, by shard and outcome (committed or failed)",
            ("shard", "outcome"))
        self.commit_duration = self._histogram(
            "tracker_commit_duration_seconds",
            "Duration of one group-commit transaction, BEGIN IMMEDIATE to COMMIT",
            SECONDS_BUCKETS)
        self.commit_rows = self._histogram(
            "tracker_commit_rows",
            "Rows written per group-commit transaction (movements, and one per session job)",
            ROWS_BUCKETS)
        # Each worker has its own queue per shard: the shard's depth is their sum.
        queue_depth = Gauge(
            "tracker_queue_events",
            "Events waiting for a shard's writer, summed over live workers",
            labelnames=("shard",), multiprocess_mode="livesum", registry=self.registry)
        shards = [str(i) for i in range(shard_count)]
        self._committed = [commits.labels(s, "committed") for s in shards]
        self._failed = [commits.labels(s, "failed") for s in shards]
        self._queue_depth = [queue_depth.labels(s) for s in shards]

    def _define_alarm_and_analytics(self) -> None:
        self.sessions_expired = self._counter(
            "tracker_sessions_expired_total",
            "Idle sessions deleted by the alarm loop")
        self.movements_archived = self._counter(
            "tracker_movements_archived_total",
            "Movements moved into archive files by retention")
        self.alarm_duration = self._histogram(
            "tracker_alarm_run_duration_seconds",
            "Duration of one alarm loop pass over every shard",
            QUERY_BUCKETS)
        # The most recent success of any worker is the one that matters.
        self.alarm_last_success = Gauge(
            "tracker_alarm_last_success_timestamp_seconds",
            "Unix time of the last alarm loop pass that succeeded, the latest over workers",
            multiprocess_mode="max", registry=self.registry)
        self.analytics_duration = self._histogram(
            "tracker_analytics_query_duration_seconds",
            "Duration of a GET /analytics query, by scope (user or all) and time range "
            "(1h, 24h, 7d, 30d or custom)",
            QUERY_BUCKETS, ("scope", "range"))

    def http_request(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status_label(status))
        children = self._http_children.get(key)
        if children is None:
            children = self._http_children[key] = self._bind_http(*key)
        count, duration = children
        count.inc()
        duration.observe(seconds)
        if status >= 400 and status != CLIENT_CLOSED and (method, route) in INGEST_ROUTES:
            self.ingest_rejected.labels(route, REJECT_REASONS.get(status, str(status))).inc()

    def _bind_http(self, method: str, route: str, status_class: str) -> tuple:
        method = method if method in METHODS else "other"
        return (self.http_requests.labels(method, route, status_class),
                self.http_duration.labels(method, route))

    def track_answered(self, accepted: int, stored: int, sessions_created: int) -> None:
        self.events_accepted.inc(accepted)
        self.events_ingested.inc(stored)
        self.events_duplicate.inc(accepted - stored)
        self.batch_events.observe(accepted)
        self.sessions_created.inc(sessions_created)

    def session_opened(self, created: bool) -> None:
        if created:
            self.sessions_created.inc()

    def queue_refused(self) -> None:
        self.queue_full.inc()

    def commit(self, commit: CommitStats) -> None:
        (self._committed if commit.ok else self._failed)[commit.shard].inc()
        self.commit_duration.observe(commit.seconds)
        self.commit_rows.observe(commit.events)
        if self._queues:
            self._queue_depth[commit.shard].set(self._queues[commit.shard].queued_events)

    def alarm_ran(self, expired: int, archived: int, seconds: float, finished_at: float) -> None:
        self.sessions_expired.inc(expired)
        self.movements_archived.inc(archived)
        self.alarm_duration.observe(seconds)
        self.alarm_last_success.set(finished_at)

    def analytics_query(self, user_id: str | None, time_range: str | None, seconds: float) -> None:
        """Record one GET /analytics query; `time_range` is None for an explicit from/to window."""
        scope = "all" if user_id is None else "user"
        range_label = time_range if time_range in TIME_RANGES else "custom"
        self.analytics_duration.labels(scope, range_label).observe(seconds)

    def watch(self, writers: list, collector: Collector) -> None:
        """Follow the store's writer queues and collect its shard files at each scrape."""
        self._queues = writers
        self._scrape_registry = _scrape_registry(self.registry, collector)

    def exposition(self) -> bytes:
        for depth, writer in zip(self._queue_depth, self._queues):
            depth.set(writer.queued_events)
        return generate_latest(self._scrape_registry)


def status_label(status: int) -> str:
    """`2xx`, `4xx`, ...; a request whose client went away is `client_closed`, not an error."""
    return "client_closed" if status == CLIENT_CLOSED else f"{status // 100}xx"


class NoMetrics:
    """What handlers observe into when TRACKER_METRICS=false: every observation is dropped."""

    def http_request(self, method: str, route: str, status: int, seconds: float) -> None:
        pass

    def track_answered(self, accepted: int, stored: int, sessions_created: int) -> None:
        pass

    def session_opened(self, created: bool) -> None:
        pass

    def queue_refused(self) -> None:
        pass

    def commit(self, commit: CommitStats) -> None:
        pass

    def alarm_ran(self, expired: int, archived: int, seconds: float, finished_at: float) -> None:
        pass

    def analytics_query(self, user_id: str | None, time_range: str | None, seconds: float) -> None:
        pass

    def watch(self, writers: list, collector: Collector) -> None:
        pass


def _scrape_registry(own: CollectorRegistry, shards: Collector) -> CollectorRegistry:
    """What a scrape reads: this process's metrics, or every worker's files in multiprocess mode."""
    if multiproc.directory() is None:
        own.register(shards)
        return own
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    registry.register(shards)
    return registry


class ShardCollector(Collector):
    """Shard file and WAL sizes (os.stat) and live sessions (an index count), read at scrape time."""

    def __init__(self, paths: list[Path], connection: Callable[[int], apsw.Connection]):
        self._paths = paths
        self._connection = connection

    def describe(self) -> list[Metric]:
        return []

    def collect(self) -> Iterable[Metric]:
        files = GaugeMetricFamily("tracker_shard_file_bytes",
                                  "Size of a shard's SQLite file in bytes", labels=["shard"])
        wals = GaugeMetricFamily("tracker_shard_wal_bytes",
                                 "Size of a shard's write-ahead log in bytes", labels=["shard"])
        live = GaugeMetricFamily("tracker_sessions_live",
                                 "Sessions stored (not yet expired), by shard", labels=["shard"])
        for index, path in enumerate(self._paths):
            shard = [str(index)]
            sizes = stats.file_sizes(path)
            if sizes is not None:
                files.add_metric(shard, sizes[0])
                wals.add_metric(shard, sizes[1])
            sessions = self._sessions(index)
            if sessions is not None:
                live.add_metric(shard, sessions)
        return [files, wals, live]

    def _sessions(self, index: int) -> int | None:
        try:
            return stats.count_sessions(self._connection(index))
        except apsw.Error:
            return None  # a shard that cannot be read is reported by /readyz


async def serve_metrics(request: Request) -> Response:
    config = request.app.state.config
    if config.metrics_token and not bearer_matches(request, config.metrics_token):
        raise unauthorized()
    if not config.metrics:
        raise ApiError(404, "not_found", "metrics collection is off (TRACKER_METRICS=false)")
    body = await run_in_threadpool(request.app.state.metrics.exposition)
    return Response(body, media_type=CONTENT_TYPE_PLAIN_0_0_4)
