"""`tracker import --format goatcounter`: GoatCounter's CSV export, format version 2.

One row per hit, with the columns `2Path, Title, Event, UserAgent, Browser,
System, Session, Bot, Referrer, Referrer scheme, Screen size, Location,
FirstVisit, Date` (the file may be gzipped, as GoatCounter hands it out).

- A hit whose `Event` is true is the event named by its `Path` (its `Title` in
  `data.title`); any other is a `page_view` of `Path`, with `Title`.
- `Referrer` by its scheme: `h` (a URL without its scheme) is
  `data.referrer` as `https://` and the rest; `c` (a campaign's name) and
  `g` (a name GoatCounter gave, such as `Email`) are `data.utm.source`, so
  they are the visit's source; `o` (an app) is kept as the referrer, which
  makes no source.
- `Session` is the visit; GoatCounter has no visitor beyond it, so each
  session is a visitor of its own.
- Browser, OS and device come from `UserAgent` when the row has one (older
  exports), as for live traffic; else from `Browser` and `System` without
  their versions, and the device from the screen width (as Plausible sorts
  widths). `Location` gives the country.
- A row marked as a bot's (`Bot` other than 0) is rejected; `FirstVisit` is
  not needed (visits are counted from the hits).
"""

from __future__ import annotations

import csv
import re
from typing import Any, TextIO

from tracker.enrich import useragent
from tracker.enrich.page_url import as_location_path
from tracker.ingest.import_rows import (
    Imported,
    Read,
    Rejected,
    RowIds,
    Unreadable,
    csv_header,
    csv_rows,
    encoded_data,
    event_name,
    millis,
    session_id,
    visitor_id,
)
from tracker.storage.rows import Context, MovementRow, encode_context

HEADER = ["2Path", "Title", "Event", "UserAgent", "Browser", "System", "Session", "Bot", "Referrer",
          "Referrer scheme", "Screen size", "Location", "FirstVisit", "Date"]
TRUE = frozenset({"1", "true", "t", "yes"})
VERSION = re.compile(r"(\s+v?\d[\w.]*)+$")
# GoatCounter's names where the User-Agent parser live traffic goes through names otherwise.
FAMILIES = {"macOS": "Mac OS X", "OS X": "Mac OS X"}
# Screen widths below these are phones and tablets.
MOBILE_WIDTH, TABLET_WIDTH = 576, 992


def read(text: TextIO, site: str) -> Read:
    """Each hit's movement, or why it is rejected; Unreadable when the file is not this format."""
    rows = csv.reader(text)
    header = csv_header(rows)
    if header != HEADER:
        first = (header or [""])[0]
        raise Unreadable(f"not GoatCounter's CSV export of version 2 (its header starts {first!r}, "
                         "not '2Path')")
    ids = RowIds("goatcounter")
    for start, row in csv_rows(rows):
        if isinstance(row, Rejected):
            yield start, row
            continue
        try:
            yield start, _hit(row, site, ids)
        except Rejected as error:
            yield start, error


def _hit(row: list[str], site: str, ids: RowIds) -> Imported:
    if len(row) != len(HEADER):
        raise Rejected(f"has {len(row)} fields; GoatCounter's CSV has {len(HEADER)}")
    path, title, event, agent, browser, system, session, bot, ref, scheme, size, location, _, date = row
    if bot.strip() not in ("", "0"):
        raise Rejected(f"a bot's hit (Bot {bot})")
    if not session.strip():
        raise Rejected("no Session")
    timestamp = millis(date, "Date")
    if event.strip().lower() in TRUE:
        name, data = event_name(path, "Path"), ({"title": title} if title else {})
    else:
        name, data = "page_view", _page_view(path, title, ref, scheme)
    movement = MovementRow(visitor_id(site, "goatcounter", session),
                           session_id(site, "goatcounter", session), timestamp, name,
                           encoded_data(data), ids.of(*row))
    return Imported(movement, encode_context(_context(agent, browser, system, size, location)))


def _page_view(path: str, title: str, ref: str, scheme: str) -> dict[str, Any]:
    if not path:
        raise Rejected("no Path")
    data: dict[str, Any] = {"path": as_location_path(path), "title": title}
    if ref and scheme in ("c", "g"):
        data["utm"] = {"source": ref}
    elif ref and scheme == "o":
        data["referrer"] = ref
    elif ref:
        data["referrer"] = ref if "://" in ref else f"https://{ref}"
    return data


def _context(agent: str, browser: str, system: str, size: str, location: str) -> Context:
    country = location[:2].upper() if location[:2].isalpha() else None
    if agent.strip():
        parsed = useragent.parse(agent)
        return Context(parsed.browser, parsed.os, parsed.device, country, None, None)
    return Context(_family(browser), _family(system), _device(size), country, None, None)


def _family(name: str) -> str | None:
    """`Chrome 86` is Chrome, `macOS 10.15` is Mac OS X; None when blank."""
    family = VERSION.sub("", name.strip())
    return FAMILIES.get(family, family) or None


def _device(size: str) -> str | None:
    """The device class of a screen width (`1280,768,1` is desktop); None when unknown."""
    width = size.partition(",")[0].strip()
    if not width.isdigit() or int(width) == 0:
        return None
    pixels = int(width)
    return "mobile" if pixels < MOBILE_WIDTH else "tablet" if pixels < TABLET_WIDTH else "desktop"
