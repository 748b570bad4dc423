"""A client that stops reading its export holds nothing back, against the real service.

The export is read from one snapshot into a file before the answer starts, so
no read transaction stays open, pinning the shard's write-ahead log, while the
client dawdles; a client that takes no byte for TRACKER_READER_TIMEOUT_SECONDS
is cut off, and its file goes with it. The stalled client is a raw socket with
a tiny receive buffer that reads the answer's head and nothing more.
"""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers import TOKEN, files_open_under, movement, peak_rss_bytes
from tracker.lifecycle.export import spool_dir
from tracker.storage import manifest
from tracker.storage.connections import WAL_AUTOCHECKPOINT_PAGES

SHARDS = 4  # as helpers.service_env sets
LATE = 60.0  # seconds after which what should have happened counts as never
PAGE_BYTES = 4096
# A shard's WAL is checkpointed once it holds WAL_AUTOCHECKPOINT_PAGES pages;
# with no reader in the way it then starts over. The margin covers a few folds
# and a checkpoint that a short read delayed.
WAL_BOUND = 2 * WAL_AUTOCHECKPOINT_PAGES * PAGE_BYTES


def users_of_shard(shard: int, count: int) -> list[str]:
    found = (f"writer-{i}" for i in range(100_000))
    return [user for user in found if manifest.shard_of(user, SHARDS) == shard][:count]


def post_padded(client, users: list[str], count: int, pad: int, batch: int = 500) -> int:
    """Post `count` movements with `pad` bytes of data each, spread over `users`; returns the
    bytes of data posted."""
    for start in range(0, count, batch):
        events = [movement(user=users[i % len(users)], session=f"s{i % 7}",
                           eventId=uuid.uuid4().hex, data={"pad": "x" * pad})
                  for i in range(start, min(count, start + batch))]
        answer = client.post("/track", json={"events": events})
        assert answer.status_code == 200, answer.text
    return count * pad


def export_bytes(server, user: str) -> bytes:
    with server.client() as client:
        answer = client.get(f"/users/{user}/export")
        assert answer.status_code == 200
        return answer.content


@pytest.fixture
def request_export() -> Iterator:
    """Factory: a connection asking for a user's export, with a receive buffer of about 4 KiB
    (set before connecting, so the window it offers stays small); closed at the test's end."""
    opened: list[socket.socket] = []

    def ask(server, user: str) -> socket.socket:
        sock = socket.socket()
        opened.append(sock)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.settimeout(LATE)
        sock.connect(("127.0.0.1", server.port))
        sock.sendall(f"GET /users/{user}/export HTTP/1.1\r\nHost: t\r\n"
                     f"Authorization: Bearer {TOKEN}\r\nConnection: close\r\n\r\n".encode())
        return sock

    yield ask
    for sock in opened:
        sock.close()


def read_head(sock: socket.socket) -> bytes:
    """The answer's head (and whatever part of the body came with it): the export was
    spooled whole before the head was sent."""
    raw = b""
    while b"\r\n\r\n" not in raw:
        chunk = sock.recv(1024)
        assert chunk, raw
        raw += chunk
    assert raw.startswith(b"HTTP/1.1 200 "), raw
    return raw


def spool_files(pid: int, data_dir: Path) -> list[str]:
    return files_open_under(pid, spool_dir(data_dir))


