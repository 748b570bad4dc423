"""The service lock: every running service process holds it shared, restore needs it alone.

`tracker import` holds it shared too, and notes whether a service held it: if none
did, it folds what it imports itself.
"""

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


def hold_shared_noting_others(data_dir: Path) -> tuple[int, bool]:
    """Take the lock shared, as `hold_shared`; and whether no other process held it then (no
    service was running on the data directory)."""
    fd = os.open(data_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        alone = True
    except BlockingIOError:
        alone = False
    fcntl.flock(fd, fcntl.LOCK_SH)
    return fd, alone
