"""Anonymous visitors: ids the service derives, the bot filter, and what is never stored."""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from helpers import DAY, MINUTE, connect, fold_all, metric_samples, movement
from tracker.api import track

DESKTOP = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
           "Chrome/124.0.0.0 Safari/537.36")
PHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
         "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1")
ADDRESS = "81.2.69.160"
PROXIED = {"TRACKER_TRUSTED_PROXIES": "127.0.0.1", "TRACKER_RATE_LIMIT": "0"}


@pytest.fixture
def proxied(make_client):
    return make_client(peer="127.0.0.1", **PROXIED)


def page_view(**fields) -> dict:
    return {"event": "page_view", "data": {"path": "/", "host": "example.com"}, **fields}


def post(client, body: dict, agent: str | None = DESKTOP, address: str = ADDRESS):
    if agent is None:  # a request without the header, not even the test client's own
        client.headers.pop("user-agent", None)
        return client.post("/track", json=body, headers={"X-Forwarded-For": address})
    return client.post("/track", json=body, headers={"X-Forwarded-For": address, "User-Agent": agent})


def stored_ids(data_dir: Path) -> list[tuple[str, str, int]]:
    """(userId, sessionId, timestamp) of every stored movement, in time order."""
    found = []
    for path in sorted(data_dir.glob("shard-*.sqlite")):
        with connect(path, read_only=True) as conn:
            found += conn.execute("SELECT userId, sessionId, timestamp FROM movements").fetchall()
    return sorted(found, key=lambda row: row[2])


def expected_visitor(data_dir: Path, day: int, address: str, agent: str) -> str:
    """The spec's id, computed here from the day's salt file: BLAKE2b keyed with the salt."""
    salt = (data_dir / "salts" / f"{day}.salt").read_bytes()
    message = len(address).to_bytes(4, "big") + address.encode() + agent.encode()
    return "anon:" + hashlib.blake2b(message, digest_size=8, key=salt).hexdigest()


