"""Prometheus metrics: every metric defined once, the observations handlers make, GET /metrics.

Each application gets its own `Metrics` (and registry), so an in-process
app counts from zero. With several workers, prometheus-client's multiprocess
mode keeps each worker's values in files under PROMETHEUS_MULTIPROC_DIR
(see `tracker.ops.multiproc`), and a scrape sums the counters and histograms of
every worker. Gauges say how workers combine in their `multiprocess_mode`.
Shard file sizes and live sessions are read when scraped, by `ShardCollector`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import apsw
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.routing import BaseRoute, Route

from tracker.ops import multiproc, shard_stats
from tracker.storage.connections import Role
from tracker.storage.group_commit import LOG_LABEL, CommitStats, GroupCommit
from tracker.storage.shard_file import ShardFile

SECONDS_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
QUERY_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
BATCH_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500)
ROWS_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000)

# Label values are bounded: anything else is reported as the fallback.
METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
TIME_RANGES = frozenset({"1h", "24h", "7d", "30d"})
# nginx's status for "the client closed the connection before the answer". It
# is never sent (nobody is there to read it); the request metrics and the
# access log see it, so a client hanging up is not counted as the service's error.
CLIENT_CLOSED = 499

INGEST_ROUTES = frozenset({("POST", "/track"), ("POST", "/session")})
REJECT_REASONS = {
    400: "malformed", 401: "unauthorized", 404: "not_found", 405: "method_not_allowed",
    409: "session_conflict", 413: "too_large", 415: "content_type", 422: "invalid",
    429: "rate_limited", 500: "internal_error", 503: "unavailable",
}
# Created at zero at start-up, so that rate() sees the first of each: the
# status classes every route answers, and the errors each ingest route can give.
STATUS_CLASSES = ("2xx", "4xx", "5xx")
INGEST_ERRORS = {
    "/track": (400, 413, 415, 422, 429, 500, 503),
    "/session": (400, 409, 413, 415, 422, 429, 500, 503),
}


class Metrics:
    """Every metric the service records, and one method per kind of observation."""

    def __init__(self, shard_count: int, routes: Iterable[BaseRoute] = ()):
        self.registry = CollectorRegistry()
        self._scrape_registry = self.registry
        self._queues: dict[str, GroupCommit] = {}
        self._define_http()
        self._start_http_at_zero(routes)
        self._define_ingest()
        self._define_commits(shard_count)
        self._define_jobs_and_analytics()
        self._define_folds()
        self._define_live()
        self._define_cluster()
        self._http_children: dict[tuple[str, str, str], tuple] = {}
        self._lookup_children: dict[tuple[str, bool], Counter] = {}

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

    def _start_http_at_zero(self, routes: Iterable[BaseRoute]) -> None:
        for method, template in _methods_and_templates(routes):
            for status_class in STATUS_CLASSES:
                self.http_requests.labels(method, template, status_class)
        for route, statuses in INGEST_ERRORS.items():
            for status in statuses:
                self.ingest_rejected.labels(route, REJECT_REASONS[status])

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
        self.events_ignored = self._counter(
            "tracker_events_ignored_total",
            "Anonymous events acknowledged but not stored, by reason (bot: the bot filter)",
            ("reason",))
        self.events_ignored.labels("bot")
        self.enrich_lookups = self._counter(
            "tracker_enrich_cache_lookups_total",
            "User-Agent lookups of ingest requests, by cache (useragent: browser, OS and device; "
            "bots: the crawler list) and result (hit or miss); hits / all is the hit rate",
            ("cache", "result"))
        self.queue_full = self._counter(
            "tracker_queue_full_total",
            "Ingest requests answered 503 because a writer's queue or the unfolded backlog was full")
        self.ingest_refused = self._counter(
            "tracker_ingest_refused_total",
            "Ingest requests refused (422) by reason (unknown_site: an event's site named no site, "
            "or could not be told)", ("reason",))
        self.ingest_refused.labels("unknown_site")

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
        writers = [str(i) for i in range(shard_count)] + [LOG_LABEL]
        self._committed = {w: commits.labels(w, "committed") for w in writers}
        self._failed = {w: commits.labels(w, "failed") for w in writers}
        self._queue_depth = {w: queue_depth.labels(w) for w in writers}

    def _define_jobs_and_analytics(self) -> None:
        self._sessions_expired = self._counter(
            "tracker_sessions_expired_total",
            "Idle sessions deleted by the session expiry job")
        self._movements_archived = self._counter(
            "tracker_movements_archived_total",
            "Movements moved into archive files by retention")
        self._reports_sent = self._counter(
            "tracker_reports_sent_total", "Email reports the mail server accepted")
        self._report_failures = self._counter(
            "tracker_report_failures_total",
            "Email report sends that failed (retried with back-off, unless the server may have "
            "taken the message)")
        self._job_duration = self._histogram(
            "tracker_job_duration_seconds",
            "Duration of one run of a background job over every shard, by job",
            QUERY_BUCKETS, ("job",))
        self._job_failures = self._counter(
            "tracker_job_failures_total", "Background job runs that failed, by job", ("job",))
        # The most recent success of any worker is the one that matters.
        self._job_last_success = Gauge(
            "tracker_job_last_success_timestamp_seconds",
            "Unix time of the last run of a background job that succeeded, the latest over workers",
            labelnames=("job",), multiprocess_mode="max", registry=self.registry)
        self.analytics_duration = self._histogram(
            "tracker_analytics_query_duration_seconds",
            "Duration of a GET /analytics query, by scope (user or all) and time range "
            "range (1h, 24h, 7d, 30d or custom)",
            QUERY_BUCKETS, ("scope", "range"))
        self.web_duration = self._histogram(
            "tracker_web_query_duration_seconds",
            "Duration of a web analytics query, by endpoint (stats, breakdown, funnels or "
            "retention) and time range (1h, 24h, 7d, 30d or custom)",
            QUERY_BUCKETS, ("endpoint", "range"))

    def _define_folds(self) -> None:
        self.fold_duration = self._histogram(
            "tracker_fold_duration_seconds",
            "Duration of one fold of log rows into a shard (inside its transaction)",
            QUERY_BUCKETS)
        self.fold_rows = self._histogram(
            "tracker_fold_rows", "Log rows applied to a shard by one fold",
            ROWS_BUCKETS + (20_000, 50_000))
        self.read_waits = self._histogram(
            "tracker_read_fold_wait_seconds",
            "Time a read waited for its shards to fold what was acknowledged before it "
            "(only reads that found rows to fold; the count is how many waited)",
            SECONDS_BUCKETS)

    def _define_live(self) -> None:
        self.live_streams = Gauge(
            "tracker_live_streams", "Open GET /live streams, summed over live workers",
            multiprocess_mode="livesum", registry=self.registry)
        self.live_events_sent = self._counter(
            "tracker_live_events_sent_total", "Movements sent to GET /live streams")
        self.live_dropped = self._counter(
            "tracker_live_streams_dropped_total",
            "GET /live streams cut off because their client stopped taking what was sent")

    def _define_cluster(self) -> None:
        self.fan_out_duration = self._histogram(
            "tracker_cluster_fanout_seconds",
            "Duration of a read's questions to the owners of its shards, in cluster mode "
            "(from the stream's position to the last answer)", QUERY_BUCKETS)

    def fanned_out(self, seconds: float) -> None:
        self.fan_out_duration.observe(seconds)

    def live_opened(self) -> None:
        self.live_streams.inc()

    def live_closed(self, dropped: bool) -> None:
        self.live_streams.dec()
        if dropped:
            self.live_dropped.inc()

    def live_sent(self, count: int) -> None:
        self.live_events_sent.inc(count)

    def folded(self, folded) -> None:
        """One fold (tracker.storage.fold.Folded) that applied rows."""
        self.fold_duration.observe(folded.seconds)
        self.fold_rows.observe(folded.rows)
        self.sessions_created.inc(folded.sessions_created)

    def read_waited(self, seconds: float) -> None:
        self.read_waits.observe(seconds)

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

    def track_answered(self, accepted: int, stored: int, ignored: int) -> None:
        self.events_accepted.inc(accepted + ignored)
        if stored:  # each increment is a write to the metrics file: none for nothing
            self.events_ingested.inc(stored)
        if accepted > stored:
            self.events_duplicate.inc(accepted - stored)
        if ignored:
            self.events_ignored.labels("bot").inc(ignored)
        self.batch_events.observe(accepted + ignored)

    def session_opened(self, created: bool) -> None:
        if created:
            self.sessions_created.inc()

    def queue_refused(self) -> None:
        self.queue_full.inc()

    def site_unknown(self) -> None:
        self.ingest_refused.labels("unknown_site").inc()

    def commit(self, commit: CommitStats) -> None:
        (self._committed if commit.ok else self._failed)[commit.writer].inc()
        self.commit_duration.observe(commit.seconds)
        self.commit_rows.observe(commit.events)
        writer = self._queues.get(commit.writer)
        if writer is not None:
            self._queue_depth[commit.writer].set(writer.queued_events)

    def job_ran(self, job: str, seconds: float, finished_at: float) -> None:
        self._job_duration.labels(job).observe(seconds)
        self._job_last_success.labels(job).set(finished_at)

    def job_failed(self, job: str) -> None:
        self._job_failures.labels(job).inc()

    def jobs_known(self, jobs: Iterable[str]) -> None:
        """Start every job's failure count at zero, so that rate() sees the first failure."""
        for job in jobs:
            self._job_failures.labels(job)

    def sessions_expired(self, count: int) -> None:
        self._sessions_expired.inc(count)

    def movements_archived(self, count: int) -> None:
        self._movements_archived.inc(count)

    def report_sent(self) -> None:
        self._reports_sent.inc()

    def report_failed(self) -> None:
        self._report_failures.inc()

    def analytics_query(self, user_id: str | None, time_range: str | None, seconds: float) -> None:
        """Record one GET /analytics query; `time_range` is None for an explicit from/to window."""
        scope = "all" if user_id is None else "user"
        range_label = time_range if time_range in TIME_RANGES else "custom"
        self.analytics_duration.labels(scope, range_label).observe(seconds)

    def web_query(self, endpoint: str, time_range: str | None, seconds: float) -> None:
        """Record one GET /stats, /breakdown, /funnels or /retention query."""
        range_label = time_range if time_range in TIME_RANGES else "custom"
        self.web_duration.labels(endpoint, range_label).observe(seconds)

    def enrich_lookup(self, cache: str, hit: bool) -> None:
        child = self._lookup_children.get((cache, hit))
        if child is None:  # labels() costs more than the increment: once per cache and outcome
            child = self._lookup_children[cache, hit] = self.enrich_lookups.labels(
                cache, "hit" if hit else "miss")
        child.inc()

    def watch(self, writers: list, *collectors: Collector) -> None:
        """Follow the store's writer queues and collect its shard files (and in cluster mode
        the node's state) at each scrape."""
        self._queues = {writer.label: writer for writer in writers}
        self._scrape_registry = _scrape_registry(self.registry, collectors)

    def exposition(self) -> bytes:
        for label, writer in self._queues.items():
            self._queue_depth[label].set(writer.queued_events)
        return generate_latest(self._scrape_registry)


