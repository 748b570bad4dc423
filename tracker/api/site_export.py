"""GET /sites/{id}/export: a zip of complete CSV reports of one site over a window.

Visitors per day, then every breakdown with all of its rows (no top-N cut):
sources, channels, referrers, the UTM fields, pages, entry and exit pages,
countries, regions, cities, devices, browsers, operating systems, events and
goals. Each report is read, written into the zip and let go before the next,
and the zip is written to an anonymous file on the data's disk (as a user's
export is), then streamed from it: memory holds one report's rows at a time
however large the site, never the zip. At most TRACKER_MAX_EXPORTS exports
are in flight over every worker.
"""

from __future__ import annotations

import io
import sys
import tempfile
import zipfile
from datetime import UTC, datetime
from typing import Any, BinaryIO

import msgspec
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from tracker.analytics import web_reads, zones
from tracker.analytics.filters import Filters
from tracker.analytics.web import Span
from tracker.api import csv_out, params
from tracker.api.access import forbidden, reader_of
from tracker.api.sites import named_site
from tracker.api.spooled import spooled_export
from tracker.api.web import breakdown_answer
from tracker.lifecycle import goals as site_goals
from tracker.lifecycle.export import spool_dir
from tracker.storage.registry import Site

ZIP = "application/zip"
ALL_ROWS = sys.maxsize
DAILY = "visitors.csv"
BREAKDOWNS = (
    ("sources.csv", "source"), ("channels.csv", "channel"), ("referrers.csv", "referrer"),
    ("utm_sources.csv", "utmSource"), ("utm_mediums.csv", "utmMedium"),
    ("utm_campaigns.csv", "utmCampaign"), ("utm_terms.csv", "utmTerm"),
    ("utm_contents.csv", "utmContent"), ("pages.csv", "page"), ("entry_pages.csv", "entryPage"),
    ("exit_pages.csv", "exitPage"), ("countries.csv", "country"), ("regions.csv", "region"),
    ("cities.csv", "city"), ("devices.csv", "device"), ("browsers.csv", "browser"),
    ("operating_systems.csv", "os"), ("events.csv", "event"), ("goals.csv", "goal"))
DAILY_COLUMNS = ["date", "t", "visitors", "visits", "pageviews"]


async def export_site(request: Request) -> Response:
    site = named_site(request)
    reader = reader_of(request)
    if reader.site is not None and reader.site != site.number:
        raise forbidden("this credential reads another site")
    zone = params.parse_zone(request, site.timezone)
    start, end, _bucket = params.parse_span(request, zone)
    name = f"{site.id}-{_day(start, zone)}-{_day(end - 1, zone)}.zip"
    return await spooled_export(request.app.state.export_slots,
                                lambda: _spool(request, site, zone, start, end), ZIP,
                                headers={"Content-Disposition": f'attachment; filename="{name}"'})


async def _spool(request: Request, site: Site, zone: zones.ZoneInfo | None, start: int,
                 end: int) -> BinaryIO:
    store = request.app.state.store
    directory = spool_dir(store.layout.data_dir)
    directory.mkdir(exist_ok=True)
    spool = tempfile.TemporaryFile(dir=directory)
    try:
        archive = zipfile.ZipFile(spool, "w", zipfile.ZIP_DEFLATED)
        await _add(archive, DAILY, await _daily(store, site, zone, start, end), DAILY_COLUMNS)
        goals = tuple(site_goals.of_site(store.registry, site))
        for name, by in BREAKDOWNS:
            rows = await web_reads.breakdown(store, site.number, by, Span((start, end)), Filters(),
                                             None, ALL_ROWS, goals)
            answer = breakdown_answer(by, start, end, rows)
            await _add(archive, name, [msgspec.to_builtins(row) for row in answer.results],
                       csv_out.columns_of(answer) if not rows else None)
        await run_in_threadpool(archive.close)
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    return spool


async def _daily(store: Any, site: Site, zone: zones.ZoneInfo | None, start: int,
                 end: int) -> list[dict]:
    """Visitors, visits and page views of each local day of the window."""
    starts = zones.bucket_starts("1d", zone, start, end)
    span = Span((start, *starts[1:], end))
    [share] = await web_reads.stats(store, site.number, (span,), Filters())
    return [{"date": _day(max(t, start), zone), "t": max(t, start), "visitors": visitors,
             "visits": visits, "pageviews": pageviews}
            for t, (visitors, visits, _b, _d, pageviews) in zip(starts, share.series)]


async def _add(archive: zipfile.ZipFile, name: str, rows: list[dict],
               header: list[str] | None = None) -> None:
    await run_in_threadpool(_write_entry, archive, name, rows, header)


def _write_entry(archive: zipfile.ZipFile, name: str, rows: list[dict],
                 header: list[str] | None) -> None:
    with archive.open(name, "w") as raw, io.TextIOWrapper(raw, encoding="utf-8", newline="") as text:
        csv_out.write_table(text, rows, header)


def _day(instant: int, zone: zones.ZoneInfo | None) -> str:
    return datetime.fromtimestamp(instant / 1000, zone or UTC).date().isoformat()
