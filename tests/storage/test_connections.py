"""Making a connection (tracker/storage/connections.py).

`connect` sets each role's PRAGMAs: only a creator makes a missing file, and switches it to
WAL; readers cannot write; a writer's durability follows TRACKER_SYNC; a lookup keeps a
small cache; a snapshot starts inside a read transaction. `limit_memory` bounds SQLite's
heap in the process: the caches of all connections together. `transaction` is `BEGIN IMMEDIATE`,
committed when its block ends and rolled back when it raises. `file_identity` tells a file
replaced at the same path; `integrity_problems` and `write_problem` are the checks the
command line and the health check run on a file.
"""

from __future__ import annotations

import os

import apsw
import pytest

from tracker.storage.connections import (
    CACHE_KIB,
    SMALL_CACHE_KIB,
    Role,
    connect,
    file_identity,
    integrity_problems,
    limit_memory,
    read_once,
    transaction,
    write_problem,
)


@pytest.fixture
def path(tmp_path):
    path = tmp_path / "file.sqlite"
    conn = connect(path, Role.CREATOR)
    conn.execute("CREATE TABLE t(value INTEGER)")
    conn.close()
    return path


def pragma(conn: apsw.Connection, name: str):
    return conn.execute(f"PRAGMA {name}").fetchall()[0][0]


def count(path) -> int:
    return read_once(path, lambda conn: conn.execute("SELECT count(*) FROM t").fetchall()[0][0])


def test_a_creator_makes_a_missing_file_in_wal_mode(tmp_path):
    conn = connect(tmp_path / "new.sqlite", Role.CREATOR)
    try:
        assert pragma(conn, "journal_mode") == "wal"
    finally:
        conn.close()
    assert (tmp_path / "new.sqlite").exists()


@pytest.mark.parametrize("role", [Role.WRITER, Role.READER, Role.LOOKUP, Role.SNAPSHOT])
def test_no_other_role_makes_a_missing_file(tmp_path, role):
    with pytest.raises(apsw.CantOpenError):
        connect(tmp_path / "missing.sqlite", role)
    assert not (tmp_path / "missing.sqlite").exists()


@pytest.mark.parametrize("role", [Role.READER, Role.LOOKUP, Role.SNAPSHOT])
def test_readers_cannot_write(path, role):
    conn = connect(path, role)
    try:
        with pytest.raises(apsw.ReadOnlyError):
            conn.execute("INSERT INTO t VALUES (1)")
    finally:
        conn.close()


@pytest.mark.parametrize(("sync", "level"), [("full", 2), ("normal", 1)])
def test_a_writers_durability_follows_the_sync_setting(path, sync, level):
    conn = connect(path, Role.WRITER, sync)
    try:
        assert pragma(conn, "synchronous") == level
        conn.execute("INSERT INTO t VALUES (1)")
    finally:
        conn.close()


@pytest.mark.parametrize(("role", "kib"), [(Role.LOOKUP, SMALL_CACHE_KIB), (Role.READER, CACHE_KIB),
                                           (Role.WRITER, CACHE_KIB)])
def test_a_lookup_keeps_a_smaller_cache_than_other_roles(path, role, kib):
    conn = connect(path, role)
    try:
        assert pragma(conn, "cache_size") == -kib
    finally:
        conn.close()
    assert SMALL_CACHE_KIB < CACHE_KIB


@pytest.fixture
def memory_limit():
    """Whatever a test sets, the process gets SQLite's defaults back."""
    yield
    limit_memory(0)


def test_a_memory_limit_bounds_the_caches_of_all_connections_together(path, memory_limit):
    writer = connect(path, Role.WRITER)
    with transaction(writer):
        writer.execute("CREATE TABLE filler(x)")
        writer.executemany("INSERT INTO filler VALUES (randomblob(400))", [()] * 20_000)
    writer.close()
    limit_memory(1)
    readers = [connect(path, Role.READER) for _ in range(4)]
    try:
        for reader in readers:  # each alone would cache the whole 8 MiB table (its cache: 2 MiB)
            reader.execute("SELECT sum(length(x)) FROM filler").fetchall()
        assert apsw.memory_used() <= 1.5 * 2**20
    finally:
        for reader in readers:
            reader.close()


