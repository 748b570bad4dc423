"""Who may read what: the admin token, a site key, or a share link; and the site a read is for.

- The admin token (TRACKER_READ_TOKEN) reads every site and manages them.
- A site key reads its own site, per-user data included; anything else is 403.
- A share link (`/share/{token}/...`, resolved by api/shares.py before the
  handler runs) reads its site's aggregates only: the share routes lead to
  nothing else.

Keys are looked up by the SHA-256 of the token on every request (an index
search in the registry), so a revoked key stops working at once in every
worker; the stored hash is then compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from starlette.requests import Request

from tracker.api.errors import ApiError, invalid, unauthorized
from tracker.storage import registry
from tracker.storage.registry import Site
from tracker.storage.store import Store

SITE_PARAMETER = "site"


@dataclass(frozen=True)
class Reader:
    """A request's credential: the admin, or the one site a key or share link may read."""

    site: int | None  # None for the admin


ADMIN = Reader(None)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def bearer(request: Request) -> str | None:
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    return given.strip() if scheme.lower() == "bearer" and given.strip() else None


def matches(given: str | None, token: str) -> bool:
    """Constant-time comparison of digests: timing tells nothing of the token, not even its
    length."""
    return given is not None and hmac.compare_digest(token_hash(given), token_hash(token))


def reader_of(request: Request) -> Reader:
    """The request's credential; 401 without a valid one."""
    shared = getattr(request.state, "share_site", None)
    if shared is not None:
        return Reader(shared)
    given = bearer(request)
    if matches(given, request.app.state.read_token):
        return ADMIN
    if given is not None:
        store: Store = request.app.state.store
        found = registry.key_site(store.registry.connection(), token_hash(given))
        if found is not None and hmac.compare_digest(found[1], token_hash(given)):
            return Reader(found[0])
    raise unauthorized()


def require_admin(request: Request) -> None:
    """401 without a credential, 403 for a site key."""
    if reader_of(request).site is not None:
        raise forbidden("only the admin token manages sites, keys, shares and goals")


def read_site(request: Request) -> Site:
    """The site a read is for: `site=ID`, or the credential's own, or the only one; 404 for
    an unknown site, 403 for another site than a key's or share's own."""
    reader = reader_of(request)
    sites = request.app.state.store.registry.sites()
    named = request.query_params.get(SITE_PARAMETER)
    if named is not None:
        site = sites.by_id(named)
        if site is None:
            raise ApiError(404, "not_found", f"no site `{named}`")
    elif reader.site is not None:
        site = sites.by_number(reader.site)
    else:
        site = sites.only()
        if site is None:
            raise invalid(f"query parameter `{SITE_PARAMETER}` is required: this service holds "
                          "several sites")
    if site is None or site.deleting is not None:
        raise ApiError(404, "not_found", "no such site")
    if reader.site is not None and reader.site != site.number:
        raise forbidden("this credential reads another site")
    return site


def forbidden(detail: str) -> ApiError:
    return ApiError(403, "forbidden", detail)
