"""Share links: `/share/{token}` serves the dashboard of one site, read-only, and its
aggregates under the same path (`/share/{token}/stats`, `/breakdown`, `/funnels`,
`/retention`, `/live/visitors`, and `/site` for its name and zone): no per-user data, no
feed of movements, no management, since no route leads to them.

A token is looked up by its SHA-256 on every request, so a revoked link stops at once in
every worker; an unknown or revoked one is 404, an expired one 410. A link with a password
answers 401 until `POST /share/{token}/auth` got it right, which sets an HttpOnly,
SameSite=Strict cookie for that path holding an HMAC of the share (keyed with a secret of
the data directory, so every worker checks it without shared state). Wrong passwords are
recorded in the registry: past MAX_FAILURES within FAILURE_WINDOW_MS a link answers 429
to every password, whichever worker is asked.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response

from tracker import schemas
from tracker.api import dashboard
from tracker.api.body import decode_object, read_body
from tracker.api.common import json_response, now_ms
from tracker.api.errors import ApiError
from tracker.api.sites import site_out
from tracker.lifecycle.sites import password_matches, token_hash
from tracker.storage import registry
from tracker.storage.files import create_once
from tracker.storage.registry import Share
from tracker.storage.store import Store

COOKIE = "tracker_share"
SECRET_FILE = "share-secret"
MAX_FAILURES = 10
FAILURE_WINDOW_MS = 15 * 60 * 1000
KEEP_FAILURES_MS = 24 * 60 * 60 * 1000
COOKIE_SECONDS = 30 * 24 * 60 * 60

Handler = Callable[[Request], Awaitable[Response]]


def share_secret(data_dir: Path) -> bytes:
    """The key share cookies are signed with: made once, kept in the data directory (0600)."""
    path = data_dir / SECRET_FILE
    if not path.exists():
        create_once(path, secrets.token_hex(32) + "\n", mode=0o600)
    return bytes.fromhex(path.read_text().strip())


def shared(handler: Handler) -> Handler:
    """`handler` under a share link: the link's site is the only one it reads."""
    async def endpoint(request: Request) -> Response:
        share = open_share(request)
        request.state.share_site = share.site
        return await handler(request)

    return endpoint


async def page(request: Request) -> Response:
    """The dashboard; it asks `/share/{token}/site` what it shows, or for the password. A
    browser opening an unknown, revoked or expired link gets the page too, with that status,
    so that the page can say in words what happened; other clients get the JSON error."""
    try:
        find_share(request)
    except ApiError as error:
        if "text/html" not in request.headers.get("accept", ""):
            raise
        return dashboard.page(error.status)
    return dashboard.page()


async def site(request: Request) -> Response:
    share = open_share(request)
    found = request.app.state.store.registry.sites().by_number(share.site)
    if found is None:
        raise gone_away()
    return json_response(site_out(found))


async def authenticate(request: Request) -> Response:
    """Check a share's password; the right one sets the cookie the link's reads need."""
    share = find_share(request)
    given: schemas.ShareAuth = decode_object(schemas.share_auth_decoder, await read_body(request))
    store: Store = request.app.state.store
    if share.password is None:
        return Response(status_code=204)
    now = now_ms()
    failures = registry.failures_since(store.registry.connection(), share.id,
                                       now - FAILURE_WINDOW_MS)
    if failures >= MAX_FAILURES:
        raise ApiError(429, "too_many_attempts", "too many wrong passwords; try again later",
                       {"Retry-After": str(FAILURE_WINDOW_MS // 1000)})
    if not await store.pool.run(password_matches, given.password, share.password):
        await store.pool.run(_record_failure, store.registry, share.id, now)
        raise ApiError(401, "wrong_password", "that is not this link's password")
    response = Response(status_code=204)
    response.set_cookie(COOKIE, _cookie_value(request, share), max_age=COOKIE_SECONDS,
                        path=_share_path(request), httponly=True, samesite="strict",
                        secure=request.url.scheme == "https")
    return response


def find_share(request: Request) -> Share:
    """The path's share: 404 when unknown or revoked, 410 when expired."""
    token = request.path_params["token"]
    found = registry.share_by_hash(request.app.state.store.registry.connection(), token_hash(token))
    if found is None or not hmac.compare_digest(found.hash, token_hash(token)):
        raise gone_away()
    if found.expires is not None and found.expires <= now_ms():
        raise ApiError(410, "expired", "this share link has expired")
    live = request.app.state.store.registry.sites().by_number(found.site)
    if live is None or live.deleting is not None:
        raise gone_away()
    return found


def open_share(request: Request) -> Share:
    """The path's share, once its password (if any) was given."""
    share = find_share(request)
    if share.password is not None:
        cookie = request.cookies.get(COOKIE, "")
        if not hmac.compare_digest(cookie, _cookie_value(request, share)):
            raise ApiError(401, "password_required", "this share link asks for its password")
    return share


def gone_away() -> ApiError:
    return ApiError(404, "not_found", "no such share link")


def _cookie_value(request: Request, share: Share) -> str:
    return hmac.new(request.app.state.share_secret, f"{share.id}:{share.hash}".encode(),
                    hashlib.sha256).hexdigest()


def _share_path(request: Request) -> str:
    return f"/share/{request.path_params['token']}"


def _record_failure(sites: registry.RegistryFile, share_id: str, now: int) -> None:
    with sites.transaction() as conn:
        registry.prune_failures(conn, now - KEEP_FAILURES_MS)
        registry.add_failure(conn, share_id, now)