def status_label(status: int) -> str:
    """`2xx`, `4xx`, ...; a request whose client went away is `client_closed`, not an error."""
    return "client_closed" if status == CLIENT_CLOSED else f"{status // 100}xx"


class NoMetrics:
    """What handlers observe into when TRACKER_METRICS=false: every observation is dropped."""

    def http_request(self, method: str, route: str, status: int, seconds: float) -> None:
        pass

    def track_answered(self, accepted: int, stored: int, ignored: int) -> None:
        pass

    def session_opened(self, created: bool) -> None:
        pass

    def queue_refused(self) -> None:
        pass

    def site_unknown(self) -> None:
        pass

    def commit(self, commit: CommitStats) -> None:
        pass

    def job_ran(self, job: str, seconds: float, finished_at: float) -> None:
        pass

    def job_failed(self, job: str) -> None:
        pass

    def jobs_known(self, jobs: Iterable[str]) -> None:
        pass

    def sessions_expired(self, count: int) -> None:
        pass

    def movements_archived(self, count: int) -> None:
        pass

    def report_sent(self) -> None:
        pass

    def report_failed(self) -> None:
        pass

    def folded(self, folded) -> None:
        pass

    def live_opened(self) -> None:
        pass

    def live_closed(self, dropped: bool) -> None:
        pass

    def live_sent(self, count: int) -> None:
        pass

    def read_waited(self, seconds: float) -> None:
        pass

    def analytics_query(self, user_id: str | None, time_range: str | None, seconds: float) -> None:
        pass

    def web_query(self, endpoint: str, time_range: str | None, seconds: float) -> None:
        pass

    def enrich_lookup(self, cache: str, hit: bool) -> None:
        pass

    def fanned_out(self, seconds: float) -> None:
        pass

    def watch(self, writers: list, *collectors: Collector) -> None:
        pass


