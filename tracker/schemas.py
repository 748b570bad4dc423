"""Request and response shapes, as msgspec Structs.

The constraints live in the types (`Meta`), so decoding is validation and the
OpenAPI description is generated from the same classes. Decoders are built
once, here. Unknown fields are ignored so that newer clients keep working.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

import msgspec

# Unicode category Cc is exactly U+0000-U+001F and U+007F-U+009F. The
# lookahead anchors the end (`$` would let a final newline through).
NO_CONTROL = r"^[^\x00-\x1f\x7f-\x9f]*(?![\s\S])"
Identifier = Annotated[str, msgspec.Meta(min_length=1, max_length=128, pattern=NO_CONTROL)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=NO_CONTROL)]
# The latest instant a client may name: 9999-12-01T00:00:00Z. Windows are read
# on a zone's clock and widened by up to ten days (a period's end, a bucket's
# start) in `datetime`, which ends with the year 9999.
LATEST_MS = 253_399_622_400_000
Millis = Annotated[int, msgspec.Meta(ge=0, le=LATEST_MS)]
# A site's id: lowercase letters, digits, dots and dashes, starting with a letter or digit.
SITE_ID_PATTERN = r"^[a-z0-9][a-z0-9.-]{0,63}$"
SiteId = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=SITE_ID_PATTERN)]

MAX_EVENTS = 500

Bucket = Literal["1m", "1h", "1d"]
Period = Literal["day", "week"]
FunnelEntity = Literal["user", "visit"]
MAX_OBJECT_BYTES = 16 * 1024


class RevenueIn(msgspec.Struct):
    """Revenue a movement brings: a decimal number or string, and an ISO 4217 code in capitals.
    The amount is rounded half-even to the currency's minor units when stored."""

    amount: Decimal
    currency: Annotated[str, msgspec.Meta(min_length=3, max_length=3)]


class Revenue(msgspec.Struct):
    """Revenue as stored and answered: the amount as exact decimal text in the currency's minor
    units (`"19.90"`)."""

    amount: str
    currency: str


class MovementIn(msgspec.Struct):
    """A movement as a client sends it: without userId and sessionId it is anonymous."""

    event: Name
    userId: Identifier | None = None
    sessionId: Identifier | None = None
    timestamp: Millis | None = None
    data: dict[str, Any] | None = None
    eventId: Name | None = None
    site: SiteId | None = None
    revenue: RevenueIn | None = None


class BatchIn(msgspec.Struct):
    events: Annotated[list[MovementIn], msgspec.Meta(min_length=1, max_length=MAX_EVENTS)]


class TrackIn(msgspec.Struct):
    """A /track body decoded in one pass: a batch (`events`), or one movement's fields.

    The OpenAPI description says it the way clients read it: a MovementIn
    or a BatchIn.
    """

    events: Annotated[list[MovementIn], msgspec.Meta(min_length=1, max_length=MAX_EVENTS)] | None = None
    event: Name | None = None
    userId: Identifier | None = None
    sessionId: Identifier | None = None
    timestamp: Millis | None = None
    data: dict[str, Any] | None = None
    eventId: Name | None = None
    site: SiteId | None = None
    revenue: RevenueIn | None = None

    def movements(self) -> list[tuple[MovementIn, str]]:
        """Each movement with its path in the body, for error details; a single movement
        without `event` is a ValidationError as msgspec would raise it."""
        if self.events is not None:
            return [(movement, f"$.events[{i}]") for i, movement in enumerate(self.events)]
        if self.event is None:
            raise msgspec.ValidationError("Object missing required field `event`")
        return [(MovementIn(self.event, self.userId, self.sessionId, self.timestamp, self.data,
                            self.eventId, self.site, self.revenue), "$")]


class SessionIn(msgspec.Struct):
    userId: Identifier
    sessionId: Identifier
    deviceInfo: dict[str, Any] | None = None
    site: SiteId | None = None


class TrackOut(msgspec.Struct):
    accepted: int
    duplicates: int
    ignored: int = 0


