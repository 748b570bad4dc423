"""Creating a file whole, once, when several processes may start at the same moment."""

from __future__ import annotations

import os
from pathlib import Path


def create_once(path: Path, text: str, mode: int = 0o644) -> None:
    """Create `path` holding `text`, synced; if another process made it first, theirs stays.

    The text is written to a private temporary name and linked into place,
    so a reader never sees a half-written file.
    """
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as file:
        file.write(text)
        file.flush()
        os.fsync(file.fileno())
    try:
        os.link(temp, path)
    except FileExistsError:
        pass
    finally:
        temp.unlink()
