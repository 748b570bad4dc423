"""The processes `tracker serve` starts go when it goes, even when it is killed with SIGKILL.

A worker that outlived the supervisor would keep the listening socket (a new
`tracker serve` could not bind the port) and keep answering with no folding
process beside it. Linux sends a process a signal of its choice when its
parent dies (prctl PR_SET_PDEATHSIG): SIGTERM, which stops a worker or the
folding process as the supervisor's own SIGTERM would, gracefully.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal

log = logging.getLogger("tracker")

PR_SET_PDEATHSIG = 1
# Set by `tracker serve` for its workers when it supervises several: its process id.
SUPERVISOR_ENV = "TRACKER_SUPERVISOR_PID"


def supervisor() -> int | None:
    """The supervisor of this worker, or None when this process serves on its own."""
    pid = os.environ.get(SUPERVISOR_ENV)
    return int(pid) if pid else None


def orphaned(parent: int | None) -> bool:
    """Whether `parent`, which started this process, is gone (this one was adopted since)."""
    return parent is not None and os.getppid() != parent


def stop_with_parent(parent: int) -> None:
    """Have SIGTERM sent to this process when `parent`, which started it, dies; send it now
    when `parent` is gone already (before this process could ask)."""
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # not Linux: the folding process still watches its parent
        return
    if prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
        log.warning("cannot ask to be stopped with the supervisor: %s",
                    os.strerror(ctypes.get_errno()))
    if os.getppid() != parent:
        os.kill(os.getpid(), signal.SIGTERM)
