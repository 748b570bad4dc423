"""Deleting a site: 202 at once, "deleting" until its movements, sessions, visits, rollups,
archives, log rows, keys and shares are gone; the other sites never notice, and a restart in
the middle finishes the job."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path

import pytest

from helpers import (
    DAY,
    HOUR,
    add_site,
    connect,
    metric_samples,
    movement,
    now_ms,
    wait_until,
)

SHARDS = 4
SHOP = 1  # the number of the first site added: its files are in sites/1/


def log_rows_of(data_dir: Path, site: int) -> int:
    with connect(data_dir / "log.sqlite", read_only=True) as log:
        [[count]] = log.execute("SELECT count(*) FROM log WHERE shard >= ? AND shard < ?",
                                (site * SHARDS, (site + 1) * SHARDS)).fetchall()
    return count


def archive_files(site_dir: Path) -> list[Path]:
    return sorted((site_dir / "archive").rglob("*.ndjson.gz"))


def visit(user: str, site: str, at: int) -> list[dict]:
    return [movement(user, f"{user}-s", "page_view", site=site, timestamp=at, eventId=uuid.uuid4().hex,
                     data={"path": "/", "host": f"{site}.example"}),
            movement(user, f"{user}-s", "signup", site=site, timestamp=at + 60_000,
                     eventId=uuid.uuid4().hex, data={"plan": "pro"})]


def default_answers(client, now: int) -> list[object]:
    window = {"from": now - 7 * DAY, "to": now, "site": "default"}
    return [client.get("/analytics", params=window).json(),
            client.get("/stats", params=window).json(),
            client.get("/breakdown", params={**window, "by": "page"}).json(),
            client.get("/retention", params={**window, "period": "day"}).json(),
            client.get("/movements", params={"userId": "u1", "site": "default"}).json(),
            client.get("/users/u1/export", params={"site": "default"}).text]


@pytest.fixture
def archived(make_client, data_dir, now):
    """Two sites with the same users, each with archived movements (5 days old) and recent
    ones; the shop with a key and a share."""
    client = make_client(TRACKER_RETENTION_DAYS="2")
    add_site(client, "shop", "shop.example")
    for site in ("default", "shop"):
        events = [m for n in range(6) for m in visit(f"u{n}", site, now - 5 * DAY + n * HOUR)]
        events += [m for n in range(3) for m in visit(f"u{n}", site, now - HOUR + n)]
        assert client.post("/track", json={"events": events}).status_code == 200
    assert client.portal.call(client.app.state.jobs.run, "archive_movements") == 24
    assert archive_files(data_dir) and archive_files(data_dir / "sites" / str(SHOP))
    return client


def test_deleting_a_site_removes_everything_of_it_and_nothing_else(archived, data_dir, now):
    client = archived
    key = client.post("/sites/shop/keys").json()["key"]
    share = client.post("/sites/shop/shares").json()["url"].removeprefix("http://testserver")
    before = default_answers(client, now)
    default_archives = archive_files(data_dir)
    client.post("/track", json={"events": visit("late", "shop", now - 1000)})  # maybe unfolded
    assert log_rows_of(data_dir, SHOP) > 0

    deleted = client.delete("/sites/shop")
    assert deleted.status_code == 202
    assert (deleted.json()["id"], deleted.json()["status"]) == ("shop", "deleting")
    wait_until(lambda: client.get("/sites/shop").status_code == 404)

    assert not (data_dir / "sites" / str(SHOP)).exists()
    assert log_rows_of(data_dir, SHOP) == 0
    assert [s["id"] for s in client.get("/sites").json()["sites"]] == ["default"]
    assert client.get("/stats", headers={"Authorization": f"Bearer {key}"}).status_code == 401
    assert client.get(f"{share}/stats").status_code == 404
    assert client.get("/analytics", params={"site": "shop"}).status_code == 404
    assert default_answers(client, now) == before
    assert archive_files(data_dir) == default_archives
    samples = metric_samples(client.get("/metrics").text)
    assert samples[("tracker_sites",)] == 1
    assert sum(v for k, v in samples.items() if k[0] == "tracker_unfolded_events") == 0


def test_the_registry_forgets_the_site_its_domains_keys_and_shares(archived, data_dir):
    client = archived
    client.post("/sites/shop/keys")
    share = client.post("/sites/shop/shares", json={"password": "pw"}).json()
    token = share["url"].rsplit("/", 1)[1]
    client.post(f"/share/{token}/auth", json={"password": "wrong"}, headers={"Authorization": ""})
    assert client.delete("/sites/shop").status_code == 202
    wait_until(lambda: client.get("/sites/shop").status_code == 404)
    with connect(data_dir / "sites.sqlite", read_only=True) as registry:
        left = {table: registry.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
                for table in ("sites", "site_domains", "site_keys", "shares", "share_failures")}
    assert left == {"sites": 1, "site_domains": 0, "site_keys": 0, "shares": 0, "share_failures": 0}
    assert add_site(client, "other", "shop.example")["domains"] == ["shop.example"]


def test_ingest_and_reads_of_other_sites_go_on_while_a_site_is_deleted(tracker_server, now):
    server = tracker_server(workers=2)
    acknowledged, failures, stop = [], [], threading.Event()

    def post_and_read() -> None:
        with server.client() as client:
            while not stop.is_set():
                events = visit(f"w{len(acknowledged)}", "default", now_ms() - 120_000)
                posted = client.post("/track", json={"events": events})
                read = client.get("/stats", params={"site": "default"})
                if posted.status_code == 200:
                    acknowledged.extend(events)
                else:
                    failures.append(posted.text)
                if read.status_code != 200:
                    failures.append(read.text)

    with server.client() as admin:
        add_site(admin, "big", "big.example")
        for batch in range(20):
            events = [m for n in range(250) for m in visit(f"b{batch}-{n}", "big", now - HOUR)]
            assert admin.post("/track", json={"events": events}).status_code == 200
        assert admin.get("/analytics", params={"site": "big"}).json()["totals"]["movements"] == 10_000
        worker = threading.Thread(target=post_and_read)
        worker.start()
        try:
            wait_until(lambda: len(acknowledged) >= 20)
            assert admin.delete("/sites/big").status_code == 202
            wait_until(lambda: admin.get("/sites/big").status_code == 404)
            settled = len(acknowledged)
            wait_until(lambda: len(acknowledged) >= settled + 20)
        finally:
            stop.set()
            worker.join(30)
        assert failures == []
        counted = admin.get("/analytics", params={"timeRange": "1h"}).json()["totals"]["movements"]
        assert counted == len(acknowledged)


def test_a_deletion_cut_short_by_kill_9_finishes_after_a_restart(tracker_server, data_dir, now):
    settings = {"TRACKER_RETENTION_DAYS": "2", "TRACKER_ALARM_INTERVAL_SECONDS": "1"}
    server = tracker_server(**settings)
    shop_dir = data_dir / "sites" / str(SHOP)
    with server.client() as client:
        add_site(client, "shop", "shop.example")
        for site in ("default", "shop"):
            events = [m for n in range(5) for m in visit(f"u{n}", site, now - 5 * DAY + n)]
            assert client.post("/track", json={"events": events}).status_code == 200
        wait_until(lambda: archive_files(shop_dir) and archive_files(data_dir))
        before = default_answers(client, now)
        # The deletion deletes the site's log rows first: while the log's write lock is held
        # here, it can go no further.
        with connect(data_dir / "log.sqlite") as log:
            log.execute("BEGIN IMMEDIATE")
            assert client.delete("/sites/shop").status_code == 202
            assert client.get("/sites/shop").json()["status"] == "deleting"
            server.kill()
            log.execute("ROLLBACK")
    assert archive_files(shop_dir) and log_rows_of(data_dir, SHOP) > 0  # cut short indeed

    again = tracker_server(**settings)
    with again.client() as client:
        wait_until(lambda: client.get("/sites/shop").status_code == 404)
        assert not shop_dir.exists() and log_rows_of(data_dir, SHOP) == 0
        assert [s["id"] for s in client.get("/sites").json()["sites"]] == ["default"]
        assert default_answers(client, now) == before
        assert archive_files(data_dir)
