"""POST /session's write (tracker/ingest/sessions.py).

`open_session` creates a session, or refreshes one its user already has: the last activity
only moves forward and device information given replaces what was kept, none given keeps
it. A session id another user holds is refused with `SessionTaken`, changing nothing.
"""

from __future__ import annotations

import pytest

from tracker.ingest.sessions import SessionTaken, open_session
from tracker.storage.connections import transaction

T = 1_790_000_000_000




def opened(conn, user="u1", session="s1", device=None, now=T):
    with transaction(conn):
        return open_session(conn, user, session, device, now)


def test_a_new_session_is_created_with_empty_device_information(shard):
    row, created = opened(shard)
    assert created
    assert row == ("u1", "s1", T, T, "{}")


def test_a_new_session_keeps_the_device_information_given(shard):
    row, _created = opened(shard, device='{"os":"Linux"}')
    assert row[4] == '{"os":"Linux"}'


def test_opening_its_session_again_refreshes_it(shard):
    opened(shard, device='{"os":"Linux"}')
    row, created = opened(shard, now=T + 500)
    assert not created
    assert row == ("u1", "s1", T, T + 500, '{"os":"Linux"}')  # none given: kept


def test_new_device_information_replaces_the_old(shard):
    opened(shard, device='{"os":"Linux"}')
    row, _created = opened(shard, device='{"os":"Android"}', now=T + 1)
    assert row[4] == '{"os":"Android"}'


def test_the_last_activity_never_moves_back(shard):
    opened(shard, now=T + 500)
    row, _created = opened(shard, now=T)
    assert (row[2], row[3]) == (T + 500, T + 500)


def test_a_session_of_another_user_is_refused_and_left_alone(shard):
    opened(shard, user="u1", device='{"os":"Linux"}')
    with pytest.raises(SessionTaken):
        opened(shard, user="u2", device='{"os":"Android"}', now=T + 9)
    assert shard.execute("SELECT userId, lastActivity, deviceInfo FROM sessions").fetchall() == [
        ("u1", T, '{"os":"Linux"}')]
