"""Holding the door: slow, silent, oversized and too many connections, against the real service.

Each test starts the service on 127.0.0.1 and talks to it over raw sockets,
as an attacker would. Timeouts are shortened through their settings; bounds
on time are generous on the late side, since a shared machine is only ever
slower.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx2 as httpx
import pytest

from helpers import TLS, metric_samples, movement
from tracker.config import Config
from tracker.http_guard import Limits

GET_HEALTHZ = b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"
LATE = 30.0  # seconds after which a close that should have happened counts as never


class Reply:
    """What the server sent on a connection until it closed it (or LATE passed)."""

    def __init__(self, raw: bytes, closed: bool, seconds: float):
        self.raw, self.closed, self.seconds = raw, closed, seconds
        head, _, self.body = raw.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        self.status = int(lines[0].split()[1]) if raw else None
        self.headers = dict(line.lower().split(": ", 1) for line in lines[1:] if ": " in line)

    def json(self) -> dict:
        assert self.headers["content-type"] == "application/json"
        return json.loads(self.body)


@pytest.fixture
def connect() -> Iterator:
    """Factory: a raw connection to a live server; every one is closed at the end of the test."""
    opened: list[socket.socket] = []

    def dial(server) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", server.port))
        sock.settimeout(LATE)
        opened.append(sock)
        return sock

    yield dial
    for sock in opened:
        sock.close()


def read_until_closed(sock: socket.socket, since: float | None = None) -> Reply:
    since = time.monotonic() if since is None else since
    chunks = []
    try:
        while time.monotonic() - since < LATE:
            chunk = sock.recv(65536)
            if not chunk:
                return Reply(b"".join(chunks), True, time.monotonic() - since)
            chunks.append(chunk)
    except ConnectionResetError:
        return Reply(b"".join(chunks), True, time.monotonic() - since)
    except TimeoutError:
        pass
    return Reply(b"".join(chunks), False, time.monotonic() - since)


def send_slowly(sock: socket.socket, data: bytes, pause: float, since: float) -> None:
    """`data` a byte at a time, stopping once the server answers or closes (or LATE passes).

    Sending on after the server closed would draw a reset, which can discard
    its answer before it is read.
    """
    for i in range(len(data)):
        if select.select([sock], [], [], pause)[0] or time.monotonic() - since > LATE:
            return
        sock.send(data[i:i + 1])


def read_one_answer(sock: socket.socket) -> Reply:
    """One whole answer on a connection that stays open (content-length framing)."""
    raw = receive(sock, b"")
    while b"\r\n\r\n" not in raw:
        raw = receive(sock, raw)
    reply = Reply(raw, False, 0)
    while len(reply.body) < int(reply.headers["content-length"]):
        reply = Reply(receive(sock, raw), False, 0)
        raw = reply.raw
    return reply


def receive(sock: socket.socket, raw: bytes) -> bytes:
    chunk = sock.recv(65536)  # waits at most LATE
    assert chunk, f"closed by the server after {raw!r}"
    return raw + chunk


def open_sockets(pid: int) -> int:
    """The sockets the process holds: the descriptors connections take. (Not its files: the
    service opens a shard connection per thread as its threads first read, at any moment.)"""
    held = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        with contextlib.suppress(FileNotFoundError):  # closed meanwhile
            held += os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:")
    return held


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def healthz_seconds(server) -> float:
    started = time.monotonic()
    assert httpx.get(f"{server.url}/healthz", timeout=LATE, verify=TLS).status_code == 200
    return time.monotonic() - started


def test_the_defaults_are_the_contract():
    assert Limits.of(Config.from_env({})) == Limits(max_connections=4096, head_timeout=10,
                                                    idle_timeout=5, reader_timeout=60,
                                                    max_connections_per_client=64,
                                                    trusted_proxies=())


def test_silent_connections_get_408_json_and_are_closed_after_the_head_timeout(tracker_server,
                                                                               connect):
    server = tracker_server(TRACKER_HEAD_TIMEOUT_SECONDS="2")
    opened = time.monotonic()
    silent = [connect(server) for _ in range(50)]
    replies = [read_until_closed(sock, opened) for sock in silent]
    assert all(reply.closed for reply in replies)
    assert min(reply.seconds for reply in replies) >= 1.5
    assert {reply.status for reply in replies} == {408}
    assert replies[0].json()["error"] == "request_timeout"


@pytest.mark.slow
def test_a_silent_connection_is_closed_after_ten_seconds_by_default(tracker_server, connect):
    server = tracker_server()
    reply = read_until_closed(connect(server))
    assert reply.closed and 9.5 <= reply.seconds < LATE and reply.status == 408


def test_slowloris_heads_are_closed(tracker_server, connect):
    server = tracker_server(TRACKER_HEAD_TIMEOUT_SECONDS="2")
    head = b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-Slow: " + b"a" * 1000

    def slowloris(sock: socket.socket) -> Reply:  # a byte every 0.2 s, never the end of the head
        started = time.monotonic()
        send_slowly(sock, head, 0.2, started)
        return read_until_closed(sock, started)

    with ThreadPoolExecutor(max_workers=20) as pool:
        replies = list(pool.map(slowloris, [connect(server) for _ in range(20)]))
    assert all(reply.closed and 1.5 <= reply.seconds < LATE for reply in replies)
    assert {reply.status for reply in replies} == {408}
    assert healthz_seconds(server) < 5


def test_a_body_slower_than_1_kib_per_second_is_closed_and_stores_nothing(tracker_server, connect):
    server = tracker_server(TRACKER_HEAD_TIMEOUT_SECONDS="2")
    body = json.dumps(movement(user="slow-body", eventId="e1")).encode()
    sock = connect(server)
    sock.sendall(b"POST /track HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                 b"Content-Length: %d\r\n\r\n" % len(body))
    started = time.monotonic()
    send_slowly(sock, body, 0.2, started)  # 5 bytes a second
    reply = read_until_closed(sock, started)
    assert reply.closed and reply.seconds < LATE
    assert reply.status == 408 and reply.json()["error"] == "request_timeout"
    with server.client() as client:
        assert client.get("/movements", params={"userId": "slow-body"}).json()["movements"] == []


def test_a_body_over_1_kib_per_second_is_served_past_the_grace(tracker_server, connect):
    server = tracker_server(TRACKER_HEAD_TIMEOUT_SECONDS="1")
    body = json.dumps(movement(user="steady", data={"pad": "x" * 12_000})).encode()
    sock = connect(server)
    sock.sendall(b"POST /track HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                 b"Content-Length: %d\r\n\r\n" % len(body))
    started = time.monotonic()
    for offset in range(0, len(body), 1024):  # 5 KiB/s nominal: a fifth of that still passes
        sock.sendall(body[offset:offset + 1024])
        time.sleep(0.2)
    reply = read_one_answer(sock)
    assert time.monotonic() - started > 2  # longer than the grace alone allows
    assert reply.status == 200 and reply.json()["accepted"] == 1


@pytest.mark.parametrize("head", [
    GET_HEALTHZ[:-2] + b"X-Big: " + b"a" * 17_000 + b"\r\n\r\n",
    GET_HEALTHZ[:-2] + b"".join(b"X-%d: 1\r\n" % i for i in range(100)) + b"\r\n",
    b"GET /healthz?" + b"q" * 17_000 + b" HTTP/1.1\r\nHost: t\r\n\r\n",
], ids=["one-large-field", "101-fields", "long-url"])
def test_an_oversized_head_is_refused_with_431_json_and_closed(tracker_server, head, connect):
    server = tracker_server()
    sock = connect(server)
    sock.sendall(head)
    reply = read_until_closed(sock)
    assert reply.closed and reply.status == 431
    assert reply.json() == {"error": "head_too_large", "detail": reply.json()["detail"]}
    assert "16384" in reply.json()["detail"] and "100" in reply.json()["detail"]


def test_a_head_of_100_fields_within_16_kib_is_served(tracker_server, connect):
    server = tracker_server()
    sock = connect(server)
    fields = b"".join(b"X-%d: %s\r\n" % (i, b"v" * 100) for i in range(99))  # and Host
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n" + fields + b"\r\n")
    assert read_one_answer(sock).status == 200


def test_endless_heads_are_cut_off_and_memory_stays_bounded(tracker_server, connect):
    server = tracker_server()
    assert server.process is not None
    before = rss_bytes(server.process.pid)
    sent = []
    for _ in range(10):
        sock = connect(server)
        total = 0
        try:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nX-Endless: ")
            while total < 50 * 1024 * 1024:
                sock.sendall(b"a" * 65536)
                total += 65536
        except OSError:  # the server closed the connection: what should happen
            pass
        sent.append(total)
    assert max(sent) < 50 * 1024 * 1024
    assert rss_bytes(server.process.pid) - before < 30 * 1024 * 1024
    assert healthz_seconds(server) < 5


def test_many_silent_connections_keep_descriptors_and_memory_bounded(tracker_server, connect):
    server = tracker_server(TRACKER_HEAD_TIMEOUT_SECONDS="3",
                            TRACKER_MAX_CONNECTIONS_PER_CLIENT="2000")
    assert server.process is not None
    pid = server.process.pid
    sockets_before, rss_before = open_sockets(pid), rss_bytes(pid)
    silent = [connect(server) for _ in range(1000)]
    assert len(silent) == 1000 and healthz_seconds(server) < 5
    assert open_sockets(pid) <= sockets_before + 1000 + 20
    deadline = time.monotonic() + LATE
    while open_sockets(pid) > sockets_before + 20 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert open_sockets(pid) <= sockets_before + 20
    assert rss_bytes(pid) - rss_before < 30 * 1024 * 1024
    assert healthz_seconds(server) < 5


def test_past_the_connection_cap_new_connections_get_503_and_open_ones_are_served(tracker_server,
                                                                                  connect):
    server = tracker_server(TRACKER_MAX_CONNECTIONS="20", TRACKER_IDLE_TIMEOUT_SECONDS="60",
                            TRACKER_HEAD_TIMEOUT_SECONDS="60")
    held = [connect(server) for _ in range(20)]
    for sock in held:
        sock.sendall(GET_HEALTHZ)
        assert read_one_answer(sock).status == 200
    for _ in range(5):
        extra = connect(server)
        extra.sendall(GET_HEALTHZ)
        reply = read_until_closed(extra)
        assert reply.closed and reply.seconds < 5
        assert reply.status == 503 and int(reply.headers["retry-after"]) >= 1
        assert reply.json()["error"] == "too_many_connections"
    for sock in held:  # every connection already open is still served
        sock.sendall(GET_HEALTHZ)
        assert read_one_answer(sock).status == 200
    for sock in held[:5]:
        sock.close()
    deadline = time.monotonic() + LATE
    while time.monotonic() < deadline:  # until the server has seen them go
        newcomer = connect(server)
        newcomer.sendall(GET_HEALTHZ)
        status = read_one_answer(newcomer).status
        newcomer.close()
        if status == 200:
            break
        time.sleep(0.1)
    assert time.monotonic() < deadline


def test_an_idle_keep_alive_connection_is_closed_after_the_idle_timeout(tracker_server, connect):
    server = tracker_server(TRACKER_IDLE_TIMEOUT_SECONDS="1")
    sock = connect(server)
    sock.sendall(GET_HEALTHZ)
    assert read_one_answer(sock).status == 200
    reply = read_until_closed(sock)
    assert reply.closed and reply.raw == b"" and 0.5 <= reply.seconds < LATE


@pytest.mark.parametrize("request_bytes", [
    b"GARBAGE\r\n\r\n",
    b"GET /healthz HTTP/9.9\r\nHost: t\r\n\r\n",
    b"GET /\xff HTTP/1.1\r\nHost: t\r\n\r\n",
    b"GET /healthz HTTP/1.1\r\nBad Header\r\n\r\n",
    b"POST /track HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
    b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com\r\n\r\n",
], ids=["request-line", "version", "non-ascii-path", "header-line", "two-lengths", "connect"])
def test_a_request_that_is_not_http_gets_a_json_400(tracker_server, request_bytes, connect):
    server = tracker_server()
    sock = connect(server)
    sock.sendall(request_bytes)
    reply = read_until_closed(sock)
    assert reply.closed and reply.status == 400
    assert reply.json()["error"] == "bad_request"
    assert healthz_seconds(server) < 5


def test_an_upgrade_request_is_answered_as_plain_http_then_closed(tracker_server, connect):
    server = tracker_server()
    sock = connect(server)
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\n"
                 b"Upgrade: websocket\r\n\r\n")
    reply = read_until_closed(sock)
    assert reply.closed and reply.status == 200 and reply.headers["connection"] == "close"


def test_a_flood_of_invalid_requests_logs_a_line_per_ten_seconds(tracker_server, connect):
    server = tracker_server()
    started = time.monotonic()
    for _ in range(200):
        sock = connect(server)
        sock.sendall(b"GARBAGE\r\n\r\n")
        assert read_until_closed(sock).status == 400
    with server.client() as client:
        client.get("/healthz")
    output = server.output()
    assert 1 <= output.count("not valid HTTP") <= 1 + (time.monotonic() - started) // 10, output
    assert "Invalid HTTP request" not in output


def test_a_client_hanging_up_mid_body_is_counted_apart_and_not_logged(tracker_server, connect):
    server = tracker_server()
    for _ in range(20):
        sock = connect(server)
        sock.sendall(b"POST /track HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 1000\r\n\r\n{\"userId\": ")
        time.sleep(0.05)
        sock.close()
    key = ("tracker_http_requests_total", ("method", "POST"), ("route", "/track"),
           ("status", "client_closed"))
    deadline = time.monotonic() + LATE
    with server.client() as client:
        while time.monotonic() < deadline:
            samples = metric_samples(client.get("/metrics").text)
            if samples.get(key) == 20:
                break
            time.sleep(0.1)
    assert samples.get(key) == 20
    assert not [k for k, n in samples.items()
                if k[0] == "tracker_http_requests_total" and "5xx" in k[3] and n]
    output = server.output()
    assert "unexpected error" not in output and "Exception in ASGI" not in output, output
    assert "Traceback" not in output, output


# Every connection is under a deadline at every moment, whatever the client sends.

def test_an_answer_before_the_body_closes_the_connection_when_the_body_follows(tracker_server,
                                                                              connect):
    server = tracker_server()
    sock = connect(server)
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\n\r\n")
    answer = read_one_answer(sock)  # answered before its declared body
    assert answer.status == 200 and answer.headers["connection"] == "close"
    started = time.monotonic()
    sock.sendall(b"x")  # the body: uvicorn's keep-alive timer was cancelled by it
    reply = read_until_closed(sock, started)
    assert reply.closed and reply.seconds < 10


def test_a_body_in_several_reads_before_the_answer_keeps_the_connection(tracker_server, connect):
    server = tracker_server()
    sock = connect(server)
    body = json.dumps(movement(user="in-pieces")).encode()
    for _ in range(3):
        sock.sendall(b"POST /track HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                     b"Content-Length: %d\r\n\r\n" % len(body))
        time.sleep(0.2)
        sock.sendall(body[:10])
        time.sleep(0.2)
        sock.sendall(body[10:])
        answer = read_one_answer(sock)
        assert answer.status == 200 and "connection" not in answer.headers


def test_a_401_before_the_body_closes_the_connection_however_the_body_trickles(tracker_server,
                                                                              connect):
    server = tracker_server()
    sock = connect(server)
    sock.sendall(b"GET /stats HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n")
    assert read_one_answer(sock).status == 401
    started = time.monotonic()
    send_slowly(sock, b"x" * 100, 0.5, started)  # a body trickling on: 10 s before, at 20 bytes
    reply = read_until_closed(sock, started)
    assert reply.closed and reply.seconds < 5


def test_an_endless_chunked_body_after_a_413_is_cut_off(tracker_server, connect):
    server = tracker_server()
    sock = connect(server)
    sock.sendall(b"POST /track HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                 b"Transfer-Encoding: chunked\r\n\r\n")
    chunk = b"%x\r\n%s\r\n" % (65536, b"x" * 65536)
    started, sent, answered = time.monotonic(), 0, b""
    sock.settimeout(0.05)
    while time.monotonic() - started < 15:  # the 413 comes after 1 MiB; the client streams on
        try:
            sock.sendall(chunk)
            sent += len(chunk)
        except TimeoutError:  # the server stopped reading
            pass
        except OSError:  # it closed the connection: what should happen
            break
        try:
            answered += sock.recv(65536)
        except TimeoutError:
            pass
        except OSError:
            break
    assert answered.startswith(b"HTTP/1.1 413")
    assert time.monotonic() - started < 10
    assert sent < 256 * 1024 * 1024


def test_a_body_sent_fast_then_stalled_is_closed_long_before_its_size_at_1_kib_per_second(
        tracker_server, connect):
    server = tracker_server(TRACKER_HEAD_TIMEOUT_SECONDS="2")
    sock = connect(server)
    size = 1024 * 1024
    sock.sendall(b"POST /track HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                 b"Content-Length: %d\r\n\r\n" % size)
    started = time.monotonic()
    sock.sendall(b" " * (size - 1))  # all but the last byte at once: 1,024 s at 1 KiB/s
    reply = read_until_closed(sock, started)
    assert reply.closed and reply.seconds < 10
    assert reply.status == 408 and reply.json()["error"] == "request_timeout"


def test_bytes_that_start_no_request_do_not_hold_an_idle_connection(tracker_server, connect):
    server = tracker_server(TRACKER_IDLE_TIMEOUT_SECONDS="2")
    sock = connect(server)
    sock.sendall(GET_HEALTHZ)
    assert read_one_answer(sock).status == 200
    started = time.monotonic()
    send_slowly(sock, b"\r\n" * 30, 0.5, started)  # empty lines are allowed between requests
    reply = read_until_closed(sock, started)
    assert reply.closed and reply.seconds < 10


# One client address holds at most TRACKER_MAX_CONNECTIONS_PER_CLIENT connections.

def dial_from(server, address: str) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), source_address=(address, 0))
    sock.settimeout(LATE)
    return sock


def test_one_address_cannot_take_every_connection_from_the_others(tracker_server, connect):
    server = tracker_server(TRACKER_MAX_CONNECTIONS="100", TRACKER_MAX_CONNECTIONS_PER_CLIENT="20",
                            TRACKER_HEAD_TIMEOUT_SECONDS="60")
    hog = [connect(server) for _ in range(150)]  # silent, from 127.0.0.1
    turned_away = []
    for sock in hog[20:23]:
        sock.sendall(GET_HEALTHZ)
        turned_away.append(read_until_closed(sock))
    assert {reply.status for reply in turned_away} == {429}
    assert turned_away[0].json()["error"] == "too_many_connections"
    assert int(turned_away[0].headers["retry-after"]) >= 1
    assert all(reply.closed and reply.seconds < 5 for reply in turned_away)
    statuses = []
    for _ in range(30):  # another address is served while the first holds its share
        sock = dial_from(server, "127.0.0.2")
        sock.sendall(GET_HEALTHZ)
        statuses.append(read_one_answer(sock).status)
        sock.close()
    assert statuses == [200] * 30
    for sock in hog[:20]:  # the first 20 were kept and are served
        sock.sendall(GET_HEALTHZ)
        assert read_one_answer(sock).status == 200


def test_behind_a_trusted_proxy_the_forwarded_address_is_what_is_counted(tracker_server,
                                                                         connect):
    server = tracker_server(TRACKER_TRUSTED_PROXIES="127.0.0.1",
                            TRACKER_MAX_CONNECTIONS_PER_CLIENT="3")

    def ask(sock: socket.socket, client: str) -> Reply:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-Forwarded-For: %s\r\n\r\n"
                     % client.encode())
        return read_one_answer(sock)

    proxied = [connect(server) for _ in range(6)]  # one proxy holds many connections
    assert [ask(sock, "203.0.113.7").status for sock in proxied[:3]] == [200] * 3
    refused = ask(proxied[3], "203.0.113.7")
    assert refused.status == 429 and refused.json()["error"] == "too_many_connections"
    assert ask(proxied[4], "203.0.113.8").status == 200
    assert ask(proxied[0], "203.0.113.9").status == 200  # that connection now counts for .9
    assert ask(proxied[5], "203.0.113.7").status == 200  # so .7 holds two
