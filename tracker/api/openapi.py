"""GET /openapi.json: an OpenAPI 3.1 description generated from the msgspec Structs.

Request bodies and answers are the Structs the handlers decode and encode
(`msgspec.json.schema_components`), so the description cannot drift from
the code; the operations table below says which endpoint uses which.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

import msgspec

from tracker import schemas
from tracker.schemas import Error, Identifier, Millis, Name

REF_TEMPLATE = "#/components/schemas/{name}"

Limit = Annotated[int, msgspec.Meta(ge=1, le=1000)]
TimeRange = Literal["1h", "24h", "7d", "30d"]
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


ERROR_MEANINGS = {
    400: "malformed JSON, or a body that is not an object",
    401: "missing or wrong bearer token",
    404: "no such thing",
    409: "the session id belongs to another user",
    413: "body over 1 MiB",
    415: "content type other than application/json or text/plain",
    422: "a field or parameter that breaks a rule; the detail names it",
    429: "rate limited; retry after Retry-After seconds",
    503: "overloaded, stopping, a shard that cannot be written, an archive file that cannot be "
         "read, or an export that cannot be written to disk",
}
RETRY_AFTER = {"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}}

INGEST_ERRORS = (400, 413, 415, 422, 429, 503)
WINDOW_PARAMS = (Param("timeRange", TimeRange), Param("from", Millis), Param("to", Millis),
                 Param("tz", str))
USER_PATH = Param("userId", Identifier, True, "path")

OPERATIONS = (
    Operation("post", "/track", "Store one movement or a batch of up to 500", schemas.TrackOut,
              INGEST_ERRORS, body=(schemas.MovementIn, schemas.BatchIn)),
    Operation("post", "/session", "Create a session or refresh it", schemas.SessionOpened,
              (*INGEST_ERRORS, 409), body=(schemas.SessionIn,)),
    Operation("get", "/session", "A live session", schemas.SessionOut, (401, 404, 422),
              params=(Param("sessionId", Identifier, True), Param("userId", Identifier)),
              security="readToken"),
    Operation("get", "/movements", "A user's movements, newest first", schemas.MovementsPage,
              (401, 422),
              params=(Param("userId", Identifier, True), Param("from", Millis), Param("to", Millis),
                      Param("event", Name), Param("limit", Limit), Param("cursor", str)),
              security="readToken"),
    Operation("get", "/analytics", "Aggregates over a time window", schemas.Analytics,
              (401, 422, 503),
              params=(Param("timeRange", TimeRange), Param("from", Millis), Param("to", Millis),
                      Param("userId", Identifier), Param("event", Name), Param("tz", str)),
              security="readToken"),
    Operation("get", "/stats",
              "Visitors, visits, page views, bounce rate and visit duration over a window, per "
              "bucket, optionally against the previous window of the same length",
              schemas.Stats, (401, 422, 503),
              params=(*WINDOW_PARAMS, Param("filter", list[str]), Param("compare", Literal["previous"])),
              security="readToken"),
    Operation("get", "/breakdown",
              "Rows of a dimension's values (a visit dimension, page, event or prop:KEY with "
              "event), most visitors first",
              (schemas.VisitBreakdown, schemas.PageBreakdown, schemas.EventBreakdown),
              (401, 422, 503),
              params=(Param("by", str, True), *WINDOW_PARAMS, Param("filter", list[str]),
                      Param("limit", Limit), Param("event", Name)),
              security="readToken"),
    Operation("get", "/funnels",
              "How many users (or visits) reach each of 2 to 8 steps (event names or page:PATH) "
              "in order, optionally within a time limit, with conversion and drop-off",
              schemas.Funnel, (401, 422, 503),
              params=(Param("step", list[str], True), Param("within", WithinMs),
                      Param("by", Literal["user", "visit"]), *WINDOW_PARAMS,
                      Param("filter", list[str])),
              security="readToken"),
    Operation("get", "/retention",
              "Cohorts of new users by the day or week of their first movement, and how many "
              "of each had a movement (of `event`, when given) in each later period",
              schemas.Retention, (401, 422, 503),
              params=(Param("period", Literal["day", "week"], True), *WINDOW_PARAMS,
                      Param("event", Name)),
              security="readToken"),
    Operation("get", "/live",
              "Server-Sent Events: each movement acknowledged after the stream opened (or after "
              "Last-Event-ID, as far back as the last 10 minutes at least) as `event: movement`, "
              "`id: <cursor>` and `data: <LiveMovement JSON>` (sessionId null for an anonymous "
              "movement); a `: keep-alive` comment every 15 s; a client that takes nothing for "
              "TRACKER_READER_TIMEOUT_SECONDS is disconnected",
              "text/event-stream", (401, 422),
              params=(Param("userId", Identifier), Param("event", Name),
                      Param("Last-Event-ID", str, location="header")),
              security="readToken"),
    Operation("get", "/live/visitors",
              "Distinct users and visits with a movement in the last 5 minutes",
              schemas.LiveVisitors, (401, 503), security="readToken"),
    Operation("get", "/users/{userId}/export",
              "Every session, then every movement (stored ones newest first, then archived ones) "
              'of a user, as NDJSON lines marked "type": "session" or "movement"; 404 when '
              "nothing is kept for the user",
              "application/x-ndjson", (401, 404, 422, 503), params=(USER_PATH,),
              security="readToken"),
    Operation("delete", "/users/{userId}",
              "Erase a user's movements (archived ones too), sessions and rollups; answers the "
              "counts removed, or 202 with the counts so far when the erasure goes on in the "
              "background (see GET /users/{userId}/erasure); joins an erasure already running",
              schemas.UserErased, (401, 422, 503), params=(USER_PATH,), security="readToken",
              accepted=schemas.ErasureRunning),
    Operation("get", "/users/{userId}/erasure",
              "The user's latest erasure: running with the counts so far, or done with the "
              "counts removed; 404 when none was ever requested",
              schemas.Erasure, (401, 404, 422, 503), params=(USER_PATH,), security="readToken"),
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
)

SECURITY_SCHEMES = {
    "readToken": {"type": "http", "scheme": "bearer",
                  "description": "TRACKER_READ_TOKEN, or the token in <data dir>/read-token"},
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
        candidates = [*op.body, *(p.type for p in op.params)]
        if isinstance(op.answer, tuple):
            candidates.extend(op.answer)
        elif not isinstance(op.answer, str):
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
    else:
        answer = {"application/json": {"schema": schema_of[op.answer]}}
    responses = {"200": {"description": "OK", "content": answer}}
    if op.accepted is not None:
        responses["202"] = {"description": "accepted: goes on in the background",
                            "content": {"application/json": {"schema": schema_of[op.accepted]}}}
    error = {"application/json": {"schema": schema_of[Error]}}
    for status in op.errors:
        responses[str(status)] = {"description": ERROR_MEANINGS[status], "content": error}
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


def _parameter(param: Param, schema_of: dict[Any, Any]) -> dict[str, Any]:
    return {"name": param.name, "in": param.location, "required": param.required,
            "schema": schema_of[param.type]}