class Session(msgspec.Struct):
    userId: str
    sessionId: str
    startTime: int
    lastActivity: int
    deviceInfo: msgspec.Raw


class SessionOut(msgspec.Struct):
    session: Session


class SessionOpened(msgspec.Struct):
    session: Session
    created: bool


class Movement(msgspec.Struct, omit_defaults=True):
    """A stored movement; `revenue` is left out of the JSON when it has none."""

    userId: str
    sessionId: str
    timestamp: int
    event: str
    data: msgspec.Raw
    eventId: str | None
    revenue: Revenue | None = None


class LiveMovement(msgspec.Struct):
    """A movement as the live feed sends it: `sessionId` is null for an anonymous movement,
    whose session is decided only when it is folded."""

    userId: str
    sessionId: str | None
    timestamp: int
    event: str
    data: msgspec.Raw
    eventId: str | None


class LiveVisitors(msgspec.Struct):
    visitors: int
    visits: int
    from_: int = msgspec.field(name="from")
    to: int


class MovementsPage(msgspec.Struct):
    movements: list[Movement]
    nextCursor: str | None


class ExportedSession(Session, tag_field="type", tag="session"):
    """A line of a user's export: a Session, marked `"type": "session"`."""


class ExportedMovement(Movement, tag_field="type", tag="movement"):
    """A line of a user's export: a Movement, marked `"type": "movement"`."""


class UserErased(msgspec.Struct):
    userId: str
    movements: int
    sessions: int


class ErasureRunning(msgspec.Struct):
    """The 202 answer of an erasure that goes on in the background: what it removed so far."""

    status: Literal["running"]
    userId: str
    movements: int
    sessions: int
    requestedAt: int


class Erasure(msgspec.Struct):
    """A user's latest erasure: `running`, or `done` with the counts it removed in all."""

    userId: str
    status: Literal["running", "done"]
    movements: int
    sessions: int
    requestedAt: int
    finishedAt: int | None


class Totals(msgspec.Struct):
    movements: int
    pageViews: int
    sessions: int
    users: int


class EventCount(msgspec.Struct):
    event: str
    count: int


class PageCount(msgspec.Struct):
    path: str
    count: int


class SeriesPoint(msgspec.Struct):
    t: int
    movements: int
    pageViews: int


class Analytics(msgspec.Struct):
    userId: str | None
    from_: int = msgspec.field(name="from")
    to: int
    bucket: Bucket
    totals: Totals
    events: list[EventCount]
    topPages: list[PageCount]
    series: list[SeriesPoint]


class RevenueFigures(msgspec.Struct):
    """Revenue of conversion events in one currency, as exact decimal text in its minor units:
    the total, and the average over the conversion events that carry it."""

    total: str
    average: str


class WebTotals(msgspec.Struct, omit_defaults=True):
    """The window's totals; under a goal filter also its conversions (unique), events (total
    completions), conversion rate and revenue per currency."""

    visitors: int
    visits: int
    pageviews: int
    bounceRate: float
    visitDuration: float
    conversions: int | None = None
    events: int | None = None
    conversionRate: float | None = None
    revenue: dict[str, RevenueFigures] | None = None


class PreviousPeriod(msgspec.Struct):
    from_: int = msgspec.field(name="from")
    to: int
    totals: WebTotals


class StatsPoint(msgspec.Struct):
    t: int
    visitors: int
    visits: int
    pageviews: int


class Stats(msgspec.Struct):
    from_: int = msgspec.field(name="from")
    to: int
    bucket: Bucket
    totals: WebTotals
    previous: PreviousPeriod | None
    series: list[StatsPoint]


class VisitRow(msgspec.Struct, omit_defaults=True):
    """A breakdown row over visits (by a visit dimension); under a goal filter also the
    row's conversions, events, conversion rate (against the row's visitors without the goal
    filter) and revenue."""

    value: str | None
    visitors: int
    visits: int
    pageviews: int
    bounceRate: float
    visitDuration: float
    conversions: int | None = None
    events: int | None = None
    conversionRate: float | None = None
    revenue: dict[str, RevenueFigures] | None = None