def wait_for(condition, timeout: float = LATE) -> float:
    """Seconds until `condition()` held (polled); fails after `timeout`."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < timeout, "never happened"
        time.sleep(0.05)
    return time.monotonic() - started


def read_all(sock: socket.socket) -> tuple[bytes, bool]:
    """Everything left on the connection until it closes; True when it was reset."""
    chunks = []
    try:
        while chunk := sock.recv(1 << 16):
            chunks.append(chunk)
    except ConnectionResetError:
        return b"".join(chunks), True
    return b"".join(chunks), False


def dechunk(raw: bytes) -> bytes:
    """The body of an HTTP/1.1 answer in chunked transfer coding."""
    _head, _, rest = raw.partition(b"\r\n\r\n")
    body = []
    while True:
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            return b"".join(body)
        body.append(rest[:size])
        rest = rest[size + 2:]


@pytest.mark.slow
def test_a_stalled_export_leaves_the_wal_bounded_while_ingest_goes_on(tracker_server, data_dir,
                                                                      request_export):
    server = tracker_server(TRACKER_READER_TIMEOUT_SECONDS="600")  # outlasts the ingest below
    shard = manifest.shard_of("big", SHARDS)
    wal = data_dir / f"shard-{shard:04d}.sqlite-wal"
    with server.client() as client:
        post_padded(client, ["big"], 20_000, 1000)  # an export of about 21 MB
        stalled = request_export(server, "big")
        read_head(stalled)
        largest, posted = 0, 0
        writers = users_of_shard(shard, 50)
        for _ in range(80):  # 80 x 200 x 4 KB of data: about 150 MiB of WAL left unchecked
            posted += post_padded(client, writers, 200, 4000, batch=200)
            assert client.get("/stats").status_code == 200  # folds what was posted
            largest = max(largest, wal.stat().st_size)
        still_stalled = spool_files(server.process.pid, data_dir)
    stalled.close()
    print(f"stalled export: {posted / 2**20:.0f} MiB of data posted to its shard, "
          f"largest WAL {largest / 2**20:.1f} MiB (bound {WAL_BOUND / 2**20:.0f} MiB)")
    assert largest < WAL_BOUND
    assert len(still_stalled) == 1  # the client held its answer up all along
    wait_for(lambda: not spool_files(server.process.pid, data_dir))


@pytest.mark.slow
def test_a_client_that_takes_nothing_is_cut_off_and_its_spool_file_goes(tracker_server, data_dir,
                                                                       request_export):
    server = tracker_server(TRACKER_READER_TIMEOUT_SECONDS="2")
    pid = server.process.pid
    with server.client() as client:
        post_padded(client, ["small"], 2_000, 1000)
        post_padded(client, ["big"], 20_000, 1000)
        client.get("/stats")  # folds every shard now: the peaks below are the exports'
    small = export_bytes(server, "small")  # one page's work, ten times fewer pages
    peak_after_small = peak_rss_bytes(pid)
    stalled = request_export(server, "big")
    received = read_head(stalled)
    stalled_at = time.monotonic()
    held = spool_files(pid, data_dir)
    peak_after_big = peak_rss_bytes(pid)

    wait_for(lambda: not spool_files(pid, data_dir))
    cut_after = time.monotonic() - stalled_at
    rest, reset = read_all(stalled)
    whole = export_bytes(server, "big")  # the service serves on
    print(f"stalled export of {len(whole) / 2**20:.0f} MiB: cut off after {cut_after:.1f} s, "
          f"{len(received + rest)} bytes received, reset {reset}; peak RSS "
          f"{peak_after_small / 2**20:.0f} MiB after a {len(small) / 2**20:.0f} MiB export, "
          f"{peak_after_big / 2**20:.0f} MiB after the stalled one")
    assert len(held) == 1 and held[0].endswith("(deleted)")  # on disk, and nameless
    assert 1.5 <= cut_after < LATE
    assert reset and len(received + rest) < len(whole) / 2
    assert peak_after_big - peak_after_small < len(whole) / 4
    assert list(spool_dir(data_dir).iterdir()) == []


@pytest.mark.slow
def test_a_slow_reader_that_keeps_taking_bytes_is_served_to_the_end(tracker_server,
                                                                     request_export):
    server = tracker_server(TRACKER_READER_TIMEOUT_SECONDS="2")
    with server.client() as client:
        post_padded(client, ["big"], 8_000, 1000)
    whole = export_bytes(server, "big")
    sock = request_export(server, "big")
    raw = read_head(sock)
    slow_until = time.monotonic() + 6  # three reader timeouts at 8 KiB/s
    while time.monotonic() < slow_until:
        raw += sock.recv(2048)
        time.sleep(0.25)
    rest, reset = read_all(sock)
    assert not reset
    assert dechunk(raw + rest) == whole


def test_exports_in_flight_are_bounded_and_a_place_comes_back_when_a_reader_goes(
        tracker_server, data_dir, request_export):
    server = tracker_server(workers=2, TRACKER_MAX_EXPORTS="2",
                            TRACKER_READER_TIMEOUT_SECONDS="600")
    with server.client() as client:
        post_padded(client, ["big"], 8_000, 1000)  # about 8.5 MB, past every socket buffer
    stalled = [request_export(server, "big") for _ in range(2)]
    for sock in stalled:
        read_head(sock)
    with server.client() as client:
        for _ in range(4):  # new connections: either worker may take each, both refuse
            refused = client.get("/users/big/export", headers={"Connection": "close"})
            assert refused.status_code == 503, refused.text
            assert refused.json()["error"] == "too_many_exports"
            assert int(refused.headers["Retry-After"]) >= 1
        assert client.get("/movements", params={"userId": "big", "limit": 1}).status_code == 200
    stalled[0].close()

    def served() -> bool:
        with server.client() as client:
            return client.get("/users/big/export").status_code == 200

    wait_for(served)
