"""The folding process beside the workers: it folds without any read, comes back when it dies,
and goes when the server is gone."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from helpers import connect, movement


def children(pid: int) -> set[int]:
    found = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found |= {int(child) for child in (task / "children").read_text().split()}
    return found


def folder_pid(server_pid: int) -> int:
    """The server's child running the folding process (a spawned Python, not the resource tracker)."""
    for pid in children(server_pid):
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
        if b"spawn_main" in command and b"resource_tracker" not in command:
            return pid
    raise AssertionError(f"no folding process under {server_pid}")


def folded_everything(data_dir: Path) -> bool:
    """Whether every shard has folded every log row of its own (a shard the log holds no row
    of needs no fold)."""
    with connect(data_dir / "log.sqlite", read_only=True) as log:
        for index, path in enumerate(sorted(data_dir.glob("shard-*.sqlite"))):
            with connect(path, read_only=True) as shard:
                at = shard.execute("SELECT seq FROM fold_position").fetchall()[0][0]
            if log.execute("SELECT 1 FROM log WHERE shard = ? AND seq > ?", (index, at)).fetchall():
                return False
        return bool(log.execute("SELECT 1 FROM log").fetchall())


def wait_until(condition, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_the_folding_process_folds_without_reads_and_comes_back_when_killed(tracker_server, data_dir):
    server = tracker_server()
    with server.client() as client:
        assert client.post("/track", json={"events": [movement(user=f"u{i}") for i in range(40)]}
                           ).status_code == 200
    wait_until(lambda: folded_everything(data_dir))

    first = folder_pid(server.process.pid)
    os.kill(first, signal.SIGKILL)
    wait_until(lambda: folder_pid_or_none(server.process.pid) not in (None, first))
    with server.client() as client:
        assert client.post("/track", json=movement(user="late")).status_code == 200
    wait_until(lambda: folded_everything(data_dir))
    assert server.stop() == 0


def folder_pid_or_none(server_pid: int) -> int | None:
    try:
        return folder_pid(server_pid)
    except AssertionError:
        return None


def test_the_folding_process_goes_when_the_server_is_killed(tracker_server):
    server = tracker_server()
    folder = folder_pid(server.process.pid)
    server.kill()
    wait_until(lambda: not Path(f"/proc/{folder}").exists() or _zombie(folder), seconds=10)


def _zombie(pid: int) -> bool:
    return " Z " in Path(f"/proc/{pid}/stat").read_text()
