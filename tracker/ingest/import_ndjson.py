"""`tracker import --format ndjson`: tracker's own export (GET /users/{userId}/export) back in.

Movement lines are stored as they are, ids included (an anonymous visitor's
`anon:` ids too: they are the service's own), with the limits /track sets
but of any age; a line without an eventId gets a stable one from its fields.
Session lines are passed over: sessions are made again from the movements
when they are folded. An export keeps no request context, so imported visits
have no browser, OS, device or country.
"""

from __future__ import annotations

from typing import TextIO

import msgspec

from tracker import schemas
from tracker.ingest.import_rows import Imported, Read, Rejected, RowIds, encoded_data
from tracker.schemas import ImportedMovementLine
from tracker.storage.rows import MovementRow


def read(text: TextIO, site: str) -> Read:
    """Each line's movement, or why it is rejected; session lines and blank lines yield nothing.
    (`site` is not needed: the export's ids are the site's own.)"""
    ids = RowIds("ndjson")
    for number, line in enumerate(text, start=1):
        if not line.strip():
            continue
        try:
            decoded = schemas.export_line_decoder.decode(line)
        except msgspec.DecodeError as error:
            yield number, Rejected(f"not a line of tracker's export: {error}")
            continue
        except RecursionError:  # msgspec's answer to JSON nested deeper than the stack
            yield number, Rejected("not a line of tracker's export: nested too deeply")
            continue
        if isinstance(decoded, ImportedMovementLine):
            yield number, _movement(decoded, ids)


def _movement(line: ImportedMovementLine, ids: RowIds) -> Imported | Rejected:
    if line.userId.startswith("anon:") != line.sessionId.startswith("anon:"):
        return Rejected("`userId` and `sessionId` must both be the service's own (`anon:`) or neither")
    try:
        data = encoded_data(line.data)
    except Rejected as error:
        return error
    event_id = line.eventId or ids.of(line.userId, line.sessionId, str(line.timestamp), line.event, data)
    return Imported(MovementRow(line.userId, line.sessionId, line.timestamp, line.event, data, event_id))
