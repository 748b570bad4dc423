"""The dashboard: GET / and its files, every one served from the package (no CDN, no build step)."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response

from tracker.api.errors import ApiError

DASHBOARD = Path(__file__).resolve().parent.parent / "static" / "dashboard"
MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}
# The page may load and call only its own origin, and runs no inline script or
# style: a stored string that slipped into markup could still not run.
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # Revalidated each time (ETag), so an upgraded service never runs stale modules.
    "Cache-Control": "no-cache",
}


async def index(request: Request) -> Response:
    return page()


def page(status: int = 200) -> Response:
    """The dashboard's page (the same one for a share link, which it tells by its path)."""
    return _file(DASHBOARD / "index.html", status)


async def asset(request: Request) -> Response:
    name = request.path_params["path"]
    if "\0" in name:  # no file is named so (and the system refuses to look)
        raise ApiError(404, "not_found", "no such dashboard file")
    path = (DASHBOARD / name).resolve()
    if not path.is_relative_to(DASHBOARD) or path.suffix not in MEDIA_TYPES or not path.is_file():
        raise ApiError(404, "not_found", "no such dashboard file")
    return _file(path)


def _file(path: Path, status: int = 200) -> Response:
    return FileResponse(path, status, media_type=MEDIA_TYPES[path.suffix], headers=HEADERS)
