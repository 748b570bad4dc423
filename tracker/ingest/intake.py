"""Intake: turning a decoded /track request into the rows the log takes.

The rules msgspec's constraints cannot express are checked here (both ids
or neither, none of the service's own `anon:` ids, the timestamp's window,
the size of `data` once encoded); each movement is given its site (its
`site`, else the site whose domains hold its `data.host`, else the only
site); anonymous events get their visitor's id on that site and the request
its context (ingest/visitors.py); the bot filter drops anonymous events from
crawlers; and an eventId repeated within the request keeps its first event
only. Duplicates of what is already stored are the log's to decide, under
its write lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tracker import schemas
from tracker.enrich import currencies
from tracker.enrich.visitor_ids import ANONYMOUS_PREFIX
from tracker.ingest.anonymous_sessions import UNASSIGNED
from tracker.ingest.visitors import Visitors
from tracker.schemas import MAX_OBJECT_BYTES, MovementIn
from tracker.storage.registry import Sites
from tracker.storage.rows import MovementRow

MAX_FUTURE_MS = 10 * 60 * 1000
MAX_PAST_MS = 30 * 24 * 60 * 60 * 1000


class Invalid(ValueError):
    """An event breaks a rule; the message names the field and where it is."""


class UnknownSite(Invalid):
    """An event's site cannot be told, or names no site."""


@dataclass(frozen=True)
class Intake:
    """One request, ready for the log."""

    received: int  # events in the request
    kept: int  # of them, not dropped by the bot filter
    rows: list[tuple[int, MovementRow]]  # of those, the first of each repeated eventId, by site
    context: str | None  # rows.encode_context of the request's visitor

    @property
    def ignored(self) -> int:
        return self.received - self.kept


def take(movements: list[tuple[MovementIn, str]], now: int, visitors: Visitors, sites: Sites,
         address: str, user_agent: str | None) -> Intake:
    """Check each (movement, its path in the body) and turn the request into rows."""
    placed = []
    for movement, path in movements:
        check_ids(movement.userId, movement.sessionId, path)
        placed.append(site_of(movement, path, sites))
    anonymous = any(movement.userId is None for movement, _path in movements)
    ignored = anonymous and visitors.is_ignored(user_agent)
    rows = []
    for (movement, path), site in zip(movements, placed):
        if movement.userId is None and ignored:
            continue
        visitor = None
        if movement.userId is None:
            visitor = visitors.anonymous_id(address, user_agent, now, site)
        rows.append((site, to_row(movement, now, path, visitor)))
    return Intake(len(movements), len(rows), drop_repeated_event_ids(rows),
                  visitors.context(address, user_agent))


def site_of(movement: MovementIn, path: str, sites: Sites) -> int:
    """The number of the site a movement belongs to."""
    if movement.site is not None:
        named = sites.by_id(movement.site)
        if named is None:
            raise UnknownSite(f"no site `{movement.site}` - at `{path}.site`")
        return named.number
    host = movement.data.get("host") if movement.data else None
    if isinstance(host, str):
        by_host = sites.by_domain(host_name(host))
        if by_host is not None:
            return by_host.number
    only = sites.only()
    if only is None:
        raise UnknownSite(f"the event names no site (`site`) and its `data.host` is no site's "
                          f"domain - at `{path}`")
    return only.number


def host_name(host: str) -> str:
    """`data.host` as a domain: lowercased, without a port or a trailing dot."""
    name = host.strip().lower()
    if name.startswith("["):  # an IPv6 address with a port
        return name.partition("]")[0] + "]"
    if ":" in name:
        name = name.rpartition(":")[0]
    return name.rstrip(".")


def check_ids(user_id: str | None, session_id: str | None, path: str) -> None:
    """Both ids or neither (an anonymous event), and none of the service's own `anon:` ids."""
    if (user_id is None) != (session_id is None):
        given, missing = ("userId", "sessionId") if session_id is None else ("sessionId", "userId")
        raise Invalid(f"`{given}` needs `{missing}`; leave both out for an anonymous event "
                      f"- at `{path}.{missing}`")
    for name, value in (("userId", user_id), ("sessionId", session_id)):
        if value is not None and value.startswith(ANONYMOUS_PREFIX):
            raise Invalid(f"ids starting with `{ANONYMOUS_PREFIX}` are the service's own - "
                          f"at `{path}.{name}`")


def to_row(movement: MovementIn, now: int, path: str, visitor: str | None) -> MovementRow:
    """The row to store; an anonymous event gets the visitor's id, and its session when it is
    folded."""
    timestamp = now if movement.timestamp is None else movement.timestamp
    if timestamp > now + MAX_FUTURE_MS:
        raise Invalid(f"timestamp is more than 10 minutes in the future - at `{path}.timestamp`")
    if timestamp < now - MAX_PAST_MS:
        if now - MAX_PAST_MS <= timestamp * 1000 <= now + MAX_FUTURE_MS:
            raise Invalid(f"timestamp looks like seconds since the epoch: timestamps are "
                          f"milliseconds (seconds times 1000) - at `{path}.timestamp`")
        raise Invalid(f"timestamp is more than 30 days in the past - at `{path}.timestamp`")
    data = "{}" if movement.data is None else encode_object(movement.data, f"{path}.data")
    amount, currency = revenue_columns(movement.revenue, f"{path}.revenue")
    if movement.userId is None:
        assert visitor is not None
        return MovementRow(visitor, UNASSIGNED, timestamp, movement.event, data, movement.eventId,
                           amount, currency)
    assert movement.sessionId is not None
    return MovementRow(movement.userId, movement.sessionId, timestamp, movement.event, data,
                       movement.eventId, amount, currency)


def revenue_columns(revenue: schemas.RevenueIn | None, path: str) -> tuple[str | None, str | None]:
    """(amount as stored, currency) of a movement's revenue, (None, None) without one."""
    if revenue is None:
        return None, None
    try:
        return currencies.checked(revenue.amount, revenue.currency)
    except currencies.BadRevenue as error:
        field = "currency" if "`currency`" in str(error) else "amount"
        raise Invalid(f"{error} - at `{path}.{field}`") from None


def encode_object(value: dict[str, Any], path: str) -> str:
    encoded = schemas.encode(value)
    if len(encoded) > MAX_OBJECT_BYTES:
        raise Invalid(f"Object is larger than {MAX_OBJECT_BYTES} bytes once encoded - at `{path}`")
    return encoded.decode()


def drop_repeated_event_ids(rows: list[tuple[int, MovementRow]]) -> list[tuple[int, MovementRow]]:
    """Keep the first of several events with the same (site, userId, eventId) in one request."""
    seen: set[tuple[int, str, str]] = set()
    unique = []
    for site, row in rows:
        if row.eventId is not None:
            key = (site, row.userId, row.eventId)
            if key in seen:
                continue
            seen.add(key)
        unique.append((site, row))
    return unique
