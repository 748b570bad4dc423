"""`Database` (tracker/storage/database.py): one SQLite file and every connection this process
keeps to it.

It promises a thread the same connection of a role on every use, its own per thread and
role; a file moved, deleted or replaced under it is opened afresh on the next use; its
`transaction()` commits when the block ends and rolls back when it raises, and holds the
write lock from its start; a snapshot sees one moment; `close()` closes every thread's
connections.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import apsw
import pytest

from tracker.storage.connections import Role, connect
from tracker.storage.database import Database


def new_file(path: Path, value: str) -> Path:
    """A WAL SQLite file at `path` holding one row, `value`."""
    conn = connect(path, Role.CREATOR)
    try:
        conn.execute("CREATE TABLE t(value TEXT)")
        conn.execute("INSERT INTO t VALUES (?)", (value,))
    finally:
        conn.close()
    return path


def values(conn: apsw.Connection) -> list[str]:
    return [value for (value,) in conn.execute("SELECT value FROM t ORDER BY rowid")]


def is_closed(conn: apsw.Connection) -> bool:
    try:
        conn.execute("SELECT 1").fetchall()
    except apsw.ConnectionClosedError:
        return True
    return False


@pytest.fixture
def database(tmp_path):
    database = Database(new_file(tmp_path / "a.sqlite", "first"))
    yield database
    database.close()


def on_another_thread(function):
    result = []
    thread = threading.Thread(target=lambda: result.append(function()))
    thread.start()
    thread.join()
    return result[0]


def test_a_thread_gets_the_same_connection_of_a_role_on_each_use(database):
    assert database.connection(Role.READER) is database.connection(Role.READER)
    assert database.connection(Role.WRITER) is database.connection(Role.WRITER)


def test_each_role_has_its_own_connection(database):
    opened = {role: database.connection(role) for role in (Role.READER, Role.LOOKUP, Role.WRITER)}
    assert len({id(conn) for conn in opened.values()}) == 3


def test_a_reader_connection_cannot_write(database):
    with pytest.raises(apsw.ReadOnlyError):
        database.connection(Role.READER).execute("INSERT INTO t VALUES ('no')")


def test_each_thread_has_its_own_connection(database):
    mine = database.connection(Role.READER)
    theirs = on_another_thread(lambda: database.connection(Role.READER))
    assert theirs is not mine
    assert database.connection(Role.READER) is mine


def test_a_replaced_file_is_reopened_on_next_use(database, tmp_path):
    before = database.connection(Role.READER)
    assert values(before) == ["first"]
    os.replace(new_file(tmp_path / "b.sqlite", "second"), database.path)

    after = database.connection(Role.READER)
    assert after is not before
    assert values(after) == ["second"]
    assert is_closed(before)


def test_a_write_after_the_file_was_replaced_goes_into_the_new_file(database, tmp_path):
    # The writer was open on the old file, with nothing of it left in the WAL: frames still
    # there would be read over the new file, as SQLite keeps the WAL by path, not by inode.
    old_writer = database.connection(Role.WRITER)
    os.replace(new_file(tmp_path / "b.sqlite", "second"), database.path)

    with database.transaction() as conn:
        assert conn is not old_writer
        conn.execute("INSERT INTO t VALUES ('into the second')")
    database.close()
    check = connect(database.path, Role.READER)
    try:
        assert values(check) == ["second", "into the second"]
    finally:
        check.close()


def test_a_file_deleted_and_made_again_is_reopened(database):
    assert values(database.connection(Role.LOOKUP)) == ["first"]
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database.path}{suffix}").unlink(missing_ok=True)
    new_file(database.path, "made again")
    assert values(database.connection(Role.LOOKUP)) == ["made again"]


def test_a_file_moved_away_is_not_read_at_its_new_place(database, tmp_path):
    assert values(database.connection(Role.READER)) == ["first"]
    os.rename(database.path, tmp_path / "moved.sqlite")
    with pytest.raises(apsw.CantOpenError):
        database.connection(Role.READER)


def test_a_connection_of_an_unchanged_file_is_kept_after_other_writes(database):
    reader = database.connection(Role.READER)
    with database.transaction() as conn:
        conn.execute("INSERT INTO t VALUES ('more')")
    assert database.connection(Role.READER) is reader
    assert values(reader) == ["first", "more"]


def test_transaction_commits_when_the_block_ends(database, tmp_path):
    with database.transaction() as conn:
        conn.execute("INSERT INTO t VALUES ('kept')")
    other = connect(database.path, Role.READER)
    try:
        assert values(other) == ["first", "kept"]
    finally:
        other.close()


def test_transaction_rolls_back_when_the_block_raises(database):
    with pytest.raises(RuntimeError, match="the block failed"):
        with database.transaction() as conn:
            conn.execute("INSERT INTO t VALUES ('lost')")
            raise RuntimeError("the block failed")
    writer = database.connection(Role.WRITER)
    assert not writer.in_transaction
    assert values(writer) == ["first"]


def test_transaction_runs_on_this_threads_writer_connection(database):
    with database.transaction() as conn:
        assert conn is database.connection(Role.WRITER)
        assert conn.in_transaction


def test_a_transaction_holds_the_write_lock_from_its_start(database):
    other = connect(database.path, Role.WRITER)
    other.set_busy_timeout(5)
    try:
        with database.transaction():
            with pytest.raises(apsw.BusyError):
                other.execute("BEGIN IMMEDIATE")
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
    finally:
        other.close()


def test_forget_closes_the_connection_and_rolls_back_its_transaction(database):
    writer = database.connection(Role.WRITER)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO t VALUES ('abandoned')")
    database.forget(Role.WRITER)

    assert is_closed(writer)
    assert database.connection(Role.WRITER) is not writer
    assert values(database.connection(Role.READER)) == ["first"]


def test_forget_leaves_the_other_roles_connections(database):
    reader = database.connection(Role.READER)
    database.forget(Role.WRITER)  # none open: nothing to do
    database.connection(Role.WRITER)
    database.forget(Role.WRITER)
    assert database.connection(Role.READER) is reader
    assert not is_closed(reader)


def test_a_snapshot_sees_one_moment(database):
    snapshot = database.snapshot()
    try:
        with database.transaction() as conn:
            conn.execute("INSERT INTO t VALUES ('later')")
        assert values(snapshot) == ["first"]
        assert values(database.connection(Role.READER)) == ["first", "later"]
    finally:
        snapshot.close()


def test_a_snapshot_is_a_new_connection_each_time(database):
    first, second = database.snapshot(), database.snapshot()
    try:
        assert first is not second
    finally:
        first.close()
        second.close()


def test_close_closes_every_threads_connections(database):
    mine = database.connection(Role.READER)
    theirs = on_another_thread(lambda: database.connection(Role.WRITER))
    database.close()
    assert is_closed(mine)
    assert is_closed(theirs)
