"""The shape of a movement as the log and the movements table store it, and of its request's context."""

from __future__ import annotations

from typing import NamedTuple

import msgspec


class Context(NamedTuple):
    """What the request that stored a movement tells about its visitor, derived on arrival:
    the address and the User-Agent themselves are never kept."""

    browser: str | None
    os: str | None
    device: str | None
    country: str | None
    region: str | None
    city: str | None


UNKNOWN = Context(None, None, None, None, None, None)


class MovementRow(NamedTuple):
    """A validated movement, in the column order of the movements table."""

    userId: str
    sessionId: str
    timestamp: int
    event: str
    data: str
    eventId: str | None
    revenue: str | None = None  # exact decimal text in the currency's minor units
    currency: str | None = None  # its ISO 4217 code


def encode_context(context: Context) -> str | None:
    """The context as the log keeps it: a JSON array, or None when nothing is known."""
    return None if context == UNKNOWN else msgspec.json.encode(context).decode()


def decode_context(text: str | None) -> Context:
    return UNKNOWN if text is None else Context(*msgspec.json.decode(text))
