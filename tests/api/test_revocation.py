"""A revoked key or share link stops at once in every worker of the real service, and guessing a
share's password is limited whichever worker is asked.

Keep-alive connections stay with the worker that accepted them, so the test
holds connections until each worker has some (told from /proc: which
worker's socket is the other end of each), asks on all of them, revokes, and
asks on all of them again.
"""

from __future__ import annotations

import http.client
import json
import os
import time
from pathlib import Path

import pytest

from helpers import add_site, movement

CONNECTIONS = 12


def children(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def socket_owners(pids: list[int]) -> dict[int, int]:
    """Socket inode: the pid holding it."""
    owners = {}
    for pid in pids:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except FileNotFoundError:
                continue
            if target.startswith("socket:["):
                owners[int(target[8:-1])] = pid
    return owners


def worker_of(connections: list[http.client.HTTPConnection], server_pid: int) -> dict[int, int]:
    """Index of each connection: the pid of the worker holding its other end."""
    owners = socket_owners(children(server_pid))
    by_port = {conn.sock.getsockname()[1]: index for index, conn in enumerate(connections)}
    found = {}
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        remote_port, inode = int(fields[2].split(":")[1], 16), int(fields[9])
        if remote_port in by_port and inode in owners:
            found[by_port[remote_port]] = owners[inode]
    return found


@pytest.fixture
def pinned(tracker_server):
    """(server, connections to it, spread over both workers).

    A busy machine may let one worker accept every connection of a round (the other
    still starting, or busy), so the connections already told apart are kept and
    more are opened, a round at a time, until both workers hold some."""
    server = tracker_server(workers=2)
    held: list[http.client.HTTPConnection] = []
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            for _ in range(CONNECTIONS):
                conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
                conn.connect()
                ask(conn, "GET", "/healthz")
                held.append(conn)
            workers = worker_of(held, server.process.pid)
            kept: dict[int, list[http.client.HTTPConnection]] = {}
            for index, conn in enumerate(held):
                on = kept.setdefault(workers.get(index, 0), [])
                if index in workers and len(on) < CONNECTIONS // 2:  # under the per-client cap
                    on.append(conn)
                else:
                    conn.close()
            kept.pop(0, None)
            held = [conn for on in kept.values() for conn in on]
            if len(kept) == 2 and all(len(on) == CONNECTIONS // 2 for on in kept.values()):
                break
            time.sleep(0.2)
        else:
            pytest.fail("could not hold connections to both workers")
        yield server, held
    finally:
        for conn in held:
            conn.close()


def ask(conn: http.client.HTTPConnection, method: str, path: str, body: dict | None = None,
        **headers: str) -> tuple[int, dict, dict]:
    """(status, JSON answer or {}, headers) on this connection, which stays open."""
    payload = None if body is None else json.dumps(body).encode()
    conn.request(method, path, payload, {"Content-Type": "application/json", **headers})
    response = conn.getresponse()
    text = response.read()
    answer = json.loads(text) if response.getheader("content-type", "").startswith(
        "application/json") and text else {}
    return response.status, answer, {k.lower(): v for k, v in response.getheaders()}


def test_a_revoked_key_and_share_stop_at_once_in_every_worker(pinned):
    server, connections = pinned
    with server.client() as admin:
        add_site(admin, "shop", "shop.example")
        admin.post("/track", json=movement("u1", site="shop"))
        key = admin.post("/sites/shop/keys").json()
        share = admin.post("/sites/shop/shares").json()
        link = share["url"].removeprefix(server.url)
        bearer = {"Authorization": f"Bearer {key['key']}"}
        for conn in connections:
            assert ask(conn, "GET", "/movements?userId=u1", **bearer)[0] == 200
            assert ask(conn, "GET", f"{link}/stats")[0] == 200
        assert admin.delete(f"/sites/shop/keys/{key['id']}").status_code == 204
        assert admin.delete(f"/sites/shop/shares/{share['id']}").status_code == 204
    before = worker_of(connections, server.process.pid)
    for conn in connections:
        assert ask(conn, "GET", f"{link}/stats")[0] == 404
        assert ask(conn, "GET", "/movements?userId=u1", **bearer)[0] == 401
    assert worker_of(connections, server.process.pid) == before  # asked where they were held


def test_a_new_site_key_and_share_work_at_once_in_every_worker(pinned):
    server, connections = pinned
    with server.client() as admin:
        add_site(admin, "shop", "shop.example")
        key = admin.post("/sites/shop/keys").json()["key"]
        link = admin.post("/sites/shop/shares").json()["url"].removeprefix(server.url)
    for conn in connections:
        status, answer, _ = ask(conn, "POST", "/track", movement("u1", site="shop"))
        assert (status, answer["accepted"]) == (200, 1)
        assert ask(conn, "GET", "/stats", Authorization=f"Bearer {key}")[0] == 200
        assert ask(conn, "GET", f"{link}/site")[0] == 200


def test_wrong_passwords_are_counted_over_every_worker(pinned):
    server, connections = pinned
    with server.client() as admin:
        link = admin.post("/sites/default/shares", json={"password": "pw"}).json()[
            "url"].removeprefix(server.url)
    for guess in range(10):
        status, answer, _ = ask(connections[guess], "POST", f"{link}/auth", {"password": f"{guess}"})
        assert (status, answer["error"]) == (401, "wrong_password")
    for conn in connections:
        status, answer, headers = ask(conn, "POST", f"{link}/auth", {"password": "pw"})
        assert (status, answer["error"]) == (429, "too_many_attempts") and "retry-after" in headers