def _methods_and_templates(routes: Iterable[BaseRoute]) -> list[tuple[str, str]]:
    """Each route's (method, path template); HEAD, which Starlette adds to every GET, left out."""
    return [(method, route.path) for route in routes if isinstance(route, Route)
            for method in sorted(route.methods or ()) if method != "HEAD"]


def _scrape_registry(own: CollectorRegistry, collectors: Iterable[Collector]) -> CollectorRegistry:
    """What a scrape reads: this process's metrics, or every worker's files in multiprocess mode."""
    registry = own
    if multiproc.directory() is not None:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    for collector in collectors:
        registry.register(collector)
    return registry


class ShardCollector(Collector):
    """Shard file and WAL sizes (os.stat), live sessions and running erasures (index counts),
    the backlog and the number of sites, read at scrape time. A shard's figures add up its
    files of every site: labels stay one per shard however many sites there are."""

    def __init__(self, files: Callable[[], list[ShardFile]], shard_count: int,
                 backlog: Callable[[], dict[int, tuple[int, float]]] | None = None):
        self._files = files
        self._shard_count = shard_count
        self._backlog = backlog

    def describe(self) -> list[Metric]:
        return []

    def collect(self) -> Iterable[Metric]:
        files = self._files()
        sizes = [[0, 0] for _ in range(self._shard_count)]
        sessions: list[int | None] = [None] * self._shard_count
        running = 0
        for file in files:
            found = shard_stats.file_sizes(file.path)
            if found is not None:
                sizes[file.index][0] += found[0]
                sizes[file.index][1] += found[1]
            live = _count(file, shard_stats.count_sessions)
            if live is not None:
                sessions[file.index] = (sessions[file.index] or 0) + live
            running += _count(file, shard_stats.count_running_erasures) or 0
        return [*self._shard_metrics(sizes, sessions), self._sites(files), GaugeMetricFamily(
            "tracker_erasures_running",
            "User erasures requested and not finished yet, in the shards that can be read",
            value=running), *self._backlog_metrics()]

    def _shard_metrics(self, sizes: list[list[int]], sessions: list[int | None]) -> list[Metric]:
        file_bytes = GaugeMetricFamily("tracker_shard_file_bytes",
                                       "Size of a shard's SQLite files in bytes, over every site",
                                       labels=["shard"])
        wals = GaugeMetricFamily("tracker_shard_wal_bytes",
                                 "Size of a shard's write-ahead logs in bytes, over every site",
                                 labels=["shard"])
        live = GaugeMetricFamily("tracker_sessions_live",
                                 "Sessions stored (not yet expired), by shard, over every site",
                                 labels=["shard"])
        for index, (size, wal) in enumerate(sizes):
            file_bytes.add_metric([str(index)], size)
            wals.add_metric([str(index)], wal)
            count = sessions[index]
            if count is not None:
                live.add_metric([str(index)], count)
        return [file_bytes, wals, live]

    def _sites(self, files: list[ShardFile]) -> Metric:
        return GaugeMetricFamily("tracker_sites", "Sites the service holds (not being deleted)",
                                 value=len({file.site for file in files}))

    def _backlog_metrics(self) -> list[Metric]:
        if self._backlog is None:
            return []
        events = GaugeMetricFamily("tracker_unfolded_events",
                                   "Events in the log not yet folded into the shard, over every site",
                                   labels=["shard"])
        age = GaugeMetricFamily("tracker_unfolded_age_seconds",
                                "Seconds since the oldest unfolded event of the shard was appended",
                                labels=["shard"])
        try:
            backlog = self._backlog()
        except apsw.Error:
            return []
        counts = [0] * self._shard_count
        ages = [0.0] * self._shard_count
        for key, (count, seconds) in backlog.items():
            index = key % self._shard_count
            counts[index] += count
            ages[index] = max(ages[index], seconds)
        for index in range(self._shard_count):
            events.add_metric([str(index)], counts[index])
            age.add_metric([str(index)], ages[index])
        return [events, age]


def _count(file: ShardFile, count: Callable[[apsw.Connection], int]) -> int | None:
    try:
        return count(file.connection(Role.READER))
    except apsw.Error:
        return None  # a shard that cannot be read is reported by /readyz
