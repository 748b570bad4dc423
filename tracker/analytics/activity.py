"""GET /analytics answers: one shard's share of a window, and the merge of all shares.

A user's answer counts that user's movements in the window (an index range
of one user). The all-users answer takes each shard's share from the rollups
(`tracker/analytics/rollups.py`): the window and each bucket are cut into whole slots
of the coarsest grain that fits, plus raw movements for any piece shorter
than a minute, so the cost follows the number of buckets, not of movements.
Shards are disjoint by user, so their shares, distinct counts included, add up.

Raw movements are the stored ones plus those retention moved to archive
files (`tracker/storage/archives.py`); rollups count both. A share is read in one
transaction, so a pass of the archiver never shows a movement twice or not at all.

A share waits for no fold: it counts the shard as folded plus the log's rows
it has not folded yet (`tracker/storage/tail.py`), read in that same
transaction. Counts and buckets add; the tail's users and sessions count
once each, less those the folded window already has (`activity_tail.py`).
"""

from __future__ import annotations

import bisect
import json
import time
from collections import Counter
from dataclasses import dataclass, field

import apsw

from tracker.analytics import activity_tail
from tracker.analytics.rollups import (
    ALL_EVENTS,
    GAP_MS,
    GRAINS,
    MINUTE,
    PAGE_VIEW,
    SESSIONS,
    USERS,
    page_path,
)
from tracker.schemas import Bucket
from tracker.storage import archives
from tracker.storage.tail import Unfolded

TOP_PAGES = 10
RAW = 0  # the grain of a piece counted from raw movements

MOVEMENT_COLUMNS = "timestamp, event, userId, sessionId, data"

USER_MOVEMENTS = f"""
SELECT {MOVEMENT_COLUMNS} FROM movements
WHERE userId = ?1 AND timestamp >= ?2 AND timestamp < ?3 AND (?4 IS NULL OR event = ?4)
"""

WINDOW_MOVEMENTS = f"""
SELECT {MOVEMENT_COLUMNS} FROM movements
WHERE timestamp >= ?1 AND timestamp < ?2 AND (?3 IS NULL OR event = ?3)
"""

RAW_EVENTS = """
SELECT event, count(*) FROM movements
WHERE timestamp >= ?1 AND timestamp < ?2 AND (?3 IS NULL OR event = ?3)
GROUP BY event
"""

RAW_PAGE_DATA = f"""
SELECT data FROM movements WHERE event = '{PAGE_VIEW}' AND timestamp >= ?1 AND timestamp < ?2
"""

# The rollup queries take their pieces as one JSON array of [grain, start, end],
# so a window of many buckets is one statement: an index search per piece.
PIECES = """
WITH piece(grain, low, high) AS (
  SELECT value ->> 0, value ->> 1, value ->> 2 FROM json_each(?1)
)
"""

SLOT_TOTALS = f"""{PIECES}
SELECT start, sum(n), sum(iif(event = '{PAGE_VIEW}', n, 0))
FROM piece JOIN rollup_events ON rollup_events.grain = piece.grain AND start >= low AND start < high
WHERE ?2 IS NULL OR event = ?2
GROUP BY start
"""

EVENT_TOTALS = f"""{PIECES}
SELECT event, sum(n)
FROM piece JOIN rollup_events ON rollup_events.grain = piece.grain AND start >= low AND start < high
WHERE ?2 IS NULL OR event = ?2
GROUP BY event
"""

PAGE_TOTALS = f"""{PIECES}
SELECT path, sum(n)
FROM piece JOIN rollup_pages ON rollup_pages.grain = piece.grain AND start >= low AND start < high
GROUP BY path
"""

ENTITIES = "SELECT n FROM activity_counts WHERE kind = ? AND event = ?"

