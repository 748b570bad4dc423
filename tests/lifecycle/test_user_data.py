"""Erasing a user's data: in jobs of a bounded size, exactly what the user made, beside ingest."""

from __future__ import annotations

import re
import threading
import time
import uuid

from helpers import LARGE_TABLES, connect, fold_all, movement
from tracker.analytics import rollups, visits
from tracker.lifecycle import user_data
from user_datasets import (
    ERASED,
    all_movements,
    analytics_queries,
    dataset,
    dump_rollups,
    post_all,
    same_answer,
    user_ids_session,
    web_queries,
)


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
