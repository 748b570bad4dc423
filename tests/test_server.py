"""`tracker serve` and its processes: killing the supervisor takes the workers and the folding
process with it, leaves nothing in the temporary directory, and frees the port at once."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx2 as httpx
import pytest

LATE = 15.0  # seconds after which a process that should have gone counts as staying


def descendants(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            found |= {int(child)} | descendants(int(child))
    return found


def running(pid: int) -> bool:
    """Alive and not a zombie (an orphan's exit is reaped by whoever adopted it, maybe never)."""
    try:
        return " Z " not in Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False


def ready(server) -> bool:
    assert server.process.poll() is None, server.output()  # it bound the port and runs
    try:
        return httpx.get(f"{server.url}/readyz", timeout=5).status_code == 200
    except httpx.TransportError:
        return False


def wait_for(condition, timeout: float = LATE) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


@pytest.mark.parametrize("workers", [2, 1])
def test_killing_the_supervisor_takes_its_processes_and_files_and_frees_the_port(tracker_server,
                                                                                 tmp_path,
                                                                                 workers):
    temp = tmp_path / "temp"
    temp.mkdir()
    server = tracker_server(workers=workers, TMPDIR=str(temp))
    assert wait_for(lambda: len(descendants(server.process.pid)) >= workers)  # and the folder
    children = descendants(server.process.pid)
    assert list(temp.iterdir())  # the workers' metrics directory
    try:
        server.kill()
        again = tracker_server(workers=workers, port=server.port,
                               TMPDIR=str(tmp_path))  # at once, on the same port and data
        assert wait_for(lambda: not any(running(pid) for pid in children)), \
            [Path(f"/proc/{pid}/cmdline").read_bytes() for pid in children if running(pid)]
        assert wait_for(lambda: not list(temp.iterdir())), list(temp.iterdir())
        # The old ones may have answered the new server's first probe: ask it again now.
        assert wait_for(lambda: ready(again), timeout=60), again.output()
    finally:
        for pid in children:  # what the old code left running
            if running(pid):
                os.kill(pid, signal.SIGKILL)


def test_a_burst_of_sigterm_stops_the_folding_process(tracker_server):
    """What a parent's death sends when the parent had many threads: SIGTERM once for each
    of them that exits (the child is handed from thread to thread). A handler that took a
    lock deadlocked when one of them came while another ran it; that window is a few
    bytecodes wide, so this does not catch it every time."""
    server = tracker_server()
    folder = next(pid for pid in descendants(server.process.pid)
                  if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes())
    until = time.monotonic() + 3
    while time.monotonic() < until:  # one after another, until it is gone (and reaped)
        try:
            os.kill(folder, signal.SIGTERM)
        except ProcessLookupError:
            break
    try:
        assert wait_for(lambda: not running(folder)), "the folding process hangs"
    finally:
        if running(folder):
            os.kill(folder, signal.SIGKILL)
    with server.client() as client:  # and the server, which starts another, serves on
        assert client.get("/readyz").status_code == 200


@pytest.mark.parametrize("workers", [1, 2])
def test_it_prints_the_dashboard_and_where_the_token_is_once_it_answers(tracker_server, workers):
    server = tracker_server(workers=workers, TRACKER_READ_TOKEN="")
    line = f"tracker: dashboard at http://127.0.0.1:{server.port}/ (admin token in "
    deadline = time.monotonic() + 30
    while line not in server.output() and time.monotonic() < deadline:
        time.sleep(0.1)
    shown = server.output()
    assert f"{line}{server.data_dir / 'read-token'})" in shown
    assert shown.count("dashboard at") == 1  # once, not once per worker
    assert (server.data_dir / "read-token").read_text().strip() not in shown