# Per span column: its smallest and largest value, and how many entities have
# it before or at/after an instant (each an index search on that column).
SPAN_COLUMNS = ("first", "last")
SPAN_BOUNDS = {column: f"""
SELECT (SELECT min({column}) FROM activity_spans WHERE kind = ?1 AND event = ?2),
       (SELECT max({column}) FROM activity_spans WHERE kind = ?1 AND event = ?2)
""" for column in SPAN_COLUMNS}
SPANS_BEFORE = {column: f"""
SELECT count(*) FROM activity_spans WHERE kind = ? AND event = ? AND {column} < ?
""" for column in SPAN_COLUMNS}
SPANS_FROM = {column: f"""
SELECT count(*) FROM activity_spans WHERE kind = ? AND event = ? AND {column} >= ?
""" for column in SPAN_COLUMNS}
# Gaps running from before an instant to at or after another, searched from
# whichever end holds fewer (each end has its index).
GAP_BOUNDS = """
SELECT (SELECT min(prev) FROM activity_gaps WHERE kind = ?1 AND event = ?2),
       (SELECT max(next) FROM activity_gaps WHERE kind = ?1 AND event = ?2)
"""
GAPS_ACROSS = {index: f"""
SELECT count(*) FROM activity_gaps INDEXED BY {index}
WHERE kind = ? AND event = ? AND next >= ? AND prev < ?
""" for index in ("idx_gaps_prev", "idx_gaps_next")}


@dataclass(frozen=True)
class Window:
    """What an answer covers: its range, buckets, user and event."""

    user_id: str | None
    start: int
    end: int
    bucket: Bucket
    starts: tuple[int, ...]  # bucket starts; the first holds `start`
    event: str | None

    def bucket_of(self, instant: int) -> int:
        return bisect.bisect_right(self.starts, instant) - 1


@dataclass
class Share:
    """What one shard (or, once merged, every shard) counts in a window."""

    events: Counter = field(default_factory=Counter)
    pages: Counter = field(default_factory=Counter)
    series: list[list[int]] = field(default_factory=list)  # [movements, pageViews] per bucket
    users: int = 0
    sessions: int = 0

    def add(self, other: Share) -> Share:
        self.events.update(other.events)
        self.pages.update(other.pages)
        for mine, theirs in zip(self.series, other.series):
            mine[0] += theirs[0]
            mine[1] += theirs[1]
        self.users += other.users
        self.sessions += other.sessions
        return self


def empty_share(window: Window) -> Share:
    return Share(series=[[0, 0] for _ in window.starts])


def shard_share(conn: apsw.Connection, unfolded: Unfolded, window: Window) -> Share:
    """The shard's share with its unfolded tail (`Store.read_with_tail`)."""
    return archives.read_consistently(conn, _shard_share, unfolded, window)


def _shard_share(conn: apsw.Connection, unfolded: Unfolded, window: Window) -> Share:
    tail = activity_tail.rows_in(unfolded(conn), window.start, window.end, window.event,
                                 window.user_id)
    if window.user_id is not None:
        rows = conn.execute(USER_MOVEMENTS, (window.user_id, window.start, window.end, window.event))
        archived = _archived(conn, window.start, window.end, window.event, window.user_id)
        return _share_of_rows(rows.fetchall() + archived + tail, window)
    if window.end - window.start < GAP_MS:
        return _share_of_rows(raw_movements(conn, window.start, window.end, window.event) + tail,
                              window)
    share = _share_of_rollups(conn, window)
    _count_series(share, tail, window)
    _count_totals(share, tail)
    event = ALL_EVENTS if window.event is None else window.event
    share.users += activity_tail.new_entities(conn, USERS, event, tail, window.start,
                                               window.end)
    share.sessions += activity_tail.new_entities(conn, SESSIONS, event, tail,
                                                  window.start, window.end)
    return share


def _share_of_rows(rows: list[tuple], window: Window) -> Share:
    share = empty_share(window)
    _count_series(share, rows, window)
    _count_totals(share, rows)
    share.users = len({user for _t, _e, user, _s, _d in rows})
    share.sessions = len({(user, session) for _t, _e, user, session, _d in rows})
    return share


