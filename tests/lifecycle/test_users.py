"""A user's own data: GET /users/{userId}/export and DELETE /users/{userId}."""

from __future__ import annotations

import os
import re
import threading
import time
import tracemalloc
import uuid

import apsw
import pytest

from helpers import LARGE_TABLES, MINUTE, TOKEN, connect, files_open_under, fold_all, movement
from tracker.analytics import rollups, visits
from tracker.lifecycle import user_data
from tracker.lifecycle.export import spool_dir
from user_datasets import (
    ERASED,
    all_movements,
    analytics_queries,
    dataset,
    dump_rollups,
    export_lines,
    post_all,
    same_answer,
    user_ids_session,
    web_queries,
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


@pytest.mark.parametrize("request_line", [("get", "/users/{}/export"), ("delete", "/users/{}")])
def test_user_endpoints_need_the_read_token(client, request_line):
    method, path = request_line
    client.post("/track", json=movement())
    answer = getattr(client, method)(path.format("u1"), headers={"Authorization": "Bearer wrong"})
    assert answer.status_code == 401
    assert answer.json()["error"] == "unauthorized"
    assert len(all_movements(client, "u1")) == 1


@pytest.mark.parametrize("user", ["x" * 129, "a%00b", "tab%09", "del%7F", "c1%C2%85"])
@pytest.mark.parametrize("path", ["/users/{}/export", "/users/{}"])
def test_a_user_id_that_breaks_the_rules_is_a_422(client, user, path):
    method = client.get if path.endswith("export") else client.delete
    answer = method(path.format(user))
    assert answer.status_code == 422
    assert "userId" in answer.json()["detail"]


def test_a_user_id_of_128_characters_is_accepted(client):
    user = "é" * 128
    client.post("/track", json=movement(user=user))
    assert len(export_lines(client, user)) == 2
    assert client.delete(f"/users/{user}").json() == {"userId": user, "movements": 1, "sessions": 1}


def test_export_of_a_user_with_nothing_stored_is_a_404(client):
    client.post("/track", json=movement(user="someone-else"))
    answer = client.get("/users/nobody/export")
    assert answer.status_code == 404
    assert answer.json()["error"] == "not_found"


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


def test_erasure_runs_as_several_jobs_for_a_large_user(make_client, monkeypatch, now):
    client = make_client(TRACKER_ERASE_CHUNK="40")
    jobs: list[int] = []
    erase_some = user_data.erase_some

    def counted(conn, shard, user_id, limit):
        erased = erase_some(conn, shard, user_id, limit)
        jobs.append(erased.movements)
        return erased

    monkeypatch.setattr(user_data, "erase_some", counted)
    post_all(client, [movement(timestamp=now - i) for i in range(100)])
    assert client.delete("/users/u1").json()["movements"] == 100
    assert jobs == [40, 40, 20]


def test_erasure_leaves_what_the_other_users_alone_would_have_made(make_client, data_dir, tmp_path,
                                                                    now):
    events = dataset(now)
    erased_events = [e for e in events if e["userId"] == ERASED]
    everyone = make_client()
    post_all(everyone, events, batch=97)
    others_dir = tmp_path / "others"
    others = make_client(TRACKER_DATA_DIR=str(others_dir))
    post_all(others, [e for e in events if e["userId"] != ERASED], batch=97)
    erased_sessions = {e["sessionId"] for e in erased_events}

    answer = everyone.delete(f"/users/{ERASED}")
    fold_all(everyone)
    fold_all(others)

    assert answer.json() == {"userId": ERASED, "movements": len(erased_events),
                             "sessions": len(erased_sessions)}
    assert dump_rollups(data_dir) == dump_rollups(others_dir)
    for params in analytics_queries(now):
        left, right = same_answer(everyone, others, params)
        assert left == right, params
    for path, params in web_queries(now):
        left, right = same_answer(everyone, others, params, path)
        assert left == right, (path, params)
    assert everyone.get(f"/users/{ERASED}/export").status_code == 404
    assert all_movements(everyone, ERASED) == []
    session = {"sessionId": user_ids_session(ERASED, events), "userId": ERASED}
    assert everyone.get("/session", params=session).status_code == 404
    again = everyone.post("/track", json={"events": erased_events[:50]}).json()
    assert again == {"accepted": 50, "duplicates": 0, "ignored": 0}


def test_erasing_again_answers_zeros(client):
    client.post("/track", json=movement())
    assert client.delete("/users/u1").json() == {"userId": "u1", "movements": 1, "sessions": 1}
    assert client.delete("/users/u1").json() == {"userId": "u1", "movements": 0, "sessions": 0}


class Poster:
    """A thread posting one user's movements, noting when each batch was sent and acknowledged."""

    def __init__(self, client, user: str):
        self.client, self.user = client, user
        self.batches: list[tuple[float, float, list[str]]] = []
        self.failures: list[str] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run)

    def run(self) -> None:
        while not self.stop.is_set():
            ids = [uuid.uuid4().hex for _ in range(10)]
            sent = time.monotonic()
            answer = self.client.post("/track", json={"events": [
                movement(user=self.user, eventId=event_id) for event_id in ids]})
            if answer.status_code != 200:
                self.failures.append(f"{answer.status_code} {answer.text}")
            else:
                self.batches.append((sent, time.monotonic(), ids))


