"""Email report subscriptions: `GET|POST /sites/{id}/reports`,
`DELETE /sites/{id}/reports/{reportId}` (the admin token), and the unsubscribe
link every report carries, `/reports/unsubscribe/{token}`, which needs no
sign-in: GET shows a page with one button, POST (the button, or a mail
client's RFC 8058 one-click request) cancels. A GET alone never cancels, so a
mail scanner that opens links cannot unsubscribe anyone. A link of no
subscription is a 404: a page for a browser, the JSON error for anything else.
"""

from __future__ import annotations

import html
import re

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from tracker import schemas
from tracker.api import params
from tracker.api.access import require_admin
from tracker.api.body import decode_object, read_body
from tracker.api.common import json_response, now_ms
from tracker.api.errors import ApiError
from tracker.api.sites import named_site
from tracker.lifecycle import reports
from tracker.storage.registry import Conflict
from tracker.storage.store import Store
from tracker.storage.subscriptions import Send, Subscription

REPORT_ID = re.compile(r"[0-9]{1,18}")
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; form-action 'self'; base-uri 'none'; "
                               "frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


async def list_reports(request: Request) -> Response:
    require_admin(request)
    site = named_site(request)
    store: Store = request.app.state.store
    found = await store.pool.run(reports.of_site, store.registry, site)
    return json_response(schemas.ReportsOut([report_out(*pair) for pair in found]))


async def add_report(request: Request) -> Response:
    require_admin(request)
    site = named_site(request)
    given: schemas.ReportIn = decode_object(schemas.report_decoder, await read_body(request))
    store: Store = request.app.state.store
    try:
        made = await store.write_registry(reports.subscribe, store.registry, site, given.email,
                                          given.every, now_ms())
    except Conflict as error:
        raise ApiError(409, "conflict", str(error)) from None
    return json_response(report_out(made, None), 201)


async def delete_report(request: Request) -> Response:
    require_admin(request)
    site = named_site(request)
    raw = request.path_params["reportId"]
    store: Store = request.app.state.store
    if not REPORT_ID.fullmatch(raw) or not await store.write_registry(
            reports.unsubscribe, store.registry, site, int(raw)):
        raise ApiError(404, "not_found", f"site `{site.id}` has no report subscription `{raw[:64]}`")
    return Response(status_code=204)


def report_out(subscription: Subscription, send: Send | None) -> schemas.ReportOut:
    last = None
    if send is not None:
        last = schemas.ReportSend(send.period, send.status, send.attempts,
                                  send.lease if send.status == "failed" else None, send.error)
    return schemas.ReportOut(subscription.id, subscription.email, subscription.every,
                             subscription.created, last)


async def unsubscribe_page(request: Request) -> Response:
    params.path_text(request, "token", 128)
    return _page("Unsubscribe from this report?",
                 '<form method="post"><button type="submit">Unsubscribe</button></form>')


async def unsubscribe(request: Request) -> Response:
    token = params.path_text(request, "token", 128)
    store: Store = request.app.state.store
    cancelled = await store.write_registry(reports.unsubscribe_by_token, store.registry, token)
    if cancelled is None:
        if "text/html" not in request.headers.get("accept", ""):  # a mail client's one-click
            raise ApiError(404, "not_found", "no report subscription has this unsubscribe link")
        return _page("Nothing to unsubscribe from",
                     "<p>This link belongs to no report subscription: it was cancelled "
                     "already, or the link is not whole.</p>", 404)
    return _page("Unsubscribed",
                 f"<p>{html.escape(cancelled.email)} gets no more {cancelled.every}ly reports "
                 "of this site.</p>")


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(f"<!doctype html><html lang=en><meta charset=utf-8>"
                        f'<meta name="viewport" content="width=device-width,initial-scale=1">'
                        f"<title>{html.escape(title)}</title><h1>{html.escape(title)}</h1>{body}"
                        f"</html>", status, headers=PAGE_HEADERS)