def test_a_snapshot_sees_the_file_as_it_was_when_it_was_made(path):
    snapshot = connect(path, Role.SNAPSHOT)
    try:
        assert snapshot.in_transaction
        writer = connect(path, Role.WRITER)
        with transaction(writer):
            writer.execute("INSERT INTO t VALUES (1)")
        writer.close()
        assert snapshot.execute("SELECT count(*) FROM t").fetchall() == [(0,)]
    finally:
        snapshot.close()
    assert count(path) == 1


def test_transaction_commits_when_its_block_ends(path):
    conn = connect(path, Role.WRITER)
    try:
        with transaction(conn) as inside:
            assert inside is conn and conn.in_transaction
            conn.execute("INSERT INTO t VALUES (1)")
        assert not conn.in_transaction
    finally:
        conn.close()
    assert count(path) == 1


def test_transaction_rolls_back_and_reraises_when_its_block_raises(path):
    conn = connect(path, Role.WRITER)
    try:
        with pytest.raises(KeyError):
            with transaction(conn):
                conn.execute("INSERT INTO t VALUES (1)")
                raise KeyError("the block failed")
        assert not conn.in_transaction
    finally:
        conn.close()
    assert count(path) == 0


def test_transaction_takes_the_write_lock_before_any_write(path):
    first, second = connect(path, Role.WRITER), connect(path, Role.WRITER)
    second.set_busy_timeout(5)
    try:
        with transaction(first):
            with pytest.raises(apsw.BusyError):
                with transaction(second):
                    pass
            assert not second.in_transaction
    finally:
        first.close()
        second.close()


def test_a_readers_snapshot_does_not_keep_a_transaction_from_writing(path):
    # IMMEDIATE: the writer does not start as a reader that must later upgrade its lock.
    reader = connect(path, Role.SNAPSHOT)
    writer = connect(path, Role.WRITER)
    try:
        with transaction(writer):
            writer.execute("INSERT INTO t VALUES (1)")
    finally:
        writer.close()
        reader.close()
    assert count(path) == 1


def test_file_identity_tells_a_file_replaced_at_the_same_path(path, tmp_path):
    first = file_identity(path)
    assert first is not None
    other = tmp_path / "other.sqlite"
    other.write_bytes(path.read_bytes())
    os.replace(other, path)
    assert file_identity(path) not in (None, first)


def test_file_identity_is_none_when_nothing_is_there(tmp_path):
    assert file_identity(tmp_path / "missing.sqlite") is None


def test_read_once_closes_the_connection_it_made(path):
    held = []
    read_once(path, held.append)
    with pytest.raises(apsw.ConnectionClosedError):
        held[0].execute("SELECT 1")


@pytest.mark.parametrize("quick", [False, True])
def test_an_intact_file_has_no_integrity_problems(path, quick):
    assert integrity_problems(path, quick) == []


@pytest.mark.parametrize("quick", [False, True])
def test_a_file_that_is_not_sqlite_has_integrity_problems(tmp_path, quick):
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"not a database, " * 512)
    assert integrity_problems(garbage, quick) != []


def test_a_damaged_page_is_an_integrity_problem(path):
    conn = connect(path, Role.WRITER)
    with transaction(conn):
        conn.executemany("INSERT INTO t VALUES (?)", [(i,) for i in range(2000)])
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    page_size = pragma(conn, "page_size")
    conn.close()
    with open(path, "r+b") as file:  # the table's second page: past the schema
        file.seek(2 * page_size + 100)
        file.write(b"\xff" * 200)
    assert integrity_problems(path) != []


def test_a_writable_file_has_no_write_problem(path):
    assert write_problem(path) is None


def test_a_file_another_writer_holds_has_no_write_problem(path):
    holder = connect(path, Role.WRITER)
    try:
        with transaction(holder):
            assert write_problem(path) is None
    finally:
        holder.close()


def test_a_missing_file_is_a_write_problem(tmp_path):
    assert write_problem(tmp_path / "missing.sqlite")


def test_a_file_that_is_not_sqlite_is_a_write_problem(tmp_path):
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"not a database, " * 512)
    assert write_problem(garbage)