def test_erasure_racing_with_ingest_of_the_same_user(make_client):
    client = make_client(TRACKER_ERASE_CHUNK="50")
    post_all(client, [movement(user="racer", eventId=f"old-{i}") for i in range(1_000)])
    posters = [Poster(client, "racer") for _ in range(3)]
    for poster in posters:
        poster.thread.start()
    time.sleep(0.3)
    delete_sent = time.monotonic()
    answer = client.delete("/users/racer")
    delete_answered = time.monotonic()
    time.sleep(0.3)
    for poster in posters:
        poster.stop.set()
        poster.thread.join(10)

    assert answer.status_code == 200 and answer.json()["movements"] >= 1_000
    batches = [batch for poster in posters for batch in poster.batches]
    assert [f for poster in posters for f in poster.failures] == []
    left = {m["eventId"] for m in all_movements(client, "racer")}
    acknowledged_before = {i for _, acked, ids in batches if acked < delete_sent for i in ids}
    sent_after = {i for sent, _, ids in batches if sent > delete_answered for i in ids}
    assert acknowledged_before and sent_after
    assert not left & acknowledged_before
    assert not {f"old-{i}" for i in range(1_000)} & left
    assert sent_after <= left
    assert left <= {i for _, _, ids in batches for i in ids}
    totals = client.get("/analytics", params={"userId": "racer", "timeRange": "1h"}).json()["totals"]
    assert totals["movements"] == len(left)
    assert totals["users"] == 1


def test_every_statement_of_export_and_erasure_is_an_index_search(client, data_dir):
    client.post("/track", json=movement())
    statements = [user_data.USER_SESSIONS, user_data.ERASABLE_MOVEMENTS, user_data.DELETE_MOVEMENT,
                  user_data.DELETE_USER_SESSIONS, rollups.SUBTRACT_EVENTS, rollups.DROP_EMPTY_EVENTS,
                  rollups.SUBTRACT_PAGES, rollups.DROP_EMPTY_PAGES, rollups.DROP_USER_GAPS,
                  rollups.DROP_USER_SPANS, rollups.UNCOUNT_ENTITIES, rollups.DROP_EMPTY_ENTITY_COUNT,
                  visits.DROP_USER_PAGES, visits.DROP_USER_VISITS]
    with connect(data_dir / "shard-0000.sqlite") as conn:
        for sql in statements:
            bindings = [1] * sql.count("?")
            plan = " | ".join(row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", bindings))
            scanned = set(re.findall(r"\bSCAN (\w+)", plan)) & LARGE_TABLES
            assert not scanned, f"{sql.strip()}\n  plan: {plan}"
