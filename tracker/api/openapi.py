"""GET /openapi.json: an OpenAPI 3.1 description generated from the msgspec Structs.

Request bodies and answers are the Structs the handlers decode and encode
(`msgspec.json.schema_components`), so the description cannot drift from
the code; the operations table below says which endpoint uses which.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

import msgspec

from tracker import schemas
from tracker.schemas import Error, Identifier, Millis, Name

REF_TEMPLATE = "#/components/schemas/{name}"

Limit = Annotated[int, msgspec.Meta(ge=1, le=1000)]
TimeRange = Literal["1h", "24h", "7d", "30d"]
# `from` and `to`: ms since the epoch, or ISO 8601 (tracker/api/params.py `instant`).
Instant = Millis | Annotated[str, msgspec.Meta(
    description="an ISO 8601 date (2026-12-01) or date-time (2026-12-01T08:00:00Z); without an "
                "offset, on the clock of the read's zone (`tz`, else the site's; UTC for "
                "/movements)")]
WithinMs = Annotated[int, msgspec.Meta(ge=1, le=400 * 86_400_000)]


class Health(msgspec.Struct):
    status: str


@dataclass(frozen=True)
class Param:
    name: str
    type: Any
    required: bool = False
    location: str = "query"


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    summary: str
    answer: Any  # a type answered as JSON (a tuple: any of them), or a media type (str)
    errors: tuple[int, ...] = ()
    body: tuple[Any, ...] = ()  # request body types, any of which is accepted
    params: tuple[Param, ...] = ()
    security: str | None = None  # the security scheme that guards it, if any
    token_optional: bool = False
    accepted: Any = None  # the type answered with 202, for work that goes on in the background
    status: int = 200  # of a success: 201 for a creation, 202 for work in the background, 204
    error_answers: dict[int, Any] = field(default_factory=dict)  # errors not answered as Error


ERROR_MEANINGS = {
    400: "malformed JSON, or a body that is not an object",
    401: "missing or wrong bearer token (or, for a share link, its password not given yet)",
    403: "a site key used for another site, for management or to erase a user",
    404: "no such thing (an unknown site, key, share or user)",
    409: "a duplicate: a site id, domain, goal or subscription already there, a session id of "
         "another user",
    410: "an expired share link",
    413: "body over 1 MiB",
    415: "content type other than application/json or text/plain",
    422: "a field or parameter that breaks a rule; the detail names it",
    429: "rate limited; retry after Retry-After seconds",
    503: "overloaded, stopping, a shard that cannot be written, an archive file that cannot be "
         "read, or an export that cannot be written to disk",
}
STATUS_MEANINGS = {200: "OK", 201: "created", 202: "accepted: goes on in the background",
                   204: "done, nothing to answer"}
# What a status means where the operation answers it in its own words.
OWN_MEANINGS = {(202, "/api/event"): "accepted (stored, or dropped as Plausible drops it)",
                (400, "/api/event"): "a body Plausible would refuse: each field with its messages"}
RETRY_AFTER = {"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}}

INGEST_ERRORS = (400, 413, 415, 422, 429, 503)
WINDOW_PARAMS = (Param("timeRange", TimeRange), Param("from", Instant), Param("to", Instant),
                 Param("tz", str))
USER_PATH = Param("userId", Identifier, True, "path")
SITE = Param("site", schemas.SiteId)
SITE_PATH = Param("id", schemas.SiteId, True, "path")
SHARE_PATH = Param("token", str, True, "path")

SITE_ERRORS = (401, 403, 404, 422)
# A read names its site: 403 for a key of another site, 404 for an unknown one.
READ_ERRORS = (401, 403, 404, 422, 503)

SITE_OPERATIONS = (
    Operation("get", "/sites", "The sites the credential reads (the admin: every site)",
              schemas.SitesOut, (401,), security="readToken"),
    Operation("post", "/sites", "Add a site (its shard files are made before it is listed)",
              schemas.SiteOut, (400, 401, 403, 409, 413, 415, 422), body=(schemas.SiteIn,),
              security="readToken", status=201),
    Operation("get", "/sites/{id}", "A site, with its status (`deleting` until it is gone)",
              schemas.SiteOut, SITE_ERRORS, params=(SITE_PATH,), security="readToken"),
    Operation("patch", "/sites/{id}", "Change a site's name, domains or time zone",
              schemas.SiteOut, (400, *SITE_ERRORS, 409), params=(SITE_PATH,),
              body=(schemas.SitePatch,), security="readToken"),
    Operation("delete", "/sites/{id}",
              "Delete a site: refused at once everywhere, its data erased in the background",
              schemas.SiteOut, (*SITE_ERRORS, 409), params=(SITE_PATH,), security="readToken",
              status=202),
    Operation("post", "/sites/{id}/keys", "A new key reading this site only, shown once",
              schemas.KeyMade, SITE_ERRORS, params=(SITE_PATH,), security="readToken", status=201),
    Operation("get", "/sites/{id}/keys", "The site's keys (never the keys themselves)",
              schemas.KeysOut, SITE_ERRORS, params=(SITE_PATH,), security="readToken"),
    Operation("delete", "/sites/{id}/keys/{keyId}", "Revoke a key, in every worker at once", None,
              SITE_ERRORS, params=(SITE_PATH, Param("keyId", str, True, "path")),
              security="readToken", status=204),
    Operation("post", "/sites/{id}/shares",
              "A new share link to the site's dashboard and aggregates, optionally with a "
              "password and an expiry; its URL is shown once",
              schemas.ShareMade, (400, *SITE_ERRORS), params=(SITE_PATH,), body=(schemas.ShareIn,),
              security="readToken", status=201),
    Operation("get", "/sites/{id}/shares", "The site's share links (never their tokens)",
              schemas.SharesOut, SITE_ERRORS, params=(SITE_PATH,), security="readToken"),
    Operation("delete", "/sites/{id}/shares/{shareId}", "Revoke a share link", None,
              SITE_ERRORS, params=(SITE_PATH, Param("shareId", str, True, "path")),
              security="readToken", status=204),
    Operation("get", "/sites/{id}/goals", "The site's goals", schemas.GoalsOut, SITE_ERRORS,
              params=(SITE_PATH,), security="readToken"),
    Operation("post", "/sites/{id}/goals",
              "Add a goal: an event name or a page pattern (`*` matches any run of characters), "
              "with an optional display name; it counts past data at once",
              schemas.GoalOut, (400, *SITE_ERRORS, 409, 413, 415), params=(SITE_PATH,),
              body=(schemas.GoalIn,), security="readToken", status=201),
    Operation("delete", "/sites/{id}/goals/{goalId}", "Remove a goal", None, SITE_ERRORS,
              params=(SITE_PATH, Param("goalId", int, True, "path")), security="readToken",
              status=204),
    Operation("get", "/sites/{id}/export",
              "A zip of complete CSV reports of the site over the window: visitors per day, "
              "sources, channels, UTM fields, pages, entry and exit pages, countries, regions, "
              "cities, devices, browsers, operating systems, events and goals (no top-N cut), "
              "streamed", "application/zip", READ_ERRORS, params=(SITE_PATH, *WINDOW_PARAMS),
              security="readToken"),
    Operation("get", "/sites/{id}/reports",
              "The site's email report subscriptions, each with how its latest send went",
              schemas.ReportsOut, SITE_ERRORS, params=(SITE_PATH,), security="readToken"),
    Operation("post", "/sites/{id}/reports",
              "Subscribe an address to the site's weekly or monthly email report (sent through "
              "TRACKER_SMTP_URL; the latest due report goes out at the next run of the job)",
              schemas.ReportOut, (400, *SITE_ERRORS, 409, 413, 415), params=(SITE_PATH,),
              body=(schemas.ReportIn,), security="readToken", status=201),
    Operation("delete", "/sites/{id}/reports/{reportId}", "Cancel a subscription", None,
              SITE_ERRORS, params=(SITE_PATH, Param("reportId", int, True, "path")),
              security="readToken", status=204),
    Operation("get", "/reports/unsubscribe/{token}",
              "The page an email report's unsubscribe link opens: one button, no sign-in",
              "text/html", (422,), params=(Param("token", str, True, "path"),)),
    Operation("post", "/reports/unsubscribe/{token}",
              "Cancel the subscription whose report carried this link (the page's button, or a "
              "mail client's RFC 8058 one-click request); 404 when there is none (a page for a "
              "browser, Accept: text/html)",
              "text/html", (404, 422), params=(Param("token", str, True, "path"),)),
)

SHARE_ERRORS = (401, 404, 410, 422, 503)

SHARE_OPERATIONS = (
    Operation("get", "/share/{token}",
              "A share link's dashboard, read-only; a browser (Accept: text/html) gets the page "
              "with the 404 or 410 too, and the page says why", "text/html",
              (404, 410), params=(SHARE_PATH,)),
    Operation("get", "/share/{token}/site", "The shared site", schemas.SiteOut, (401, 404, 410),
              params=(SHARE_PATH,)),
    Operation("post", "/share/{token}/auth",
              "Give a share link's password; the right one sets an HttpOnly cookie for the "
              "link's path, which its reads need; wrong ones are rate-limited", None,
              (400, 401, 404, 410, 422, 429), params=(SHARE_PATH,), body=(schemas.ShareAuth,),
              status=204),
    *(Operation("get", f"/share/{{token}}{path}", f"As `GET {path}`, for the shared site", answer,
                SHARE_ERRORS, params=(SHARE_PATH, *extra))
      for path, answer, extra in (
          ("/stats", schemas.Stats, (*WINDOW_PARAMS, Param("filter", list[str]))),
          ("/breakdown", (schemas.VisitBreakdown, schemas.PageBreakdown, schemas.EventBreakdown),
           (Param("by", str, True), *WINDOW_PARAMS, Param("filter", list[str]))),
          ("/funnels", schemas.Funnel, (Param("step", list[str], True), *WINDOW_PARAMS)),
          ("/retention", schemas.Retention, (Param("period", Literal["day", "week"], True),
                                             *WINDOW_PARAMS, Param("event", Name),
                                             Param("identified", bool))),
          ("/live/visitors", schemas.LiveVisitors, ()))),
)

OPERATIONS = (
    Operation("post", "/track", "Store one movement or a batch of up to 500", schemas.TrackOut,
              INGEST_ERRORS, body=(schemas.MovementIn, schemas.BatchIn)),
    Operation("post", "/session", "Create a session or refresh it", schemas.SessionOpened,
              (*INGEST_ERRORS, 409), body=(schemas.SessionIn,)),
    Operation("post", "/api/event",
              "Plausible's Events API, as Plausible's scripts send it: answers `ok`, or 400 with "
              "Plausible's `errors` (an event for a domain of no site is dropped, as Plausible "
              "drops it)", "text/plain", (400, 413, 415, 429, 503),
              body=(schemas.PlausibleEventIn,), status=202,
              error_answers={400: schemas.PlausibleErrors}),
    Operation("post", "/api/send",
              "Umami's tracker payload (`website` is the site's umamiId); without `name` a page "
              "view", schemas.UmamiOut, INGEST_ERRORS, body=(schemas.UmamiIn,)),
    Operation("get", "/session", "A live session", schemas.SessionOut, READ_ERRORS,
              params=(SITE, Param("sessionId", Identifier, True), Param("userId", Identifier)),
              security="readToken"),
    Operation("get", "/movements", "A user's movements, newest first", schemas.MovementsPage,
              READ_ERRORS,
              params=(SITE, Param("userId", Identifier, True), Param("from", Instant), Param("to", Instant),
                      Param("event", Name), Param("limit", Limit), Param("cursor", str)),
              security="readToken"),
    Operation("get", "/analytics", "Aggregates over a time window", schemas.Analytics,
              READ_ERRORS,
              params=(SITE, Param("timeRange", TimeRange), Param("from", Instant), Param("to", Instant),
                      Param("userId", Identifier), Param("event", Name), Param("tz", str)),
              security="readToken"),
    Operation("get", "/stats",
              "Visitors, visits, page views, bounce rate and visit duration over a window, per "
              "bucket, optionally against the previous window of the same length",
              schemas.Stats, READ_ERRORS,
              params=(SITE, *WINDOW_PARAMS, Param("filter", list[str]),
                      Param("compare", Literal["previous"])),
              security="readToken"),
    Operation("get", "/breakdown",
              "Rows of a dimension's values (a visit dimension, page, event or prop:KEY with "
              "event), most visitors first",
              (schemas.VisitBreakdown, schemas.PageBreakdown, schemas.EventBreakdown),
              READ_ERRORS,
              params=(SITE, Param("by", str, True), *WINDOW_PARAMS, Param("filter", list[str]),
                      Param("limit", Limit), Param("event", Name)),
              security="readToken"),
    Operation("get", "/funnels",
              "How many users (or visits) reach each of 2 to 8 steps (event names or page:PATH) "
              "in order, optionally within a time limit, with conversion and drop-off",
              schemas.Funnel, READ_ERRORS,
              params=(SITE, Param("step", list[str], True), Param("within", WithinMs),
                      Param("by", Literal["user", "visit"]), *WINDOW_PARAMS,
                      Param("filter", list[str])),
              security="readToken"),
    Operation("get", "/retention",
              "Cohorts of new users by the day or week of their first movement, and how many "
              "of each had a movement (of `event`, when given) in each later period; "
              "identified users alone unless `identified=false` (an anonymous visitor's id "
              "changes every day)",
              schemas.Retention, READ_ERRORS,
              params=(SITE, Param("period", Literal["day", "week"], True), *WINDOW_PARAMS,
                      Param("event", Name), Param("identified", bool)),
              security="readToken"),
    Operation("get", "/live",
              "Server-Sent Events: each movement acknowledged after the stream opened (or after "
              "Last-Event-ID, as far back as the last 10 minutes at least) as `event: movement`, "
              "`id: <cursor>` and `data: <LiveMovement JSON>` (sessionId null for an anonymous "
              "movement); a `: keep-alive` comment every 15 s; a client that takes nothing for "
              "TRACKER_READER_TIMEOUT_SECONDS is disconnected",
              "text/event-stream", READ_ERRORS,
              params=(SITE, Param("userId", Identifier), Param("event", Name),
                      Param("Last-Event-ID", str, location="header")),
              security="readToken"),
    Operation("get", "/live/visitors",
              "Distinct users and visits with a movement in the last 5 minutes",
              schemas.LiveVisitors, READ_ERRORS, params=(SITE,), security="readToken"),
    Operation("get", "/users/{userId}/export",
              "Every session, then every movement (stored ones newest first, then archived ones) "
              'of a user, as NDJSON lines marked "type": "session" or "movement"; 404 when '
              "nothing is kept for the user",
              "application/x-ndjson", READ_ERRORS, params=(SITE, USER_PATH,),
              security="readToken"),
    Operation("delete", "/users/{userId}",
              "Erase a user's movements (archived ones too), sessions and rollups; answers the "
              "counts removed, or 202 with the counts so far when the erasure goes on in the "
              "background (see GET /users/{userId}/erasure); joins an erasure already running",
              schemas.UserErased, READ_ERRORS, params=(SITE, USER_PATH,),
              security="readToken",
              accepted=schemas.ErasureRunning),
    Operation("get", "/users/{userId}/erasure",
              "The user's latest erasure: running with the counts so far, or done with the "
              "counts removed; 404 when none was ever requested",
              schemas.Erasure, READ_ERRORS, params=(SITE, USER_PATH,), security="readToken"),
    Operation("get", "/healthz", "200 while the process runs", Health),
    Operation("get", "/readyz", "200 when every shard is writable, else 503 naming them",
              dict[str, Any], (503,)),
    Operation("get", "/metrics", "Prometheus metrics", "text/plain", (401,),
              security="metricsToken", token_optional=True),
    Operation("get", "/tracker.js", "The JavaScript client", "text/javascript"),
    Operation("get", "/", "The dashboard; it asks for the read token itself", "text/html"),
    Operation("get", "/dashboard/{path}", "The dashboard's scripts, styles and vendored chart library",
              "text/javascript", (404,), params=(Param("path", str, True, "path"),)),
    Operation("get", "/openapi.json", "This description", dict[str, Any]),
    *SITE_OPERATIONS,
    *SHARE_OPERATIONS,
)

SECURITY_SCHEMES = {
    "readToken": {"type": "http", "scheme": "bearer",
                  "description": "the admin token (TRACKER_READ_TOKEN, or the token in <data "
                                 "dir>/read-token), which reads every site and manages them, or "
                                 "a site key, which reads its own site"},
    "metricsToken": {"type": "http", "scheme": "bearer",
                     "description": "TRACKER_METRICS_TOKEN; /metrics is open when it is unset"},
}


def document() -> bytes:
    """The OpenAPI document as JSON."""
    types = _types(OPERATIONS)
    refs, components = msgspec.json.schema_components(types, ref_template=REF_TEMPLATE)
    schema_of = dict(zip(types, refs))
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method] = _operation(op, schema_of)
    return schemas.encode({
        "openapi": "3.1.0",
        "info": {"title": "tracker", "version": "0.1.0",
                 "description": "Self-hosted user-tracking analytics"},
        "paths": paths,
        "components": {"schemas": components, "securitySchemes": SECURITY_SCHEMES},
    })


def _types(operations: tuple[Operation, ...]) -> list[Any]:
    found: list[Any] = [Error]
    for op in operations:
        candidates = [*op.body, *(p.type for p in op.params), *op.error_answers.values()]
        if isinstance(op.answer, tuple):
            candidates.extend(op.answer)
        elif op.answer is not None and not isinstance(op.answer, str):
            candidates.append(op.answer)
        if op.accepted is not None:
            candidates.append(op.accepted)
        found.extend(t for t in candidates if t not in found)
    return found


def _operation(op: Operation, schema_of: dict[Any, Any]) -> dict[str, Any]:
    answer: dict[str, Any]
    if isinstance(op.answer, str):
        answer = {op.answer: {"schema": {"type": "string"}}}
    elif isinstance(op.answer, tuple):
        answer = {"application/json": {"schema": {"anyOf": [schema_of[t] for t in op.answer]}}}
    elif op.answer is not None:
        answer = {"application/json": {"schema": schema_of[op.answer]}}
    responses: dict[str, Any] = {str(op.status): {"description": _meaning(op.status, op.path)}}
    if op.answer is not None:
        responses[str(op.status)]["content"] = answer
    if op.accepted is not None:
        responses["202"] = {"description": "accepted: goes on in the background",
                            "content": {"application/json": {"schema": schema_of[op.accepted]}}}
    error = {"application/json": {"schema": schema_of[Error]}}
    # A read for a site may name an unknown one (404), or another than its key's (403).
    site_errors = (403, 404, 422) if SITE in op.params else ()
    for status in sorted({*op.errors, *site_errors}):
        content = error
        if status in op.error_answers:
            content = {"application/json": {"schema": schema_of[op.error_answers[status]]}}
        responses[str(status)] = {"description": _meaning(status, op.path), "content": content}
        if status in (429, 503):
            responses[str(status)]["headers"] = RETRY_AFTER
    described: dict[str, Any] = {"summary": op.summary, "responses": responses}
    if op.params:
        described["parameters"] = [_parameter(p, schema_of) for p in op.params]
    if op.body:
        body_schema = ({"anyOf": [schema_of[t] for t in op.body]} if len(op.body) > 1
                       else schema_of[op.body[0]])
        described["requestBody"] = {
            "required": True, "content": {"application/json": {"schema": body_schema}},
            "description": "also accepted as text/plain (sendBeacon) or without a content type"}
    if op.security:
        described["security"] = [{op.security: []}] + ([{}] if op.token_optional else [])
    return described


def _meaning(status: int, path: str) -> str:
    return OWN_MEANINGS.get((status, path)) or {**STATUS_MEANINGS, **ERROR_MEANINGS}[status]


def _parameter(param: Param, schema_of: dict[Any, Any]) -> dict[str, Any]:
    return {"name": param.name, "in": param.location, "required": param.required,
            "schema": schema_of[param.type]}