class PageRow(msgspec.Struct):
    """A breakdown row over page views (by=page)."""

    value: str | None
    visitors: int
    visits: int
    pageviews: int


class EventRow(msgspec.Struct):
    """A breakdown row over movements (by=event, by=prop:KEY)."""

    value: str | None
    visitors: int
    visits: int
    events: int


class GoalRow(msgspec.Struct):
    """A goal's row (by=goal): visitors who completed it (unique conversions), its completions
    (total conversions), visitors / all visitors of the window, and revenue per currency."""

    value: str
    visitors: int
    events: int
    conversionRate: float
    revenue: dict[str, RevenueFigures]


class GoalBreakdown(msgspec.Struct):
    by: Literal["goal"]
    from_: int = msgspec.field(name="from")
    to: int
    results: list[GoalRow]


class VisitBreakdown(msgspec.Struct):
    by: str
    from_: int = msgspec.field(name="from")
    to: int
    results: list[VisitRow]


class PageBreakdown(msgspec.Struct):
    by: Literal["page"]
    from_: int = msgspec.field(name="from")
    to: int
    results: list[PageRow]


class EventBreakdown(msgspec.Struct):
    by: str
    from_: int = msgspec.field(name="from")
    to: int
    results: list[EventRow]


class Cohort(msgspec.Struct):
    """New users of the period starting at `t`; `returned[k]`: those active k periods later."""

    t: int
    users: int
    returned: list[int]


class Retention(msgspec.Struct):
    period: Period
    from_: int = msgspec.field(name="from")
    to: int
    cohorts: list[Cohort]
class FunnelStep(msgspec.Struct):
    """How many entities reach a step, as a share of the first step's and the loss since the
    previous one."""

    step: str
    count: int
    conversion: float
    dropOff: int


class Funnel(msgspec.Struct):
    by: FunnelEntity
    from_: int = msgspec.field(name="from")
    to: int
    steps: list[FunnelStep]


# Sites and access (the management API).

Label = Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=NO_CONTROL)]
Domain = Annotated[str, msgspec.Meta(min_length=1, max_length=253)]
Password = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class SiteIn(msgspec.Struct):
    id: SiteId
    name: Label | None = None
    domains: Annotated[list[Domain], msgspec.Meta(max_length=50)] = []
    timezone: str = "UTC"


class SitePatch(msgspec.Struct):
    name: Label | None = None
    domains: Annotated[list[Domain], msgspec.Meta(max_length=50)] | None = None
    timezone: str | None = None


class SiteOut(msgspec.Struct):
    id: str
    name: str
    domains: list[str]
    timezone: str
    umamiId: str
    created: int
    status: Literal["live", "deleting"]


class SitesOut(msgspec.Struct):
    sites: list[SiteOut]


class KeyMade(msgspec.Struct):
    id: str
    key: str
    created: int


class KeyListed(msgspec.Struct):
    id: str
    created: int


class KeysOut(msgspec.Struct):
    keys: list[KeyListed]


class ShareIn(msgspec.Struct):
    password: Password | None = None
    expires: Millis | None = None


class ShareMade(msgspec.Struct):
    id: str
    url: str
    created: int
    expires: int | None


class ShareListed(msgspec.Struct):
    id: str
    created: int
    expires: int | None
    password: bool


class SharesOut(msgspec.Struct):
    shares: list[ShareListed]


class ShareAuth(msgspec.Struct):
    password: Password



# What other tools' scripts send (POST /api/event, POST /api/send).


class PlausibleEventIn(msgspec.Struct):
    """A body of Plausible's Events API: the short names its scripts send or the long ones its
    documentation uses. Any JSON is taken for each, as Plausible takes it; what it must be is
    checked as Plausible checks it (tracker/ingest/plausible.py)."""

    n: Any = None
    name: Any = None
    u: Any = None
    url: Any = None
    d: Any = None
    domain: Any = None
    r: Any = None
    referrer: Any = None
    p: Any = None
    props: Any = None
    m: Any = None
    meta: Any = None
    dollar: Any = msgspec.field(default=None, name="$")
    revenue: Any = None
    h: Any = None
    hashMode: Any = None
    i: Any = None
    v: Any = None
    w: Any = None


