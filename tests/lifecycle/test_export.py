"""A user's export: sessions then movements, newest first, written to a spool file from one snapshot and streamed from it."""

from __future__ import annotations

import os
import tracemalloc

import apsw
import pytest

from helpers import MINUTE, TOKEN, connect, files_open_under, fold_all, movement
from tracker.lifecycle.export import spool_dir
from user_datasets import (
    all_movements,
    export_lines,
    post_all,
)


def test_export_holds_the_sessions_then_the_movements_newest_first(client, now):
    client.post("/session", json={"userId": "u1", "sessionId": "s0", "deviceInfo": {"lang": "en"}})
    post_all(client, [movement(session="s1", timestamp=now - 3 * MINUTE, eventId="e1"),
                      movement(session="s2", event="page_view", timestamp=now - MINUTE,
                               data={"path": "/a"}),
                      movement(session="s1", timestamp=now - 2 * MINUTE, data={"n": [1, 2]}),
                      movement(user="u2", session="s9", timestamp=now)])

    lines = export_lines(client, "u1")

    assert [line.pop("type") for line in lines] == ["session"] * 3 + ["movement"] * 3
    sessions = lines[:3]
    assert [s["sessionId"] for s in sessions] == ["s1", "s2", "s0"]  # by startTime
    assert sessions[2]["deviceInfo"] == {"lang": "en"}
    for session in sessions:
        found = client.get("/session", params={"sessionId": session["sessionId"]}).json()
        assert found["session"] == session
    assert lines[3:] == all_movements(client, "u1")
    assert [m["timestamp"] for m in lines[3:]] == [now - MINUTE, now - 2 * MINUTE, now - 3 * MINUTE]


async def stream_export(app, user: str, on_chunk=lambda chunk: None) -> list[int]:
    """Drive the app's ASGI interface directly, dropping each chunk once its size is noted
    (and `on_chunk` has seen it)."""
    sizes: list[int] = []
    scope = {"type": "http", "asgi": {"version": "3.0", "spec_version": "2.4"},
             "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": f"/users/{user}/export", "raw_path": f"/users/{user}/export".encode(),
             "query_string": b"", "root_path": "", "client": ("testclient", 1),
             "server": ("testserver", 80),
             "headers": [(b"authorization", f"Bearer {TOKEN}".encode()), (b"host", b"testserver")]}

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        if message["type"] == "http.response.start":
            assert message["status"] == 200
        elif message.get("body"):
            on_chunk(message["body"])
            sizes.append(len(message["body"]))

    await app(scope, receive, send)
    return sizes


def test_a_large_user_is_exported_page_by_page_and_erased_in_chunks(client, now):
    count = 20_000
    post_all(client, [movement(user="big", session=f"s{i // 1000}", timestamp=now - i,
                               data={"path": f"/page/{i}", "note": "x" * 64}, eventId=f"e{i}")
                      for i in range(count)])
    fold_all(client)  # the export's memory is measured, not the fold's

    tracemalloc.start()
    try:
        sizes = client.portal.call(stream_export, client.app, "big")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert len(sizes) >= count // 500
    assert max(sizes) < sum(sizes) / 20
    assert peak < sum(sizes) / 4, (peak, sum(sizes))

    erased = client.delete("/users/big").json()
    assert erased == {"userId": "big", "movements": count, "sessions": 20}
    assert client.get("/analytics", params={"timeRange": "1h"}).json()["totals"]["movements"] == 0


def test_no_read_transaction_is_open_while_an_export_is_sent(client, data_dir, now):
    """A checkpoint can empty the shard's WAL while the client takes the answer: nothing
    holds it back, however slowly the client reads."""
    post_all(client, [movement(timestamp=now - i, eventId=f"e{i}") for i in range(1_200)])
    fold_all(client)
    shard = data_dir / f"shard-{client.app.state.store.shard_of('u1'):04d}.sqlite"
    checkpoints = []

    def checkpoint(chunk: bytes) -> None:
        with connect(shard) as conn:
            conn.set_busy_timeout(2_000)
            conn.execute("SELECT count(*) FROM sqlite_schema").fetchall()  # opens the WAL
            checkpoints.append(conn.wal_checkpoint(mode=apsw.SQLITE_CHECKPOINT_TRUNCATE))

    sizes = client.portal.call(stream_export, client.app, "u1", checkpoint)
    assert sum(sizes) > 1_200 * 100
    assert checkpoints and set(checkpoints) == {(0, 0)}  # the WAL was copied back and emptied


def test_the_spool_file_is_closed_when_the_answer_ends_or_fails(client, data_dir, now):
    post_all(client, [movement(timestamp=now - i, eventId=f"e{i}") for i in range(1_200)])
    spooled = []

    def note_spool_files(chunk: bytes) -> None:
        spooled.append(files_open_under(os.getpid(), spool_dir(data_dir)))

    def hang_up(chunk: bytes) -> None:
        raise OSError("the client went away")

    client.portal.call(stream_export, client.app, "u1", note_spool_files)
    assert spooled and all(len(held) == 1 for held in spooled)
    assert files_open_under(os.getpid(), spool_dir(data_dir)) == []
    # Which error surfaces depends on where Starlette notices the hang-up.
    with pytest.raises(Exception):  # noqa: B017
        client.portal.call(stream_export, client.app, "u1", hang_up)
    assert files_open_under(os.getpid(), spool_dir(data_dir)) == []
    assert list(spool_dir(data_dir).iterdir()) == []


def test_an_export_that_cannot_be_written_to_disk_is_a_503_never_a_500(client, data_dir):
    client.post("/track", json=movement())
    spool_dir(data_dir).write_text("a file where the spool directory belongs")
    answer = client.get("/users/u1/export")
    assert answer.status_code == 503, answer.text
    assert answer.json()["error"] == "export_unavailable"
    assert answer.headers["retry-after"] == "60"
