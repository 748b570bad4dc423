"""Folding the log (tracker/storage/fold.py): any split into batches and any arrival order
gives the same tables, equal to the rollups the schema migration builds from the stored
movements in one pass. A fold takes only its shard's rows, moves the position to the end of
the stretch it read (the last row taken when cut by its limit) in the same transaction, never
moves it back, and a job run after a fold sees what it folded."""

from __future__ import annotations

import contextlib

import apsw
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import HOUR, ROLLUP_TABLES
from tracker.enrich.sources import rederive_functions
from tracker.ingest.apply import apply_movements
from tracker.storage import fold, log, migrations
from tracker.storage.log import LogFile
from tracker.storage.rows import MovementRow
from tracker.storage.shard_file import position

BASE = 1_790_000_000_000  # any instant: folding does not look at the clock

movements = st.lists(st.tuples(
    st.sampled_from(["a", "b", "c"]),                       # user
    st.sampled_from(["s1", "s2", "s3"]),                    # session
    st.integers(0, 72).map(lambda h: BASE - h * HOUR // 3),  # timestamps out of order, late ones too
    st.sampled_from(["page_view", "click"]),
    st.sampled_from(['{}', '{"path": "/a"}', '{"path": "/b"}']),
    st.sampled_from([None, "e1", "e2", "e3", "e4"]),        # eventIds, repeats across batches
), min_size=1, max_size=60)


def new_shard(path) -> apsw.Connection:
    conn = apsw.Connection(str(path))
    migrations.apply(conn, functions=rederive_functions())
    return conn


def tables(conn: apsw.Connection) -> dict[str, list]:
    found = {table: sorted(conn.execute(f"SELECT * FROM {table}").fetchall()) for table in ROLLUP_TABLES}
    found["movements"] = sorted(conn.execute(
        "SELECT userId, sessionId, timestamp, event, data, eventId FROM movements").fetchall(),
        key=repr)
    found["sessions"] = sorted(conn.execute(
        "SELECT userId, sessionId, startTime, lastActivity FROM sessions").fetchall())
    return found


def brute_force(path, rows: list[MovementRow]) -> dict[str, list]:
    """Movements kept by plain Python (first of each (userId, eventId)), rollups by the
    migration's one-pass SQL over them, sessions by min/max per session."""
    seen, kept = set(), []
    for row in rows:
        key = (row.userId, row.eventId)
        if row.eventId is None or key not in seen:
            seen.add(key)
            kept.append(row)
    with contextlib.closing(apsw.Connection(str(path))) as conn:
        return _brute_force_into(conn, kept)


def _brute_force_into(conn: apsw.Connection, kept: list[MovementRow]) -> dict[str, list]:
    migrations.apply(conn, upto=2)
    conn.executemany("INSERT INTO movements(userId, sessionId, timestamp, event, data, eventId) "
                     "VALUES (?, ?, ?, ?, ?, ?)", [row[:6] for row in kept])
    spans: dict[str, list] = {}
    for row in kept:  # a session belongs to the first user seen with it
        span = spans.setdefault(row.sessionId, [row.userId, row.timestamp, row.timestamp])
        if span[0] == row.userId:
            span[1], span[2] = min(span[1], row.timestamp), max(span[2], row.timestamp)
    conn.executemany("INSERT INTO sessions(userId, sessionId, startTime, lastActivity) "
                     "VALUES (?, ?, ?, ?)", [(u, s, a, b) for s, (u, a, b) in spans.items()])
    migrations.apply(conn, functions=rederive_functions())
    return tables(conn)


@settings(max_examples=40, deadline=None, database=None)
@given(movements, st.randoms(use_true_random=False))
def test_any_split_and_order_folds_to_the_brute_force_answer(tmp_path_factory, drawn, rng):
    directory = tmp_path_factory.mktemp("fold")
    rows = [MovementRow(*m) for m in drawn]
    LogFile(directory / "log.sqlite").create(0)
    with contextlib.closing(apsw.Connection(str(directory / "log.sqlite"))) as writer, \
            contextlib.closing(new_shard(directory / "shard.sqlite")) as shard:
        folded = fold_in_random_stretches(directory, writer, shard, rows, rng)
    assert folded == brute_force(directory / "brute.sqlite", rows)


def fold_in_random_stretches(directory, writer, shard, rows, rng) -> dict[str, list]:
    reader = LogFile(directory / "log.sqlite")
    appended = 0
    while appended < len(rows):  # append in random requests, folding random stretches between
        size = rng.randint(1, 12)
        with writer:
            log.append_rows(writer, [(0, 0, *row, None) for row in rows[appended:appended + size]])
        appended += size
        if rng.random() < 0.5:
            head = log.head(writer)
            with shard:
                fold.fold_once(shard, 0, reader, rng.randint(position(shard), head),
                               apply_movements, limit=rng.randint(1, 20))
    with shard:
        fold.fold_to(shard, 0, reader, log.head(writer), apply_movements)
    with shard:  # folding again finds nothing: the position moved with the rows
        assert fold.fold_to(shard, 0, reader, log.head(writer), apply_movements)[-1].rows == 0
    reader.close()
    return tables(shard)


OLD_LOG = """
CREATE TABLE log (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, shard INTEGER NOT NULL, loggedAt INTEGER NOT NULL,
  userId TEXT NOT NULL, sessionId TEXT NOT NULL, timestamp INTEGER NOT NULL, event TEXT NOT NULL,
  data TEXT NOT NULL, eventId TEXT
);
INSERT INTO log(shard, loggedAt, userId, sessionId, timestamp, event, data, eventId)
VALUES (0, 1, 'u1', 's1', 5, 'click', '{}', NULL);
"""


def test_a_log_made_before_request_contexts_gets_their_column(tmp_path):
    path = log.path_in(tmp_path)
    with contextlib.closing(apsw.Connection(str(path))) as conn:
        conn.execute(OLD_LOG)
    LogFile(path).create(floor=0)
    context = '["Chrome","Windows","desktop","US",null,null]'
    with contextlib.closing(apsw.Connection(str(path))) as conn:
        log.append_rows(conn, [(0, 2, "u2", "s2", 6, "click", "{}", None, None, None, context)])
        found = log.read_rows(conn, 0, 0, log.head(conn), 10)
    assert [(row.movement.userId, row.context) for row in found] == [("u1", None), ("u2", context)]


def logged_rows(directory, *shards: int) -> LogFile:
    """A log holding one row per entry of `shards` (that shard file's key), users u1, u2, ..."""
    log_file = LogFile(directory / "log.sqlite")
    log_file.create(0)
    with log_file.transaction() as conn:
        log.append_rows(conn, [(shard, 0, f"u{i}", "s1", BASE + i, "click", "{}", None, None, None, None)
                               for i, shard in enumerate(shards, 1)])
    return log_file


def stored_users(shard: apsw.Connection) -> list[str]:
    return [user for (user,) in shard.execute("SELECT userId FROM movements ORDER BY id")]


def test_a_fold_takes_only_its_shards_rows_and_moves_the_position_to_its_end(tmp_path):
    log_file = logged_rows(tmp_path, 0, 1, 0, 1)
    with contextlib.closing(new_shard(tmp_path / "shard.sqlite")) as shard:
        with shard:
            folded = fold.fold_once(shard, 0, log_file, 4, apply_movements)
        assert (folded.shard, folded.rows, folded.movements, folded.sessions_created,
                folded.position) == (0, 2, 2, 1, 4)  # past the other shard's last row too
        assert stored_users(shard) == ["u1", "u3"] and position(shard) == 4
    log_file.close()


def test_a_fold_cut_by_its_limit_ends_at_the_last_row_it_took(tmp_path):
    log_file = logged_rows(tmp_path, 0, 0, 1, 0)
    with contextlib.closing(new_shard(tmp_path / "shard.sqlite")) as shard:
        with shard:
            assert fold.fold_once(shard, 0, log_file, 4, apply_movements, limit=2).position == 2
        with shard:
            assert fold.fold_once(shard, 0, log_file, 4, apply_movements, limit=2).position == 4
        assert stored_users(shard) == ["u1", "u2", "u4"]
    log_file.close()


def test_a_shard_already_at_the_position_folds_nothing(tmp_path):
    log_file = logged_rows(tmp_path, 0, 0)
    with contextlib.closing(new_shard(tmp_path / "shard.sqlite")) as shard:
        with shard:
            fold.fold_to(shard, 0, log_file, 2, apply_movements)
        with shard:
            folded = fold.fold_once(shard, 0, log_file, 1, apply_movements)
        assert (folded.rows, folded.position) == (0, 2)  # an older head moves nothing back
        assert stored_users(shard) == ["u1", "u2"]
    log_file.close()


def test_fold_to_takes_every_batch_up_to_the_position(tmp_path):
    log_file = logged_rows(tmp_path, *[0] * (fold.FOLD_ROWS + 1))
    batches: list[int] = []

    def count_only(conn, rows, contexts):  # an Apply that stores nothing: only the batching counts
        batches.append(len(rows))
        return fold.Applied(len(rows), 0)

    with contextlib.closing(new_shard(tmp_path / "shard.sqlite")) as shard:
        with shard:
            folds = fold.fold_to(shard, 0, log_file, fold.FOLD_ROWS + 1, count_only)
        assert [(f.rows, f.position) for f in folds] == [(fold.FOLD_ROWS, fold.FOLD_ROWS),
                                                         (1, fold.FOLD_ROWS + 1)]
        assert batches == [fold.FOLD_ROWS, 1] and position(shard) == fold.FOLD_ROWS + 1
    log_file.close()


def test_a_job_after_a_fold_sees_what_was_folded_in_the_same_transaction(tmp_path):
    log_file = logged_rows(tmp_path, 0, 0)
    reported: list = []
    with contextlib.closing(new_shard(tmp_path / "shard.sqlite")) as shard:
        with pytest.raises(RuntimeError):
            with shard:
                fold.then(shard, 0, log_file, 2, apply_movements, work=stored_users,
                          on_fold=reported.extend)
                raise RuntimeError("the job's transaction failed")
        assert stored_users(shard) == [] and position(shard) == 0  # the fold went with it
        with shard:
            seen = fold.then(shard, 0, log_file, 2, apply_movements, work=stored_users,
                             on_fold=reported.extend)
        assert seen == ["u1", "u2"]
        assert [f.position for f in reported] == [2, 2]
    log_file.close()
