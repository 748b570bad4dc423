"""The outcomes of write jobs the owner ran from the stream, kept until their requester asks.

A node that publishes a write job (POST /session, an erasure's step) waits
for its outcome from the shard's owner, which folds the job in stream order
and keeps what it returned (or raised) here under the job's ticket for
KEEP_SECONDS. A job the owner found already folded (a new owner restored a
snapshot that holds it) has no outcome to give: the requester is told so
and answers 503, and the client's retry makes a new job.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

KEEP_SECONDS = 120.0


class Replayed:
    """The job was folded before this owner had the shard; its outcome is not known here."""


REPLAYED = Replayed()


class Outcomes:
    def __init__(self) -> None:
        self._found: dict[str, tuple[float, Any]] = {}
        self._changed = asyncio.Event()

    def record(self, ticket: str, outcome: Any) -> None:
        """On the event loop: a folded job's result or exception."""
        now = time.monotonic()
        self._found[ticket] = (now, outcome)
        if len(self._found) > 1000:
            self._found = {t: (at, o) for t, (at, o) in self._found.items() if now - at < KEEP_SECONDS}
        self._changed.set()
        self._changed = asyncio.Event()

    def take(self, ticket: str) -> tuple[bool, Any]:
        """(found, outcome) of a ticket, forgetting it."""
        found = self._found.pop(ticket, None)
        return (False, None) if found is None else (True, found[1])
