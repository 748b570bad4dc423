"""The service lock: every running service process holds it shared, restore needs it alone."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

LOCK_NAME = "service.lock"


class DataDirInUse(Exception):
    """A running service has the data directory open."""


def hold_shared(data_dir: Path) -> int:
    """Take the lock shared for this process's lifetime; returns the descriptor to release."""
    fd = os.open(data_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_SH)
    return fd


def release(fd: int) -> None:
    os.close(fd)


def take_exclusive(data_dir: Path) -> int:
    """The lock alone, or DataDirInUse at once when a service holds it."""
    fd = os.open(data_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise DataDirInUse(f"a running tracker service is using {data_dir}; stop it first") from None
    return fd
