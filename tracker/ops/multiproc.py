"""prometheus-client's multiprocess mode, for `tracker serve`: its workers and folding process.

Every worker writes its metric values to memory-mapped files in one
directory, and a scrape of any worker merges them all. `tracker serve` makes
that directory (PROMETHEUS_MULTIPROC_DIR when the operator set it, else a new
temporary one), empties it of files from an earlier run, and sets the
variable before any worker starts: prometheus-client chooses its value
storage when first imported. The supervisor tells it when a worker is gone,
so that the worker's live gauges stop counting; its counters keep counting.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from prometheus_client import multiprocess, values

ENV = "PROMETHEUS_MULTIPROC_DIR"


def prepare() -> tuple[Path, bool]:
    """The directory, emptied and exported to workers; True when it was made here (remove it after)."""
    given = os.environ.get(ENV)
    path = Path(given) if given else Path(tempfile.mkdtemp(prefix="tracker-metrics-"))
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
