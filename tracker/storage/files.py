"""File helpers: creating a file whole, once, when several processes may start at the
same moment; syncing; checksums."""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path


def create_once(path: Path, content: str | bytes, mode: int = 0o644) -> None:
    """Create `path` holding `content`, synced; if another process made it first, theirs stays.

    The content is written to a private temporary name and linked into place
    (a rename would let the last writer replace what others already read),
    so a reader never sees a half-written file.
    """
    data = content.encode() if isinstance(content, str) else content
    temp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())
    try:
        os.link(temp, path)
        fsync_path(path.parent)
    except FileExistsError:
        pass
    finally:
        temp.unlink()


def fsync_path(path: Path) -> None:
    """fsync a file or a directory (a directory's, to make a rename in it durable)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
