"""The management API: sites, their keys and share links (the admin token; JSON; 201 on
creation, 204 on delete, 202 for a site's deletion, which goes on in the background; a
duplicate id or domain is 409). `GET /sites` and `GET /sites/{id}` also answer a site key or
share link, for its own site: the dashboard's site picker lists what the credential reads."""

from __future__ import annotations

from collections.abc import Callable

import apsw
from starlette.requests import Request
from starlette.responses import Response

from tracker import schemas
from tracker.analytics import zones
from tracker.api import params
from tracker.api.access import reader_of, require_admin
from tracker.api.body import decode_object, read_body
from tracker.api.common import json_response, now_ms
from tracker.api.errors import ApiError, invalid
from tracker.enrich.sources import rederive_functions
from tracker.lifecycle import sites
from tracker.lifecycle.sites import SiteSpec
from tracker.storage import registry
from tracker.storage.registry import Conflict, Site
from tracker.storage.store import Store


async def list_sites(request: Request) -> Response:
    reader = reader_of(request)
    store: Store = request.app.state.store
    found = [site for site in store.registry.sites().all
             if reader.site is None or site.number == reader.site]
    return json_response(schemas.SitesOut([site_out(site) for site in found]))


async def get_site(request: Request) -> Response:
    reader = reader_of(request)
    site = named_site(request, include_deleting=True)
    if reader.site is not None and reader.site != site.number:
        raise ApiError(403, "forbidden", "this credential reads another site")
    return json_response(site_out(site))


async def create_site(request: Request) -> Response:
    require_admin(request)
    given: schemas.SiteIn = decode_object(schemas.site_decoder, await read_body(request))
    spec = SiteSpec(given.name or given.id, checked_domains(given.domains),
                    checked_zone(given.timezone))
    store: Store = request.app.state.store
    try:
        site = await store.write_registry(sites.create, store.layout, store.registry, given.id, spec,
                                    now_ms(), rederive_functions())
    except Conflict as error:
        raise ApiError(409, "conflict", str(error)) from None
    return json_response(site_out(site), 201)


async def update_site(request: Request) -> Response:
    require_admin(request)
    site = named_site(request)
    given: schemas.SitePatch = decode_object(schemas.site_patch_decoder, await read_body(request))
    spec = SiteSpec(site.name if given.name is None else given.name,
                    list(site.domains) if given.domains is None else checked_domains(given.domains),
                    site.timezone if given.timezone is None else checked_zone(given.timezone))
    store: Store = request.app.state.store
    try:
        updated = await store.write_registry(sites.update, store.registry, site, spec)
    except Conflict as error:
        raise ApiError(409, "conflict", str(error)) from None
    return json_response(site_out(updated))


async def delete_site(request: Request) -> Response:
    """Refuse the site at once, everywhere; its data goes in the background (202)."""
    require_admin(request)
    site = named_site(request)
    store: Store = request.app.state.store
    try:
        await store.write_registry(sites.mark_deleted, store.registry, site, now_ms())
    except sites.LastSite:
        raise ApiError(409, "last_site",
                       "the service always holds a site: add another first") from None
    request.app.state.jobs.run_soon("delete_sites")
    marked = store.registry.sites().by_number(site.number)
    return json_response(site_out(marked or site), 202)


async def add_key(request: Request) -> Response:
    require_admin(request)
    site = named_site(request)
    store: Store = request.app.state.store
    created = now_ms()
    key_id, key = await store.write_registry(sites.add_key, store.registry, site, created)
    return json_response(schemas.KeyMade(key_id, key, created), 201)


async def list_keys(request: Request) -> Response:
    require_admin(request)
    site = named_site(request)
    found = registry.keys_of(request.app.state.store.registry.connection(), site.number)
    return json_response(schemas.KeysOut([schemas.KeyListed(i, c) for i, c in found]))


async def delete_key(request: Request) -> Response:
    return await _delete(request, "key", "keyId", registry.drop_key)


async def add_share(request: Request) -> Response:
    require_admin(request)
    site = named_site(request)
    body = await read_body(request)
    given = schemas.ShareIn()
    if body.strip():
        given = decode_object(schemas.share_decoder, body)
    created = now_ms()
    if given.expires is not None and given.expires <= created:
        raise invalid("`expires` must be in the future - at `$.expires`")
    store: Store = request.app.state.store
    share_id, token = await store.write_registry(sites.add_share, store.registry, site, given.password,
                                           given.expires, created)
    url = f"{str(request.base_url).rstrip('/')}/share/{token}"
    return json_response(schemas.ShareMade(share_id, url, created, given.expires), 201)


async def list_shares(request: Request) -> Response:
    require_admin(request)
    site = named_site(request)
    found = registry.shares_of(request.app.state.store.registry.connection(), site.number)
    return json_response(schemas.SharesOut([schemas.ShareListed(i, c, e, p)
                                            for i, p, e, c in found]))


async def delete_share(request: Request) -> Response:
    return await _delete(request, "share", "shareId", registry.drop_share)


async def _delete(request: Request, kind: str, parameter: str,
                  drop: Callable[[apsw.Connection, int, str], bool]) -> Response:
    """Drop the site's `kind` named by the path's `parameter`: 204, or 404 when it has none."""
    require_admin(request)
    site = named_site(request)
    item = params.path_text(request, parameter, 64)
    store: Store = request.app.state.store
    if not await store.write_registry(_drop, drop, store.registry, site.number, item):
        raise ApiError(404, "not_found", f"site `{site.id}` has no {kind} `{item}`")
    return Response(status_code=204)


def _drop(drop: Callable[[apsw.Connection, int, str], bool], sites_file: registry.RegistryFile,
          site: int, item: str) -> bool:
    with sites_file.transaction() as conn:
        return drop(conn, site, item)


def named_site(request: Request, include_deleting: bool = False) -> Site:
    """The site of the path's `{id}`; 404 when there is none (or it is being deleted)."""
    site_id = params.path_text(request, "id", 64)
    found = request.app.state.store.registry.sites()
    site = found.by_id(site_id)
    if site is None and include_deleting:
        site = next((s for s in found.all if s.id == site_id), None)
    if site is None:
        raise ApiError(404, "not_found", f"no site `{site_id}`")
    return site


def checked_domains(domains: list[str]) -> list[str]:
    """Host names, lowercased, each once; a port or a path is a 422 naming it."""
    try:
        return sites.host_names(domains)
    except sites.BadDomain as error:
        raise invalid(f"{error} - at `$.domains[{error.index}]`") from None


def checked_zone(name: str) -> str:
    if name != "UTC" and zones.zone_named(name) is None:
        raise invalid("`timezone` must be an IANA time zone name such as Europe/Paris "
                      "- at `$.timezone`")
    return name


def site_out(site: Site) -> schemas.SiteOut:
    return schemas.SiteOut(site.id, site.name, list(site.domains), site.timezone, site.umamiId,
                           site.created, "live" if site.deleting is None else "deleting")
