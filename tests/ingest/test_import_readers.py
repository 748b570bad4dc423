"""The importers' readers: each format's rows as the movements they hold, or why not."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import pytest

from tracker.ingest import import_goatcounter, import_ndjson, import_umami
from tracker.ingest.import_rows import Imported, Rejected, RowIds, Unreadable, open_text
from tracker.storage.rows import decode_context

DATA = Path(__file__).parents[1] / "data"


def read_file(reader, name: str, site: str = "shop") -> list[tuple[int, Imported | Rejected]]:
    with open_text(DATA / name) as text:
        return list(reader(text, site))


def read_text(reader, text: str, site: str = "shop") -> list[tuple[int, Imported | Rejected]]:
    return list(reader(io.StringIO(text, newline=""), site))


def movements(read) -> list[tuple]:
    """(line, event, data, timestamp) of the rows read as movements."""
    return [(line, row.row.event, json.loads(row.row.data), row.row.timestamp)
            for line, row in read if isinstance(row, Imported)]


def rejected(read) -> list[tuple[int, str]]:
    return [(line, str(row)) for line, row in read if isinstance(row, Rejected)]


def test_goatcounter_hits():
    read = read_file(import_goatcounter.read, "goatcounter-export.csv")
    assert movements(read)[:4] == [
        (2, "page_view", {"path": "/", "title": "Home", "referrer": "https://www.google.com"}, 1709283600000),
        (3, "page_view", {"path": "/pricing", "title": "Pricing"}, 1709283690000),
        (4, "signup-click", {"title": "Sign up"}, 1709283720000),
        (5, "page_view", {"path": "/blog/caf%C3%A9", "title": "Caf\u00e9 notes",
                          "referrer": "https://news.ycombinator.com/item?id=1"}, 1709404200000),
    ]
    by_line = {line: data for line, _event, data, _t in movements(read)}
    assert by_line[8]["utm"] == {"source": "spring-sale"}  # a campaign
    assert by_line[9]["utm"] == {"source": "Email"}  # a name GoatCounter gave
    assert by_line[10]["referrer"] == "android-app://com.slack"  # an app: no source
    assert rejected(read) == [(11, "a bot's hit (Bot 3)"), (12, "`Date` is not an ISO 8601 time: 'yesterday'"),
                             (13, "has 3 fields; GoatCounter's CSV has 14")]


def test_goatcounter_context_from_the_user_agent_or_the_named_browser_and_system():
    read = dict(read_file(import_goatcounter.read, "goatcounter-export.csv"))
    contexts = {line: tuple(decode_context(read[line].context))[:4] for line in (2, 5, 8, 10)}
    assert contexts == {2: ("Chrome", "Windows", "desktop", "NL"), 5: ("Safari", "Mac OS X", "desktop", "US"),
                        8: ("Firefox", "Linux", "mobile", "DE"), 10: ("Chrome", "Android", "tablet", None)}


def test_goatcounter_sessions_are_visits_and_identical_rows_are_two_hits():
    read = dict(read_file(import_goatcounter.read, "goatcounter-export.csv"))
    first, reload, again = read[5].row, read[6].row, read[7].row
    assert first.userId == reload.userId and first.sessionId == reload.sessionId
    assert (reload.data, reload.timestamp) == (again.data, again.timestamp)
    assert len({first.eventId, reload.eventId, again.eventId}) == 3
    assert read[2].row.userId != first.userId
    assert first.userId.startswith("anon:") and len(first.sessionId) == len("anon:") + 32


def test_ids_are_stable_and_keyed_with_the_site():
    once = read_file(import_goatcounter.read, "goatcounter-export.csv")
    twice = read_file(import_goatcounter.read, "goatcounter-export.csv")
    elsewhere = read_file(import_goatcounter.read, "goatcounter-export.csv", site="blog")
    assert [r.row for _l, r in once if isinstance(r, Imported)] == [r.row for _l, r in twice
                                                                     if isinstance(r, Imported)]
    users = {r.row.userId for _l, r in once if isinstance(r, Imported)}
    assert users.isdisjoint(r.row.userId for _l, r in elsewhere if isinstance(r, Imported))


def test_goatcounter_rejects_another_version_and_reads_gzip(tmp_path):
    with pytest.raises(Unreadable, match="version 2"):
        read_text(import_goatcounter.read, "1Path,Title,Event\n/,Home,false\n")
    with pytest.raises(Unreadable):
        read_text(import_goatcounter.read, "")
    zipped = tmp_path / "export.csv.gz"
    zipped.write_bytes(gzip.compress((DATA / "goatcounter-export.csv").read_bytes()))
    with open_text(zipped) as text:
        assert len(list(import_goatcounter.read(text, "shop"))) == 12


def test_umami_events():
    read = read_file(import_umami.read, "umami-website_event.csv")
    assert movements(read) == [
        (2, "page_view", {"path": "/", "host": "shop.example", "title": "Home",
                          "referrer": "https://www.google.com/search?q=tracker",
                          "utm": {"source": "newsletter", "medium": "email", "campaign": "spring"}},
         1709283600123),
        (3, "page_view", {"path": "/pricing", "host": "shop.example", "title": "Pricing",
                          "referrer": "https://shop.example"}, 1709283660456),
        (4, "signup", {"path": "/pricing", "host": "shop.example"}, 1709283720000),
        (5, "page_view", {"path": "/blog/caf%C3%A9", "host": "shop.example", "title": "Caf\u00e9 notes",
                          "referrer": "https://t.co/", "clickId": {"gclid": True}}, 1709410200000),
        (6, "page_view", {"path": "/docs", "host": "shop.example", "title": "Docs"}, 1709625600000),
    ]
    rows = dict(read)
    assert rows[2].row.eventId == "0a3c5e2f-1b4d-4c6e-8f01-23456789ab01"
    assert rows[2].row.userId == rows[6].row.userId and rows[2].row.sessionId != rows[6].row.sessionId
    assert rejected(read) == [
        (7, "event_type 5 is not a page view (1) or an event (2)"),
        (8, "website_id 99999999-4a59-4e8d-9c7b-1a2b3c4d5e6f is not the first row's "
            "(6f1d2c3b-4a59-4e8d-9c7b-1a2b3c4d5e6f): import one website's rows at a time")]


def test_umami_before_visit_ids_and_utm_columns():
    read = read_file(import_umami.read, "umami-website_event-2.x.csv")
    first = dict(read)[2].row
    assert json.loads(first.data)["utm"] == {"source": "mastodon"}
    assert json.loads(first.data)["clickId"] == {"gclid": True}
    assert {row.row.sessionId for _line, row in read} == {""}  # visits made when folded, as anonymous ones


@pytest.mark.parametrize("text, why", [
    ("event_id,session_id\n", "no created_at, url_path, event_type"),
    ("", "no event_id"),
])
def test_umami_rejects_a_file_without_the_needed_columns(text, why):
    with pytest.raises(Unreadable, match=why):
        read_text(import_umami.read, text)


@pytest.mark.parametrize("row, why", [
    ("e1,s1,not a time,/,1,", "`created_at` is not an ISO 8601 time"),
    (",s1,2024-01-01 00:00:00,/,1,", "no event_id or session_id"),
    ("e1,s1,2024-01-01 00:00:00,/,2,", "`event_name` is not an event name"),
    ("e1,s1,2024-01-01 00:00:00,/,2," + "x" * 65, "`event_name` is not an event name"),
    ("e1,s1,2024-01-01 00:00:00,/", "has 4 fields; the header has 6"),
    ("e1,s1,-0001-01-01 00:00:00,/,1,", "`created_at` is not an ISO 8601 time"),
])
def test_umami_bad_rows(row, why):
    [(line, found)] = read_text(import_umami.read, f"event_id,session_id,created_at,url_path,event_type,event_name\n{row}\n")
    assert line == 2 and isinstance(found, Rejected) and str(found).startswith(why)


def test_tracker_exports():
    read = read_file(import_ndjson.read, "tracker-export.ndjson")
    rows = {line: row for line, row in read}
    assert rows[2].row.eventId == "e6a1c0b2-5d3f-4e8a-9b7c-000000000004"
    assert rows[4].row.eventId.startswith("ndjson:")  # none in the file: a stable one
    assert (rows[9].row.userId, rows[9].row.sessionId) == ("anon:0123456789abcdef",
                                                            "anon:0123456789abcdef0123456789abcdef")
    assert 1 not in rows  # a session line: sessions are made from the movements
    assert [line for line, _why in rejected(read)] == [6, 7]


def test_a_quoted_field_over_several_lines_is_numbered_from_its_first_line():
    text = "event_id,session_id,created_at,url_path,event_type,page_title\n" \
           'e1,s1,2024-01-01 00:00:00,/,1,"two\nlines"\ne2,s1,2024-01-01 00:00:01,/,7,\n'
    assert [line for line, _row in read_text(import_umami.read, text)] == [2, 4]


def test_row_ids_tell_identical_rows_apart_in_order():
    ids = RowIds("test")
    first, second, other = ids.of("a", "b"), ids.of("a", "b"), ids.of("a", "c")
    assert first != second and second == first + ".1" and other != first
    again = RowIds("test")
    assert [again.of("a", "b"), again.of("a", "b")] == [first, second]


HUGE = "x" * 200_000  # over the csv module's field limit


@pytest.mark.parametrize("reader, header, good", [
    (import_umami.read, "event_id,session_id,created_at,url_path,event_type",
     "e{n},s1,2024-01-01 00:00:0{n},/p{n},1"),
    (import_goatcounter.read, ",".join(import_goatcounter.HEADER),
     "/p{n},T,false,,Chrome,Linux,s1,0,,,,NL,false,2024-03-01T00:00:0{n}Z"),
])
def test_a_record_the_csv_module_refuses_costs_its_own_line_only(reader, header, good):
    text = f"{header}\n{good.format(n=1)}\n\"{HUGE}\",a,b\n{good.format(n=2)}\n"
    read = read_text(reader, text)
    assert [(line, data["path"]) for line, _event, data, _time in movements(read)] == [(2, "/p1"), (4, "/p2")]
    assert rejected(read) == [(3, "not a CSV record: field larger than field limit (131072)")]


@pytest.mark.parametrize("reader", [import_umami.read, import_goatcounter.read])
def test_a_header_the_csv_module_refuses_makes_the_file_unreadable(reader):
    with pytest.raises(Unreadable, match="its header is not a CSV record"):
        read_text(reader, f'"{HUGE}"\n')


def test_an_export_line_nested_deeper_than_the_stack_is_rejected():
    start = '{"type":"movement","userId":"u","sessionId":"s","timestamp":1,"event":"e","data":'
    line, good = start + '{"a":' + "[" * 100_000 + "}\n", start + "{}}\n"
    read = read_text(import_ndjson.read, line + good)
    assert rejected(read) == [(1, "not a line of tracker's export: nested too deeply")]
    assert [line for line, *_ in movements(read)] == [2]
