"""Plausible's Events API: an event its scripts send, made into the movements /track would take.

Plausible reads the body by hand and so does this module, with its rules and
its messages: `n`/`name` is the event (`pageview` is our `page_view`, a number
is taken as its text), `u`/`url` the page (its path, host, UTM parameters and
click ids become `data` as tracker.js sends them; `h: 1` keeps the fragment in
the path), `d`/`domain` the site or sites (comma-separated; without it the
URL's host), `r`/`referrer` the referrer, `p`/`props` or `m`/`meta` the
properties (an object or the JSON text of one; values that are objects,
lists, null or blank are dropped as Plausible drops them) and `$`/`revenue`
the revenue. A property never replaces what the URL says (`path`, `host`,
...). `engagement`, which Plausible's script sends when a page is left, is
taken and stores nothing. A domain that names no site is dropped, as
Plausible drops it; while the service holds one site without domains (a new
service's `default`), that site takes every event.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec

from tracker import schemas
from tracker.enrich.page_url import page_fields
from tracker.ingest.intake import host_name
from tracker.schemas import MovementIn, PlausibleEventIn
from tracker.storage.registry import Site, Sites

PAGEVIEW = "pageview"
# Sent by Plausible's scripts beside events: time on page and scroll depth, not an event.
NOT_EVENTS = frozenset({"engagement"})
MAX_URL_BYTES = 2000
DISALLOWED_SCHEMES = frozenset({"data"})
# Plausible's names for the fields its errors are about.
FIELD_OF_PATH = {"event": "event_name", "data": "props"}


class Rejected(Exception):
    """Plausible would answer 400: `errors` maps each field to its messages."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(errors)
        self.errors = errors


@dataclass(frozen=True)
class PlausibleEvent:
    """An event as Plausible reads it: its name (ours), the domains it names and its data."""

    event: str
    domains: list[str]
    data: dict[str, Any]
    revenue: dict[str, Any] | None

    @property
    def counts(self) -> bool:
        return self.event not in NOT_EVENTS


def read(body: PlausibleEventIn) -> PlausibleEvent:
    """The event a decoded body describes; Rejected with every broken rule otherwise."""
    errors: dict[str, list[str]] = {}
    name = _event_name(first(body.n, body.name), errors)
    url = _url(first(body.u, body.url), errors)
    domains = _domains(first(body.d, body.domain), url, errors)
    if errors:
        raise Rejected(errors)
    assert name is not None and url is not None
    data = properties(first(body.m, body.meta, body.p, body.props))
    fields = _page(url, first(body.h, body.hashMode))
    referrer = first(body.r, body.referrer)
    if name != "page_view":  # an event keeps where it happened; the visit's source is its page view's
        fields = {key: fields[key] for key in ("path", "host") if key in fields}
    elif isinstance(referrer, str):
        data["referrer"] = referrer
    data.update(fields)
    return PlausibleEvent(name, domains, data, revenue_of(first(body.dollar, body.revenue)))


def movements(event: PlausibleEvent, sites: Sites) -> list[tuple[MovementIn, str]]:
    """The event once for each site its domains name (none for a domain of no site), each
    checked against /track's rules: Rejected when one is broken."""
    found: list[Site] = []
    for domain in event.domains:
        site = site_for(domain, sites)
        if site is not None and site not in found:
            found.append(site)
    return [(_movement(event, site.id), "$") for site in found]


def site_for(domain: str, sites: Sites) -> Site | None:
    """The site a `d` names: by its id, else by one of its domains (with or without `www.`),
    else the only site while it has no domains."""
    named = sites.by_id(domain)
    if named is not None:
        return named
    host = host_name(domain)
    found = sites.by_domain(host) or sites.by_domain(host.removeprefix("www."))
    if found is not None:
        return found
    only = sites.only()
    return only if only is not None and not only.domains else None


