"""The metrics directory of `tracker serve`: one a killed server left is reclaimed by the next,
never one that is in use."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import tempfile

from tracker.ops import multiproc


def gone_pid() -> int:
    """The process id of a process that has exited."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_only_directories_of_servers_that_are_gone_and_unused_are_reclaimed(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    dead = gone_pid()
    stale = tmp_path / f"tracker-metrics-{dead}-aaaa"
    held = tmp_path / f"tracker-metrics-{dead}-bbbb"  # its server is gone, an orphan still runs
    live = tmp_path / f"tracker-metrics-{os.getpid()}-cccc"
    unnamed = tmp_path / "tracker-metrics-dddd"  # made by an older release: owner unknown
    for path in (stale, held, live, unnamed):
        path.mkdir()
        (path / "counter_1.db").write_bytes(b"x")
    lock = os.open(held, os.O_RDONLY | os.O_DIRECTORY)
    fcntl.flock(lock, fcntl.LOCK_SH)
    try:
        multiproc.reclaim_stale()
    finally:
        os.close(lock)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        p.name for p in (held, live, unnamed))


def test_the_last_orphan_out_removes_the_directory(tmp_path, monkeypatch):
    path = tmp_path / "tracker-metrics-1-eeee"
    path.mkdir()
    monkeypatch.setenv(multiproc.ENV, str(path))
    monkeypatch.setenv(multiproc.MADE_HERE_ENV, "1")
    first, second = multiproc.use(), multiproc.use()
    multiproc.leave(first, orphaned=True)
    assert path.exists()  # the second still uses it
    multiproc.leave(second, orphaned=True)
    assert not path.exists()


def test_a_directory_the_operator_named_is_never_removed(tmp_path, monkeypatch):
    monkeypatch.setenv(multiproc.ENV, str(tmp_path))
    monkeypatch.delenv(multiproc.MADE_HERE_ENV, raising=False)
    multiproc.leave(multiproc.use(), orphaned=True)
    assert tmp_path.exists()
