"""prometheus-client's multiprocess mode, for `tracker serve`: its workers and folding process.

Every worker writes its metric values to memory-mapped files in one
directory, and a scrape of any worker merges them all. `tracker serve` makes
that directory (PROMETHEUS_MULTIPROC_DIR when the operator set it, else a new
temporary one), empties it of files from an earlier run, and sets the
variable before any worker starts: prometheus-client chooses its value
storage when first imported. The supervisor tells it when a worker is gone,
so that the worker's live gauges stop counting; its counters keep counting.

A temporary directory made here is removed by the supervisor when it stops,
and, when the supervisor was killed, by the last of its processes to go:
each holds a shared lock on the directory while it runs, and one that finds
itself orphaned on its way out removes the directory once it can lock it
alone. One left behind all the same (every process killed at once) is
reclaimed by the next `tracker serve`: its name holds the supervisor's pid.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import tempfile
from pathlib import Path

from prometheus_client import multiprocess, values

ENV = "PROMETHEUS_MULTIPROC_DIR"
# Set beside ENV when the directory is a temporary one made here, to be removed after.
MADE_HERE_ENV = "TRACKER_METRICS_DIR_MADE"
PREFIX = "tracker-metrics-"
MADE_BY = re.compile(re.escape(PREFIX) + r"(\d+)-")


def prepare() -> tuple[Path, bool]:
    """The directory, emptied and exported to workers; True when it was made here (remove it after)."""
    given = os.environ.get(ENV)
    if given:
        path = Path(given)
    else:
        reclaim_stale()
        path = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-"))
        os.environ[MADE_HERE_ENV] = "1"
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):
        stale.unlink()
    os.environ[ENV] = str(path)
    # prometheus-client chose in-memory values when this process imported it;
    # metrics made from now on (this process's app, with one worker) use the files.
    values.ValueClass = values.get_value_class()
    return path, not given


def remove(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def use() -> int | None:
    """In a process of `tracker serve`: hold the directory it made while this process runs.
    Returns the lock to hand to `leave`; None when the directory is the operator's."""
    if not os.environ.get(MADE_HERE_ENV):
        return None
    fd = os.open(os.environ[ENV], os.O_RDONLY | os.O_DIRECTORY)
    fcntl.flock(fd, fcntl.LOCK_SH)
    return fd


def leave(lock: int | None, orphaned: bool) -> None:
    """This process is done with the directory; an orphaned one removes it if it is the last
    (after a normal stop, the supervisor removes it)."""
    if lock is None:
        return
    os.close(lock)
    if orphaned:
        remove_unless_used(Path(os.environ[ENV]))


def remove_unless_used(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:  # removed by another process first, or not ours to open
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        remove(path)
    except BlockingIOError:  # another process still uses it, and removes it on its way out
        pass
    finally:
        os.close(fd)


def reclaim_stale() -> None:
    """Remove the temporary directories of earlier servers that are gone, every process killed."""
    for path in Path(tempfile.gettempdir()).glob(f"{PREFIX}*"):
        made_by = MADE_BY.match(path.name)
        if made_by and not _running(int(made_by.group(1))):
            remove_unless_used(path)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's
        return True
    return True


def directory() -> Path | None:
    """Where this process's metric values live, or None when they are in its memory."""
    if values.ValueClass is values.MutexValue:
        return None
    return Path(os.environ[ENV])


def forget_worker(pid: int) -> None:
    """A worker exited: drop its live gauges (its counters stay in the sums)."""
    path = os.environ.get(ENV)
    if path:
        multiprocess.mark_process_dead(pid, path)
