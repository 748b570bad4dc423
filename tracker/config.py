"""Every setting, declared once: environment name, default, parser and help text.

Command-line flags override the environment; the CLI does that by writing the
flag into the environment before the application (and its workers) read it.
"""

from __future__ import annotations

import ipaddress
import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit


class ConfigError(Exception):
    """A setting has a value the service cannot run with; the message names it."""


def _int_at_least(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = minimum - 1
        if value < minimum:
            raise ValueError(f"must be an integer >= {minimum}")
        return value

    return parse


def _float_at_least(minimum: float) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not value >= minimum:  # nan too
            raise ValueError(f"must be a number >= {minimum:g}")
        return value

    return parse


def _choice(*options: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text not in options:
            raise ValueError(f"must be one of {', '.join(options)}")
        return text

    return parse


def _csv(text: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in text.split(",") if item.strip())


def _networks(text: str) -> tuple[str, ...]:
    entries = _csv(text)
    for entry in entries:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise ValueError(f"{entry!r} is not an IP address or network") from None
    return entries


def _flag(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise ValueError("must be true or false")


def _optional_int_at_least(minimum: int) -> Callable[[str], int | None]:
    parse_int = _int_at_least(minimum)
    return lambda text: parse_int(text) if text.strip() else None


def _optional_path(text: str) -> Path | None:
    return Path(text) if text.strip() else None


def _text(text: str) -> str:
    return text


def _smtp_url(text: str) -> str:
    if not text.strip():
        return ""
    parts = urlsplit(text.strip())
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValueError("must be smtp://[user:password@]host[:port][?starttls=true] or smtps://...")
    parts.port  # noqa: B018 - raises ValueError for a port that is not a number up to 65535
    return text.strip()


def _address(text: str) -> str:
    if text.strip() and not re.fullmatch(r"[^@\s<>]+@[^@\s<>]+", text.strip()):
        raise ValueError("must be an email address such as reports@example.com")
    return text.strip()


def _public_url(text: str) -> str:
    if text.strip() and urlsplit(text.strip()).scheme not in ("http", "https"):
        raise ValueError("must be an http:// or https:// address")
    return text.strip().rstrip("/")


@dataclass(frozen=True)
class Setting:
    """One environment variable: its name, default, parser and help text (docs/configuration.md)."""

    attribute: str
    env: str
    default: str
    parse: Callable[[str], Any]
    help: str
    secret: bool = False  # never repeated in an error message


SETTINGS: tuple[Setting, ...] = (
    Setting("data_dir", "TRACKER_DATA_DIR", "./shards", Path,
            "where shard files, the manifest and the read token live"),
    Setting("shards", "TRACKER_SHARDS", "16", _int_at_least(1),
            "number of shards; fixed when the data directory is created"),
    Setting("session_ttl_seconds", "TRACKER_SESSION_TTL_SECONDS", "1800", _int_at_least(1),
            "a session idle this long is expired"),
    Setting("alarm_interval_seconds", "TRACKER_ALARM_INTERVAL_SECONDS", "60", _int_at_least(1),
            "how often the background jobs run: resuming erasures, session expiry, archiving, WAL "
            "truncation"),
    Setting("read_token", "TRACKER_READ_TOKEN", "", _text,
            "bearer token for every read endpoint; generated into <data dir>/read-token when unset"),
    Setting("allowed_origins", "TRACKER_ALLOWED_ORIGINS", "*", _csv,
            "CORS origins allowed to post events, comma-separated"),
    Setting("sync", "TRACKER_SYNC", "full", _choice("full", "normal"),
            "SQLite synchronous mode for shard files: full or normal"),
    Setting("rate_limit", "TRACKER_RATE_LIMIT", "100", _int_at_least(0),
            "ingest requests per second allowed per client address; 0 turns limiting off"),
    Setting("rate_burst", "TRACKER_RATE_BURST", "200", _int_at_least(1),
            "requests a client may send at once above the rate"),
    Setting("trusted_proxies", "TRACKER_TRUSTED_PROXIES", "", _networks,
            "addresses or networks whose X-Forwarded-For names the client, comma-separated"),
    Setting("retention_days", "TRACKER_RETENTION_DAYS", "", _optional_int_at_least(1),
            "move movements older than this many days to archives; unset keeps them forever"),
    Setting("metrics_token", "TRACKER_METRICS_TOKEN", "", _text,
            "bearer token GET /metrics requires, when set"),
    Setting("queue_limit", "TRACKER_QUEUE_LIMIT", "20000", _int_at_least(1),
            "events waiting for one shard's writer before ingest answers 503"),
    Setting("max_backlog", "TRACKER_MAX_BACKLOG", "50000", _int_at_least(0),
            "events appended and not yet folded before ingest answers 503; 0 sets no bound"),
    Setting("max_backlog_seconds", "TRACKER_MAX_BACKLOG_SECONDS", "0.25", _float_at_least(0),
            "seconds of folding the unfolded backlog may need (at the rate folds were measured "
            "at) before ingest answers 503, so that a read waits no longer for it; 0 sets no bound"),
    Setting("host", "TRACKER_HOST", "127.0.0.1", _text,
            "address `tracker serve` listens on"),
    Setting("port", "TRACKER_PORT", "8000", _int_at_least(0),
            "port `tracker serve` listens on"),
    Setting("workers", "TRACKER_WORKERS", "1", _int_at_least(1),
            "worker processes `tracker serve` starts"),
    Setting("access_log", "TRACKER_ACCESS_LOG", "false", _flag,
            "log one line per request"),
    Setting("metrics", "TRACKER_METRICS", "true", _flag,
            "collect Prometheus metrics and serve them at GET /metrics; false turns collection off"),
    Setting("read_origins", "TRACKER_READ_ORIGINS", "", _csv,
            "CORS origins allowed to call the read endpoints with the token, comma-separated"),
    Setting("log_user_ids", "TRACKER_LOG_USER_IDS", "false", _flag,
            "let user ids and query strings into the logs, for debugging"),
    Setting("max_connections", "TRACKER_MAX_CONNECTIONS", "4096", _int_at_least(1),
            "open connections one worker holds; past it a new connection gets 503 at once"),
    Setting("max_connections_per_client", "TRACKER_MAX_CONNECTIONS_PER_CLIENT", "64",
            _int_at_least(1),
            "open connections one client address holds in one worker (for trusted proxies, the "
            "address they forward); past it its new connections get 429 at once"),
    Setting("head_timeout_seconds", "TRACKER_HEAD_TIMEOUT_SECONDS", "10", _int_at_least(1),
            "a connection's request head must arrive within this; also the body's grace"),
    Setting("idle_timeout_seconds", "TRACKER_IDLE_TIMEOUT_SECONDS", "5", _int_at_least(1),
            "an idle keep-alive connection is closed after this"),
    Setting("reader_timeout_seconds", "TRACKER_READER_TIMEOUT_SECONDS", "60", _int_at_least(1),
            "a client that accepts no byte of an answer for this long is disconnected"),
    Setting("erasure_wait_seconds", "TRACKER_ERASURE_WAIT_SECONDS", "10", _int_at_least(0),
            "how long DELETE /users/{userId} waits for the erasure before answering 202"),
    Setting("bot_filter", "TRACKER_BOT_FILTER", "true", _flag,
            "drop anonymous events from crawlers, HTTP libraries and headless browsers"),
    Setting("geoip_db", "TRACKER_GEOIP_DB", "", _optional_path,
            "path of a MaxMind-format .mmdb city database; adds region and city (country works "
            "without it)"),
    Setting("min_free_mb", "TRACKER_MIN_FREE_MB", "256", _int_at_least(0),
            "megabytes kept free on the data directory's disk: under it ingest answers 503 and "
            "/readyz names the disk; 0 refuses only once the disk is full"),
    Setting("max_exports", "TRACKER_MAX_EXPORTS", "4", _int_at_least(1),
            "user exports being sent at once, over all workers; past it GET "
            "/users/{userId}/export answers 503"),
    Setting("erase_chunk", "TRACKER_ERASE_CHUNK", "2000", _int_at_least(1),
            "stored movements one erasure job removes at most (each holds the shard's write lock)"),
    Setting("smtp_url", "TRACKER_SMTP_URL", "", _smtp_url,
            "mail server for email reports: smtp://user:password@host:port (?starttls=true) or "
            "smtps://...; unset sends no reports", secret=True),
    Setting("mail_from", "TRACKER_MAIL_FROM", "", _address,
            "sender address of email reports"),
    Setting("public_url", "TRACKER_PUBLIC_URL", "", _public_url,
            "the service's address as readers reach it, for the links in email reports "
            "(default http://HOST:PORT)"),
    Setting("report_retry_seconds", "TRACKER_REPORT_RETRY_SECONDS", "60", _int_at_least(1),
            "wait before retrying a failed email report; doubled at each failure, up to 6 hours"),
    Setting("nats_url", "TRACKER_NATS_URL", "", _csv,
            "NATS server URLs, comma-separated; set, the node runs in cluster mode (Several machines)"),
    Setting("node_id", "TRACKER_NODE_ID", "", _text,
            "this node's name, unique in the cluster (cluster mode)"),
    Setting("node_url", "TRACKER_NODE_URL", "", _text,
            "the address other nodes reach this node's HTTP service at, e.g. http://10.0.0.5:8000 "
            "(cluster mode)"),
    Setting("nats_replicas", "TRACKER_NATS_REPLICAS", "3", _int_at_least(1),
            "NATS servers holding a copy of the stream and the buckets (cluster mode)"),
    Setting("cluster_secret", "TRACKER_CLUSTER_SECRET", "", _text,
            "shared by the nodes; signs their requests to each other (required in cluster mode)"),
    Setting("snapshot_minutes", "TRACKER_SNAPSHOT_MINUTES", "10", _int_at_least(1),
            "how often the owner of a shard stores a snapshot of its files in NATS (cluster mode)"),
)


@dataclass(frozen=True)
class Config:
    """Every setting, parsed and checked once at start-up."""

    data_dir: Path
    shards: int
    session_ttl_seconds: int
    alarm_interval_seconds: int
    read_token: str
    allowed_origins: tuple[str, ...]
    sync: str
    rate_limit: int
    rate_burst: int
    trusted_proxies: tuple[str, ...]
    retention_days: int | None
    metrics_token: str
    queue_limit: int
    max_backlog: int
    max_backlog_seconds: float
    host: str
    port: int
    workers: int
    access_log: bool
    metrics: bool
    read_origins: tuple[str, ...]
    log_user_ids: bool
    max_connections: int
    max_connections_per_client: int
    head_timeout_seconds: int
    idle_timeout_seconds: int
    reader_timeout_seconds: int
    erasure_wait_seconds: int
    bot_filter: bool
    geoip_db: Path | None
    min_free_mb: int
    max_exports: int
    erase_chunk: int
    smtp_url: str
    mail_from: str
    public_url: str
    report_retry_seconds: int
    nats_url: tuple[str, ...]
    node_id: str
    node_url: str
    nats_replicas: int
    cluster_secret: str
    snapshot_minutes: int

    @property
    def base_url(self) -> str:
        """Where readers reach the service: TRACKER_PUBLIC_URL, else the listen address."""
        return self.public_url or f"http://{self.host}:{self.port}"

    @property
    def clustered(self) -> bool:
        """Whether the node runs in cluster mode (TRACKER_NATS_URL is set)."""
        return bool(self.nats_url)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Config:
        environ = os.environ if environ is None else environ
        values = {s.attribute: _parse(s, environ.get(s.env, s.default)) for s in SETTINGS}
        if values["smtp_url"] and not values["mail_from"]:
            raise ConfigError("TRACKER_SMTP_URL is set but TRACKER_MAIL_FROM is not: email reports "
                              "need a sender address")
        config = cls(**values)
        if config.clustered:
            _check_cluster(config)
        return config


# What cluster mode cannot run without, and why (docs/cluster.md).
CLUSTER_REQUIRES = (
    ("cluster_secret", "TRACKER_CLUSTER_SECRET", "the nodes sign their requests to each other with it"),
    ("node_id", "TRACKER_NODE_ID", "each node needs a name unique in the cluster"),
    ("node_url", "TRACKER_NODE_URL", "the other nodes reach this one's shards at it"),
    ("read_token", "TRACKER_READ_TOKEN", "the nodes share one admin token"),
)


def _check_cluster(config: Config) -> None:
    for attribute, env, why in CLUSTER_REQUIRES:
        if not getattr(config, attribute):
            raise ConfigError(f"{env} is required in cluster mode (TRACKER_NATS_URL is set): {why}")
    if config.workers != 1:
        raise ConfigError("TRACKER_WORKERS must be 1 in cluster mode: the node's one process holds "
                          "its leases and folds its shards; run more nodes instead")
    if config.retention_days is not None:
        raise ConfigError("TRACKER_RETENTION_DAYS is not supported in cluster mode yet: archive "
                          "files are kept by one node and are not in the shard snapshots")


def _parse(setting: Setting, text: str) -> Any:
    try:
        return setting.parse(text)
    except ValueError as error:
        shown = "(hidden)" if setting.secret else repr(text)
        raise ConfigError(f"{setting.env}={shown}: {error}") from None