def _movement(event: PlausibleEvent, site: str) -> MovementIn:
    """The movement /track would take, validated by the same constraints. Its revenue goes
    along where movements carry one (unknown fields are ignored); a revenue that breaks their
    rules is dropped, as Plausible drops it, and the event kept."""
    fields: dict[str, Any] = {"event": event.event, "site": site}
    if event.data:
        fields["data"] = event.data
    try:
        return msgspec.convert({**fields, "revenue": event.revenue} if event.revenue else fields,
                               MovementIn)
    except msgspec.ValidationError as error:
        if event.revenue and field_of(str(error)) == "revenue":
            return _movement(PlausibleEvent(event.event, event.domains, event.data, None), site)
        raise Rejected({field_of(str(error)): [str(error)]}) from None


def field_of(message: str) -> str:
    """Plausible's name of the field a msgspec message is about (``at `$.event` ``)."""
    path = message.rpartition("`$.")[2].split("`")[0].split(".")[0].split("[")[0]
    return FIELD_OF_PATH.get(path, path or "request")


def first(*values: Any) -> Any:
    """The first value that is not null, as Plausible's `a || b` reads a body."""
    return next((value for value in values if value is not None), None)


def _event_name(value: Any, errors: dict[str, list[str]]) -> str | None:
    if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
        errors["event_name"] = ["can't be blank" if value in (None, "") else "is invalid"]
        return None
    name = str(value)
    return "page_view" if name == PAGEVIEW else name


def _url(value: Any, errors: dict[str, list[str]]) -> str | None:
    if value is None:
        errors["url"] = ["is required"]
    elif not isinstance(value, str) or len(value.encode()) > MAX_URL_BYTES or not _parses(value):
        errors["url"] = ["must be a valid url"]
    elif value.partition(":")[0].strip().lower() in DISALLOWED_SCHEMES:
        errors["url"] = ["scheme is not allowed"]
    else:
        return value
    return None


def _parses(url: str) -> bool:
    try:
        page_fields(url)
    except ValueError:
        return False
    return True


def _domains(value: Any, url: str | None, errors: dict[str, list[str]]) -> list[str]:
    """The domains named: `d` split at commas, or the URL's host; `www.` goes, as in Plausible."""
    if isinstance(value, str) and value.strip():
        return [sanitized(domain) for domain in value.split(",") if domain.strip()]
    if value is None and url is not None:
        host = page_fields(url).get("host")
        if host:
            return [sanitized(host_name(host))]
    errors["domain"] = ["can't be blank"]
    return []


def sanitized(domain: str) -> str:
    return domain.strip().lower().removeprefix("www.")


def _page(url: str, hash_mode: Any) -> dict[str, Any]:
    """The page's data; in hash mode (`h: 1`, a single-page app routing by fragment) the path
    keeps the fragment."""
    fields = page_fields(url)
    fragment = url.partition("#")[2]
    if hash_mode == 1 and fragment:
        fields["path"] = f"{fields['path']}#{fragment}"
    return fields


def properties(value: Any) -> dict[str, Any]:
    """Custom properties from an object or the JSON text of one; values Plausible drops
    (objects, lists, null, blank text) are left out."""
    if isinstance(value, str):
        try:
            value = msgspec.json.decode(value)
        except msgspec.DecodeError:
            return {}
    if not isinstance(value, dict):
        return {}
    return {str(key): item for key, item in value.items()
            if str(key).strip() and item is not None and not isinstance(item, list | dict)
            and not (isinstance(item, str) and not item.strip())}


def revenue_of(value: Any) -> dict[str, Any] | None:
    """`$` as a movement's `revenue`, `{"amount", "currency"}` (from an object or the JSON text
    of one; a number amount as its decimal text), or None when it is not one."""
    if isinstance(value, str):
        try:
            value = msgspec.json.decode(value)
        except msgspec.DecodeError:
            return None
    if not isinstance(value, dict) or "amount" not in value or "currency" not in value:
        return None
    amount = value["amount"]
    if isinstance(amount, int | float) and not isinstance(amount, bool):
        amount = repr(amount)  # the decimal the number was written as: 19.9, not 19.899999...
    return {"amount": amount, "currency": value["currency"]}


def decode(body: bytes) -> PlausibleEventIn:
    """The body as a PlausibleEventIn; Rejected as Plausible rejects what is not a JSON object."""
    try:
        return schemas.plausible_decoder.decode(body)
    except (msgspec.DecodeError, RecursionError, UnicodeDecodeError):
        raise Rejected({"request": ["Unable to parse request body as json"]}) from None
