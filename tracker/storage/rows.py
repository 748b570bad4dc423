"""The shape of a movement as the log and the movements table store it."""

from __future__ import annotations

from typing import NamedTuple


class MovementRow(NamedTuple):
    """A validated movement, in the column order of the movements table."""

    userId: str
    sessionId: str
    timestamp: int
    event: str
    data: str
    eventId: str | None