def _count_series(share: Share, rows: list[tuple], window: Window) -> None:
    for timestamp, event, _user, _session, _data in rows:
        counts = share.series[window.bucket_of(timestamp)]
        counts[0] += 1
        counts[1] += event == PAGE_VIEW


def _count_totals(share: Share, rows: list[tuple]) -> None:
    for _timestamp, event, _user, _session, data in rows:
        share.events[event] += 1
        path = page_path(event, data)
        if path is not None:
            share.pages[path] += 1


def _share_of_rollups(conn: apsw.Connection, window: Window) -> Share:
    share = empty_share(window)
    # Series need pieces that never straddle a bucket; totals take the window whole.
    series_raw, series_slots = split_pieces(pieces([window.start, *window.starts[1:], window.end]))
    for start, end in series_raw:
        events = piece_events(conn, start, end, window.event)
        counts = share.series[window.bucket_of(start)]
        counts[0] += sum(events.values())
        counts[1] += events[PAGE_VIEW]
    for slot, movements, page_views in conn.execute(SLOT_TOTALS, (series_slots, window.event)):
        counts = share.series[window.bucket_of(slot)]
        counts[0] += movements
        counts[1] += page_views
    totals_raw, totals_slots = split_pieces(pieces([window.start, window.end]))
    for start, end in totals_raw:
        share.events.update(piece_events(conn, start, end, window.event))
        if window.event in (None, PAGE_VIEW):
            share.pages.update(piece_paths(conn, start, end))
    share.events.update(dict(conn.execute(EVENT_TOTALS, (totals_slots, window.event))))
    if window.event in (None, PAGE_VIEW):
        share.pages.update(dict(conn.execute(PAGE_TOTALS, (totals_slots,))))
    event = ALL_EVENTS if window.event is None else window.event
    share.users = active_entities(conn, USERS, event, window.start, window.end)
    share.sessions = active_entities(conn, SESSIONS, event, window.start, window.end)
    return share


def split_pieces(found: list[tuple[int, int, int]]) -> tuple[list[tuple[int, int]], str]:
    """Raw (start, end) pieces, and the others as the JSON the rollup queries take."""
    raw = [(start, end) for grain, start, end in found if grain == RAW]
    slots = [[grain, start, end] for grain, start, end in found if grain != RAW]
    return raw, json.dumps(slots)


def piece_events(conn: apsw.Connection, start: int, end: int, event: str | None) -> Counter:
    """Movements per event in a raw piece (inside one minute): its own movements, or the
    minute's rollup less the rest of the minute when that rest is likely smaller."""
    minute = start - start % MINUTE
    if not _rest_is_smaller(start, end, minute):
        return raw_events(conn, start, end, event)
    found = Counter(dict(conn.execute(EVENT_TOTALS, (_minute_piece(minute), event))))
    found.subtract(raw_events(conn, minute, start, event))
    found.subtract(raw_events(conn, end, minute + MINUTE, event))
    return found


def piece_paths(conn: apsw.Connection, start: int, end: int) -> Counter:
    """Page views per path in a raw piece, as `piece_events` counts movements."""
    minute = start - start % MINUTE
    if not _rest_is_smaller(start, end, minute):
        return raw_paths(conn, start, end)
    found = Counter(dict(conn.execute(PAGE_TOTALS, (_minute_piece(minute),))))
    found.subtract(raw_paths(conn, minute, start))
    found.subtract(raw_paths(conn, end, minute + MINUTE))
    return found


def _rest_is_smaller(start: int, end: int, minute: int) -> bool:
    """Whether the rest of the piece's minute likely holds fewer movements than the piece: the
    shorter time, what is still to come counting for none. A window ending now ends in a
    piece of the current minute, thousands of movements under ingest, whose rest is empty."""
    now = int(time.time() * 1000)
    piece = max(0, min(end, now) - start)
    rest = (start - minute) + max(0, minute + MINUTE - max(end, now))
    return rest < piece


def _minute_piece(minute: int) -> str:
    return json.dumps([[MINUTE, minute, minute + MINUTE]])