def test_an_anonymous_event_gets_a_visitor_id_from_the_daily_salt(proxied, data_dir, now):
    answer = post(proxied, page_view(timestamp=now))
    assert answer.status_code == 200
    assert answer.json() == {"accepted": 1, "duplicates": 0, "ignored": 0}
    fold_all(proxied)
    [(user, session, _)] = stored_ids(data_dir)
    day = datetime.fromtimestamp(now // 1000, UTC).date().isoformat()
    assert user == expected_visitor(data_dir, day, ADDRESS, DESKTOP)
    assert session.startswith("anon:") and len(session) == len("anon:") + 32
    salt = data_dir / "salts" / f"{day}.salt"
    assert os.stat(salt).st_mode & 0o777 == 0o600


def test_ids_are_stable_within_a_day_and_differ_across_days(proxied, data_dir, monkeypatch, now):
    post(proxied, page_view(timestamp=now - 4 * MINUTE))
    post(proxied, page_view(timestamp=now - 3 * MINUTE))
    post(proxied, page_view(timestamp=now - 2 * MINUTE), agent=PHONE)
    post(proxied, page_view(timestamp=now - MINUTE), address="8.8.8.8")
    tomorrow = now + DAY
    monkeypatch.setattr(track, "now_ms", lambda: tomorrow)
    post(proxied, page_view(timestamp=tomorrow))
    fold_all(proxied)
    rows = stored_ids(data_dir)
    first, second = rows[0], rows[1]
    assert first[:2] == second[:2]  # same visitor, same session
    later_users = {row[0] for row in rows[2:]}
    assert len(later_users) == 3 and first[0] not in later_users
    assert len(list((data_dir / "salts").iterdir())) == 2


def test_a_visitor_idle_for_the_session_ttl_starts_a_new_session(make_client, data_dir, now):
    client = make_client(peer="127.0.0.1", TRACKER_SESSION_TTL_SECONDS="60", **PROXIED)
    client.portal.call(client.app.state.jobs.stop)  # no expiry pass between the posts
    start = now - 10 * MINUTE
    for offset in (0, 30_000, 89_000, 150_000, 151_000):
        assert post(client, page_view(timestamp=start + offset)).status_code == 200
    post(client, page_view(timestamp=start + 1_000))  # late: joins the current session
    fold_all(client)
    session_at = {t - start: session for _user, session, t in stored_ids(data_dir)}
    assert session_at[0] == session_at[30_000] == session_at[89_000]
    assert session_at[150_000] == session_at[151_000] == session_at[1_000] != session_at[0]
    assert len({user for user, _s, _t in stored_ids(data_dir)}) == 1


def test_no_address_or_user_agent_is_kept_in_any_file(proxied, data_dir, now):
    for i in range(20):
        post(proxied, page_view(timestamp=now - i, eventId=f"e{i}"))
    post(proxied, movement(user="u1", timestamp=now))
    assert proxied.get("/stats", params={"timeRange": "24h"}).json()["totals"]["visits"] == 2
    proxied.__exit__(None, None, None)
    files = [path for path in data_dir.rglob("*") if path.is_file()]
    assert any(path.name.startswith("shard-") for path in files)
    for path in files:
        content = path.read_bytes()
        for secret in (ADDRESS.encode(), ADDRESS.encode("utf-16-le"), b"Win64; x64"):
            assert secret not in content, f"{secret!r} found in {path}"


def test_the_bot_filter_drops_anonymous_events_only(proxied, data_dir, now):
    for agent in ("curl/8.5.0", "python-requests/2.32", "Googlebot/2.1 (+http://www.google.com/bot.html)",
                  DESKTOP.replace("Chrome/", "HeadlessChrome/"), None, "  "):
        answer = post(proxied, {"events": [page_view(timestamp=now), page_view(timestamp=now)]},
                      agent=agent)
        assert answer.json() == {"accepted": 2, "duplicates": 0, "ignored": 2}, agent
    answer = post(proxied, {"events": [page_view(timestamp=now), movement(user="u1", timestamp=now)]},
                  agent="curl/8.5.0")
    assert answer.json() == {"accepted": 2, "duplicates": 0, "ignored": 1}
    fold_all(proxied)
    assert [user for user, _s, _t in stored_ids(data_dir)] == ["u1"]
    samples = metric_samples(proxied.get("/metrics").text)
    assert samples[("tracker_events_ignored_total", ("reason", "bot"))] == 13
    assert samples[("tracker_events_ingested_total",)] == 1


def test_the_bot_filter_can_be_turned_off(make_client, data_dir, now):
    client = make_client(peer="127.0.0.1", TRACKER_BOT_FILTER="false", **PROXIED)
    answer = post(client, page_view(timestamp=now), agent="curl/8.5.0")
    assert answer.json() == {"accepted": 1, "duplicates": 0, "ignored": 0}
    fold_all(client)
    assert len(stored_ids(data_dir)) == 1


def test_a_retried_anonymous_event_is_stored_once(proxied, data_dir, now):
    event = page_view(timestamp=now, eventId="retry-me")
    assert post(proxied, event).json() == {"accepted": 1, "duplicates": 0, "ignored": 0}
    assert post(proxied, event).json() == {"accepted": 1, "duplicates": 1, "ignored": 0}
    fold_all(proxied)
    assert len(stored_ids(data_dir)) == 1


@pytest.mark.parametrize("body, field", [
    ({"userId": "u1", "event": "click"}, "$.sessionId"),
    ({"sessionId": "s1", "event": "click"}, "$.userId"),
    ({"userId": "anon:0123456789abcdef", "sessionId": "s1", "event": "click"}, "$.userId"),
    ({"userId": "u1", "sessionId": "anon:x", "event": "click"}, "$.sessionId"),
    ({"events": [{"event": "click"}, {"userId": "u1", "event": "click"}]}, "$.events[1].sessionId"),
])
def test_half_an_identity_or_a_service_id_is_refused(proxied, data_dir, body, field):
    answer = post(proxied, body)
    assert answer.status_code == 422
    assert answer.json()["error"] == "invalid_field"
    assert field in answer.json()["detail"]
    fold_all(proxied)
    assert stored_ids(data_dir) == []


def test_post_session_refuses_the_services_own_ids(client):
    answer = client.post("/session", json={"userId": "anon:abc", "sessionId": "s1"})
    assert answer.status_code == 422
    assert "$.userId" in answer.json()["detail"]
    assert client.post("/session", json={"sessionId": "s1"}).status_code == 422


def test_old_salts_are_deleted_by_the_prune_job(proxied, data_dir, now):
    post(proxied, page_view(timestamp=now))
    salts = data_dir / "salts"
    (salts / "2020-01-01.salt").write_bytes(b"x" * 32)
    assert proxied.portal.call(proxied.app.state.jobs.run, "prune_salts") == 1
    assert [path.name.endswith(".salt") for path in salts.iterdir()] == [True]
    assert not (salts / "2020-01-01.salt").exists()
