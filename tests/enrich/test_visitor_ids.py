"""visitor_ids: daily salts shared through the data directory, visitor and session ids."""

from __future__ import annotations

import re
import stat
import subprocess
import sys
import threading
from datetime import UTC, datetime

import pytest

from tracker.enrich import visitor_ids
from tracker.enrich.visitor_ids import DAY_MS, SaltFileError, Salts, new_session_id, visitor_id

ADDRESS = "203.0.113.9"
CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0.0.0 Safari/537.36"
DAY = int(datetime(2026, 3, 10, tzinfo=UTC).timestamp()) * 1000 // DAY_MS
MIDNIGHT = DAY * DAY_MS  # 2026-03-10T00:00:00Z in ms


def visitor(salts: Salts, now_ms: int, address: str = ADDRESS, user_agent: str | None = CHROME) -> str:
    return visitor_id(salts.for_time(now_ms), address, user_agent)


def test_visitor_id_is_anon_and_16_lowercase_hex(tmp_path):
    assert re.fullmatch(r"anon:[0-9a-f]{16}", visitor(Salts(tmp_path), MIDNIGHT))


def test_visitor_id_is_stable_through_one_utc_day(tmp_path):
    salts = Salts(tmp_path)
    assert visitor(salts, MIDNIGHT) == visitor(salts, MIDNIGHT + 12 * 3600_000) == visitor(salts, MIDNIGHT + DAY_MS - 1)


def test_visitor_id_changes_at_utc_midnight(tmp_path):
    salts = Salts(tmp_path)
    assert visitor(salts, MIDNIGHT - 1) != visitor(salts, MIDNIGHT)


@pytest.mark.parametrize("other_address, other_agent", [
    ("203.0.113.10", CHROME),
    (ADDRESS, CHROME + " Edg/131.0"),
    (ADDRESS, None),
])
def test_another_address_or_header_is_another_visitor(tmp_path, other_address, other_agent):
    salts = Salts(tmp_path)
    assert visitor(salts, MIDNIGHT) != visitor(salts, MIDNIGHT, other_address, other_agent)


def test_address_and_header_cannot_run_into_each_other():
    salt = bytes(32)
    assert visitor_id(salt, "1.2.3.4", "5 curl") != visitor_id(salt, "1.2.3.45", " curl")


def test_missing_header_hashes_like_an_empty_one():
    assert visitor_id(bytes(32), ADDRESS, None) == visitor_id(bytes(32), ADDRESS, "")


def test_two_salts_objects_on_one_directory_agree(tmp_path):
    first = visitor(Salts(tmp_path), MIDNIGHT)
    assert visitor(Salts(tmp_path), MIDNIGHT + 5) == first


def test_salts_of_another_directory_differ(tmp_path):
    assert visitor(Salts(tmp_path / "a"), MIDNIGHT) != visitor(Salts(tmp_path / "b"), MIDNIGHT)


RACER = """
import sys
from tracker.enrich.visitor_ids import Salts, visitor_id
data_dir, now_ms, start = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
import time
time.sleep(max(0.0, start - time.time()))
print(visitor_id(Salts(data_dir).for_time(now_ms), "203.0.113.9", "racer"))
"""


def test_processes_racing_for_the_first_salt_of_a_day_agree(tmp_path):
    import time

    start = time.time() + 1.0  # every racer has imported by then and starts together
    racers = [subprocess.Popen([sys.executable, "-c", RACER, str(tmp_path), str(MIDNIGHT), str(start)],
                               stdout=subprocess.PIPE, text=True) for _ in range(4)]
    ids = {racer.communicate(timeout=60)[0].strip() for racer in racers}
    assert all(racer.returncode == 0 for racer in racers)
    assert len(ids) == 1 and re.fullmatch(r"anon:[0-9a-f]{16}", ids.pop())
    assert [path.name for path in (tmp_path / "salts").iterdir()] == ["2026-03-10.salt"]


def test_threads_racing_in_one_process_agree(tmp_path):
    salts = Salts(tmp_path)
    seen: list[bytes] = []
    threads = [threading.Thread(target=lambda: seen.append(salts.for_time(MIDNIGHT))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 8 and len(set(seen)) == 1


def test_a_process_that_loses_the_race_uses_the_winners_salt(tmp_path, monkeypatch):
    winner = Salts(tmp_path).for_time(MIDNIGHT)
    real_read = visitor_ids._read_salt
    calls = []

    def read_as_if_not_yet_published(path):
        calls.append(path)
        return None if len(calls) == 1 else real_read(path)

    monkeypatch.setattr(visitor_ids, "_read_salt", read_as_if_not_yet_published)
    assert Salts(tmp_path).for_time(MIDNIGHT) == winner
    assert sorted(path.name for path in (tmp_path / "salts").iterdir()) == ["2026-03-10.salt"]


def test_salt_files_hold_only_32_random_bytes_readable_by_the_owner(tmp_path):
    salts = Salts(tmp_path)
    visitor(salts, MIDNIGHT)
    visitor(salts, MIDNIGHT + DAY_MS)
    files = sorted((tmp_path / "salts").iterdir())
    assert [path.name for path in files] == ["2026-03-10.salt", "2026-03-11.salt"]
    for path in files:
        content = path.read_bytes()
        assert len(content) == 32
        assert ADDRESS.encode() not in content and b"Chrome" not in content
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert files[0].read_bytes() != files[1].read_bytes()


def test_a_damaged_salt_file_is_a_named_error(tmp_path):
    (tmp_path / "salts").mkdir()
    (tmp_path / "salts" / "2026-03-10.salt").write_bytes(b"short")
    with pytest.raises(SaltFileError, match="2026-03-10.salt"):
        Salts(tmp_path).for_time(MIDNIGHT)


def make_days(salts: Salts, first: int, last: int) -> None:
    for day in range(first, last + 1):
        salts.for_time(MIDNIGHT + day * DAY_MS)


def names(tmp_path) -> list[str]:
    return sorted(path.name for path in (tmp_path / "salts").iterdir())


def test_prune_deletes_salts_two_days_after_their_day_ends(tmp_path):
    salts = Salts(tmp_path)
    make_days(salts, -4, 0)
    assert salts.prune(MIDNIGHT + DAY_MS - 1) == 2
    assert names(tmp_path) == ["2026-03-08.salt", "2026-03-09.salt", "2026-03-10.salt"]
    assert salts.prune(MIDNIGHT + DAY_MS) == 1  # 2026-03-08 ended two days ago
    assert names(tmp_path) == ["2026-03-09.salt", "2026-03-10.salt"]


def test_prune_forgets_pruned_salts_in_memory_too(tmp_path):
    salts = Salts(tmp_path)
    old = salts.for_time(MIDNIGHT - 3 * DAY_MS)
    salts.prune(MIDNIGHT)
    assert salts.for_time(MIDNIGHT - 3 * DAY_MS) != old


def test_prune_removes_drafts_left_by_a_crash_and_keeps_other_files(tmp_path):
    directory = tmp_path / "salts"
    directory.mkdir()
    (directory / ".2026-03-01.4242.abcd1234.tmp").write_bytes(bytes(32))
    (directory / "notes.txt").write_text("kept")
    assert Salts(tmp_path).prune(MIDNIGHT) == 1
    assert names(tmp_path) == ["notes.txt"]


def test_prune_without_a_salts_directory_does_nothing(tmp_path):
    assert Salts(tmp_path).prune(MIDNIGHT) == 0


def test_new_session_ids_are_anon_random_hex():
    ids = {new_session_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(re.fullmatch(r"anon:[0-9a-f]{32}", session_id) for session_id in ids)