class PlausibleErrors(msgspec.Struct):
    """Plausible's 400 answer: each field's messages."""

    errors: dict[str, list[str]]


class UmamiPayload(msgspec.Struct):
    """What Umami's script sends about a page view (no `name`) or an event."""

    website: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    hostname: Annotated[str, msgspec.Meta(max_length=253)] | None = None
    url: str | None = None
    referrer: str | None = None
    title: str | None = None
    name: Name | None = None
    data: dict[str, Any] | None = None
    screen: str | None = None
    language: str | None = None


class UmamiIn(msgspec.Struct):
    """A body Umami's script posts: `event` (a page view or an event), `identify` (session data,
    not kept) or `performance` (web vitals, not kept)."""

    type: Literal["event", "identify", "performance"]
    payload: UmamiPayload


class UmamiOut(msgspec.Struct):
    """What Umami's script reads of the answer: `cache`, which it sends back in `x-umami-cache`
    (tracker keeps no state there, so it is empty)."""

    cache: str


# Lines of tracker's own export (GET /users/{userId}/export), as `tracker import` reads them.


class ImportedSessionLine(msgspec.Struct, tag_field="type", tag="session"):
    """A session line: its sessions are made again from its movements."""


class ImportedMovementLine(msgspec.Struct, tag_field="type", tag="movement"):
    """A movement line, with the limits /track sets (but any age)."""

    userId: Identifier
    sessionId: Identifier
    timestamp: Millis
    event: Name
    data: dict[str, Any] = {}
    eventId: Name | None = None


PagePattern = Annotated[str, msgspec.Meta(min_length=1, max_length=1024, pattern=NO_CONTROL)]


class GoalIn(msgspec.Struct):
    """A goal: an event name or a page pattern (`*` matches any run of characters)."""

    event: Name | None = None
    page: PagePattern | None = None
    name: Label | None = None


class GoalOut(msgspec.Struct):
    id: int
    name: str
    event: str | None
    page: str | None
    created: int


class GoalsOut(msgspec.Struct):
    goals: list[GoalOut]


# One address, no display name: what an envelope's RCPT TO takes (RFC 5321 caps it at 254).
Email = Annotated[str, msgspec.Meta(min_length=3, max_length=254,
                                    pattern=r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\"]+$")]


class ReportIn(msgspec.Struct):
    """A subscription to a site's email report."""

    email: Email
    every: Literal["week", "month"]


class ReportSend(msgspec.Struct):
    """The latest report of a subscription: the period it covers (its start, ms) and how far
    its send got: sending, data (being handed over), sent, failed (tried again at `retryAt`)
    or unknown (the connection broke while the server had it: never sent twice)."""

    period: int
    status: str
    attempts: int
    retryAt: int | None
    error: str | None


class ReportOut(msgspec.Struct):
    id: int
    email: str
    every: str
    created: int
    lastSend: ReportSend | None = None


class ReportsOut(msgspec.Struct):
    reports: list[ReportOut]


class Error(msgspec.Struct):
    error: str
    detail: Any = None


track_decoder = msgspec.json.Decoder(TrackIn)
site_decoder = msgspec.json.Decoder(SiteIn)
site_patch_decoder = msgspec.json.Decoder(SitePatch)
share_decoder = msgspec.json.Decoder(ShareIn)
goal_decoder = msgspec.json.Decoder(GoalIn)
report_decoder = msgspec.json.Decoder(ReportIn)
share_auth_decoder = msgspec.json.Decoder(ShareAuth)
session_decoder = msgspec.json.Decoder(SessionIn)
plausible_decoder = msgspec.json.Decoder(PlausibleEventIn)
umami_decoder = msgspec.json.Decoder(UmamiIn)
export_line_decoder = msgspec.json.Decoder(ImportedSessionLine | ImportedMovementLine)
encode = msgspec.json.Encoder().encode