def raw_events(conn: apsw.Connection, start: int, end: int, event: str | None) -> Counter:
    """Movements per event with start <= timestamp < end, counted in SQLite: the piece at a
    window's end holds the last minute's movements, many of them under ingest."""
    found = Counter(dict(conn.execute(RAW_EVENTS, (start, end, event))))
    found.update(row[1] for row in _archived(conn, start, end, event))
    return found


def raw_paths(conn: apsw.Connection, start: int, end: int) -> Counter:
    """Page views per path with start <= timestamp < end."""
    found = Counter(path for (data,) in conn.execute(RAW_PAGE_DATA, (start, end))
                    if (path := page_path(PAGE_VIEW, data)) is not None)
    found.update(path for _t, event, _u, _s, data in _archived(conn, start, end, PAGE_VIEW)
                 if (path := page_path(event, data)) is not None)
    return found


def raw_movements(conn: apsw.Connection, start: int, end: int, event: str | None) -> list[tuple]:
    stored = conn.execute(WINDOW_MOVEMENTS, (start, end, event)).fetchall()
    return stored + _archived(conn, start, end, event)


def _archived(conn: apsw.Connection, start: int, end: int, event: str | None,
              user_id: str | None = None) -> list[tuple]:
    """Archived movements as rows of MOVEMENT_COLUMNS."""
    return [(m.timestamp, m.event, m.userId, m.sessionId, bytes(m.data))
            for m in archives.movements_in(conn, start, end, user_id)
            if event in (None, m.event)]


def active_entities(conn: apsw.Connection, kind: int, event: str, start: int, end: int) -> int:
    """Entities with a movement in [start, end), for end - start >= GAP_MS (see rollups).

    Those that began before the end, less those done before the start, less
    those with a gap across the whole window.
    """
    row = conn.execute(ENTITIES, (kind, event)).fetchone()
    if row is None:
        return 0
    began = _spans_before(conn, "first", kind, event, end, row[0])
    done = _spans_before(conn, "last", kind, event, start, row[0])
    return began - done - _gaps_across(conn, kind, event, start, end)


def _spans_before(conn: apsw.Connection, column: str, kind: int, event: str, at: int,
                  total: int) -> int:
    """How many entities have `column` before `at`, counting the index on the smaller side.

    Windows ending now would otherwise count nearly every entity; the side
    nearer to `at` within the column's range is the one likely to hold fewer.
    """
    low, high = conn.execute(SPAN_BOUNDS[column], (kind, event)).fetchone()
    if at - low <= high - at:
        return conn.execute(SPANS_BEFORE[column], (kind, event, at)).fetchone()[0]
    return total - conn.execute(SPANS_FROM[column], (kind, event, at)).fetchone()[0]


def _gaps_across(conn: apsw.Connection, kind: int, event: str, start: int, end: int) -> int:
    low, high = conn.execute(GAP_BOUNDS, (kind, event)).fetchone()
    if low is None:
        return 0
    index = "idx_gaps_prev" if start - low <= high - end else "idx_gaps_next"
    return conn.execute(GAPS_ACROSS[index], (kind, event, end, start)).fetchone()[0]


def pieces(cuts: list[int]) -> list[tuple[int, int, int]]:
    """(grain, start, end) pieces covering each span between consecutive cuts.

    Each span is cut greedily into the coarsest aligned slots that fit, and
    runs of slots of one grain are merged into one range; what is left at a
    span's ends that no minute fits is a RAW piece.
    """
    found: list[tuple[int, int, int]] = []
    for low, high in zip(cuts, cuts[1:]):
        at = low
        while at < high:
            grain = next((g for g in reversed(GRAINS) if at % g == 0 and at + g <= high), RAW)
            stop = min(high, at - at % MINUTE + MINUTE) if grain == RAW else at + grain
            if found and found[-1][0] == grain and found[-1][2] == at:
                found[-1] = (grain, found[-1][1], stop)
            else:
                found.append((grain, at, stop))
            at = stop
    return found
