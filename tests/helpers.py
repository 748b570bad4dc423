"""Helpers shared by the tests."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import socket
import ssl
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import apsw
import httpx2 as httpx

ROLLUP_TABLES = ("rollup_events", "rollup_pages", "activity_spans", "activity_gaps",
                 "activity_counts")
LARGE_TABLES = {"movements", "sessions", "visits", "visit_pages", "visit_events", *ROLLUP_TABLES}
TOKEN = "test-read-token"
# A test client's address, and settings that trust it as a proxy naming other clients.
PEER = "127.0.0.1"
PROXY = {"TRACKER_TRUSTED_PROXIES": PEER, "TRACKER_RATE_LIMIT": "0"}
# Lengths of time in milliseconds, the unit of every timestamp the service takes and answers.
MINUTE = 60_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR


# The one TLS context of the tests' HTTP clients. The service is plain HTTP on 127.0.0.1, but
# httpx loads the CA bundle (about 30 ms of CPU) into every client made without one, and the
# tests make thousands: a wait for a starting service polls with a new one every 50 ms.
TLS = ssl.create_default_context()


def http_client(**options) -> httpx.Client:
    return httpx.Client(verify=TLS, **options)


def now_ms() -> int:
    """The time now, as a timestamp. Take it inside the test: the suite runs for minutes."""
    return time.time_ns() // 1_000_000


def connect(path: Path, read_only: bool = False) -> contextlib.closing[apsw.Connection]:
    """A connection to a SQLite file, for a `with` block that closes it however the block ends.

    (apsw's own `with connection:` is a transaction, and leaves the connection open.) It
    waits for a lock as the service's connections do: a service process may be recovering
    the file's WAL after a crash.
    """
    flags = apsw.SQLITE_OPEN_READONLY if read_only else (
        apsw.SQLITE_OPEN_READWRITE | apsw.SQLITE_OPEN_CREATE)
    conn = apsw.Connection(str(path), flags=flags)
    conn.set_busy_timeout(10_000)
    return contextlib.closing(conn)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def service_env(data_dir: Path, **overrides: str) -> dict[str, str]:
    """Settings for a test service: its own data dir, no rate limit, a known token."""
    env = {
        "TRACKER_DATA_DIR": str(data_dir),
        "TRACKER_SHARDS": "4",
        "TRACKER_READ_TOKEN": TOKEN,
        "TRACKER_RATE_LIMIT": "0",
        "TRACKER_SYNC": "normal",
        # A reserve any machine that runs the tests has (the default, 256 MB, is the
        # operator's); tests of a full disk set their own.
        "TRACKER_MIN_FREE_MB": "1",
    }
    env.update(overrides)
    return env


def run_cli(*args: str, env: dict) -> subprocess.CompletedProcess:
    """`tracker ARGS` in a subprocess with `env` over this environment."""
    return subprocess.run([sys.executable, "-m", "tracker", *args], env={**os.environ, **env},
                          capture_output=True, text=True, timeout=60)


def movement(user: str = "u1", session: str = "s1", event: str = "click", **fields) -> dict:
    return {"userId": user, "sessionId": session, "event": event, **fields}


def same_shard_user(store, user: str) -> str:
    """Another user id that hashes to the same shard as `user`."""
    return next(f"{user}-{i}" for i in range(10_000)
                if store.shard_of(f"{user}-{i}") == store.shard_of(user))


def metric_samples(text: str) -> dict[tuple, float]:
    """A /metrics answer as {(sample name, (label, value), ...): value}."""
    from prometheus_client.parser import text_string_to_metric_families

    return {(s.name, *sorted(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


class Writers:
    """Threads posting batches with unique eventIds, remembering what was acknowledged."""

    def __init__(self, url: str, threads: int = 6, users: int = 30, max_batch: int = 20):
        self.url = url
        self.users = [f"user-{i}" for i in range(users)]
        self.max_batch = max_batch
        self.acknowledged: list[tuple[str, str]] = []
        self.overloaded = 0
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._post, args=(n,)) for n in range(threads)]

    def wait_for(self, acknowledged: int, timeout: float = 60) -> None:
        """Until this many events were acknowledged (however slow a shared machine is)."""
        deadline = time.monotonic() + timeout
        while len(self.acknowledged) < acknowledged and time.monotonic() < deadline:
            time.sleep(0.05)

    def __enter__(self) -> Writers:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(30)

    def _post(self, n: int) -> None:
        with http_client(base_url=self.url, timeout=10) as client:
            for i in range(100_000):
                if self._stop.is_set():
                    return
                events = [movement(user=self.users[(n * 7 + i + k) % len(self.users)],
                                   eventId=uuid.uuid4().hex) for k in range(1 + i % self.max_batch)]
                try:
                    response = client.post("/track", json={"events": events})
                except httpx.TransportError:  # the server is away: not acknowledged
                    self._stop.wait(0.05)
                    continue
                if response.status_code == 200:
                    with self._lock:
                        self.acknowledged += [(e["userId"], e["eventId"]) for e in events]
                elif response.status_code == 503 and response.headers.get("Retry-After"):
                    self.overloaded += 1
                else:
                    self.errors.append(f"{response.status_code} {response.text}")


def stored_event_ids(server, users: list[str]) -> list[tuple[str, str]]:
    found = []
    with server.client() as client:
        for user in users:
            cursor = None
            while True:
                params = {"userId": user, "limit": 1000, **({"cursor": cursor} if cursor else {})}
                page = client.get("/movements", params=params).json()
                found += [(user, m["eventId"]) for m in page["movements"]]
                if (cursor := page["nextCursor"]) is None:
                    break
    return found


def peak_rss_bytes(pid: int) -> int:
    """The highest resident set size the process has had (VmHWM)."""
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.M)
    assert match is not None
    return int(match.group(1)) * 1024


def files_open_under(pid: int, directory: Path) -> list[str]:
    """Where the files under `directory` that the process holds open are (or were, when a
    name ends with " (deleted)")."""
    held = []
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except FileNotFoundError:  # closed meanwhile
            continue
        if target.startswith(f"{directory}/"):
            held.append(target)
    return held


class Flood:
    """Many keep-alive connections posting prepared batches as fast as the service answers."""

    def __init__(self, url: str, batches: int = 300, batch_size: int = 500, users: int = 5000):
        self.host, self.port = url.removeprefix("http://").split(":")
        self.batches = [[movement(user=f"user-{(b * 7919 + k) % users}", eventId=uuid.uuid4().hex)
                         for k in range(batch_size)] for b in range(batches)]
        self.users = [f"user-{i}" for i in range(users)]
        self.acknowledged: list[tuple[str, str]] = []
        self.refused: list[tuple[str, str]] = []  # events of batches answered 503
        self.refusal_seconds: list[float] = []  # how long each 503 took to come back
        self.acceptance_seconds: list[float] = []  # and each 200
        self.statuses: dict[int, int] = {}
        self.missing_retry_after = 0

    def run(self, connections: int, seconds: float, pause_after_503: float = 0) -> None:
        """Post until the batches or the seconds run out; a connection answered 503 waits
        `pause_after_503` seconds before its next batch (a new one: refused batches are not
        retried)."""
        asyncio.run(self._run(connections, seconds, pause_after_503))

    async def _run(self, connections: int, seconds: float, pause_after_503: float) -> None:
        queue = [(events, json.dumps({"events": events}).encode()) for events in self.batches]
        deadline = asyncio.get_running_loop().time() + seconds
        await asyncio.gather(*(self._connection(queue, deadline, pause_after_503)
                               for _ in range(connections)))

    async def _connection(self, queue: list, deadline: float, pause_after_503: float) -> None:
        reader, writer = await asyncio.open_connection(self.host, int(self.port))
        loop = asyncio.get_running_loop()
        while queue and loop.time() < deadline:
            events, body = queue.pop()
            sent = loop.time()
            writer.write(b"POST /track HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                         b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").lower()
            status = int(head.split()[1])
            length = int(re.search(r"content-length: (\d+)", head).group(1))
            await reader.readexactly(length)
            self.statuses[status] = self.statuses.get(status, 0) + 1
            keys = [(e["userId"], e["eventId"]) for e in events]
            if status == 200:
                self.acknowledged += keys
                self.acceptance_seconds.append(loop.time() - sent)
            elif status == 503:
                self.refused += keys
                self.refusal_seconds.append(loop.time() - sent)
                await asyncio.sleep(pause_after_503)
            if status != 200 and "retry-after:" not in head:
                self.missing_retry_after += 1
        writer.close()


def fold_all(client) -> None:
    """Fold every acknowledged movement into the shard files, for tests that read them directly."""
    store = client.app.state.store
    client.portal.call(store.caught_up, store.live_files())


@contextlib.contextmanager
def saturated_writer(client):
    """The log's writer (the one ingest waits for) busy in a job of ours and its queue full,
    until the block exits.

    Other work (the background jobs' start-up runs) may take queue places at any
    moment, so the blocking job is offered until accepted, and the queue is
    filled to exactly its limit, counting whatever else is in it.
    """
    writer = client.app.state.store.log.writer
    limit = client.app.state.config.queue_limit
    release = threading.Event()
    while not client.portal.call(_offer, writer, lambda conn: release.wait(30)):
        time.sleep(0.01)
    while writer.queued_events:  # until the writer has taken the blocking job
        time.sleep(0.01)
    while writer.queued_events < limit:
        client.portal.call(_offer, writer, lambda conn: None)
    try:
        yield writer
    finally:
        release.set()


async def _offer(writer, work) -> bool:
    """Submit `work`; False when the writer refused it at once."""
    future = writer.submit(writer.file, work)
    refused = future.done() and future.exception() is not None
    return not refused


def start_and_fail(env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tracker", "serve", "--port", "1"],
                          env={**os.environ, **env}, capture_output=True, text=True, timeout=60)


@contextlib.contextmanager
def logged(name: str) -> Iterator[list[str]]:
    """The messages logged to one logger while the block runs."""
    lines: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(record.getMessage())  # type: ignore[method-assign]
    logger = logging.getLogger(name)
    logger.addHandler(handler)
    try:
        yield lines
    finally:
        logger.removeHandler(handler)


def add_site(client, site_id: str, *domains: str, **fields) -> dict:
    """Add a site through `POST /sites` (the admin token); its answer."""
    response = client.post("/sites", json={"id": site_id, "domains": list(domains), **fields})
    assert response.status_code == 201, response.text
    return response.json()


def wait_until(condition, seconds: float = 30, every: float = 0.05) -> None:
    """Until `condition()` is true; fails the test after `seconds`."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"not true within {seconds} s: {condition}"
        time.sleep(every)


def read_served(client: httpx.Client, path: str, **params) -> dict:
    """A read from a cluster. While a shard has no live owner (a fault just happened, or a new
    owner still restores it) the answer is a 503 naming it, never a partial answer: ask again,
    for up to a minute."""
    deadline = time.monotonic() + 60
    while True:
        answer = client.get(path, params=params)
        if answer.status_code != 503 or time.monotonic() > deadline:
            assert answer.status_code == 200, answer.text
            return answer.json()
        assert answer.json()["error"] in ("shard_unavailable", "stream_unavailable"), answer.text
        time.sleep(0.5)
