"""`tracker sites`, `tracker keys` and `tracker shares`: on a stopped data directory, and beside a
running service, which sees what they do at once."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import httpx2 as httpx
import pytest

from helpers import movement, service_env, wait_until


def tracker(data_dir: Path, *args: str, **settings: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tracker", *args],
                          env={**os.environ, **service_env(data_dir, **settings)},
                          capture_output=True, text=True, timeout=120)


def listed(data_dir: Path) -> list[list[str]]:
    done = tracker(data_dir, "sites", "list")
    assert done.returncode == 0, done.stderr
    return [line.split("\t") for line in done.stdout.splitlines()]


def test_add_list_and_remove_on_a_stopped_data_directory(data_dir):
    assert listed(data_dir) == [["default", "-", "UTC", "live"]]
    added = tracker(data_dir, "sites", "add", "shop.example", "--domain", "shop.example",
                    "--domain", "WWW.Shop.Example", "--timezone", "Europe/Paris", "--name", "Shop")
    assert added.returncode == 0, added.stderr
    umami = re.fullmatch(r"added site shop\.example \(shop\.example, www\.shop\.example, "
                         r"Europe/Paris\); Umami website id (\S+)\n", added.stdout)
    assert umami and uuid.UUID(umami.group(1))
    assert listed(data_dir) == [["default", "-", "UTC", "live"],
                                ["shop.example", "shop.example,www.shop.example", "Europe/Paris",
                                 "live"]]
    assert (data_dir / "sites" / "1" / "shard-0003.sqlite").exists()
    removed = tracker(data_dir, "sites", "remove", "shop.example")
    assert removed.returncode == 0 and "deleted in the background" in removed.stdout
    assert listed(data_dir)[1][3] == "deleting"


@pytest.mark.parametrize("args, message", [
    (["sites", "add", "default"], "a site with id `default` exists"),
    (["sites", "add", "Shop"], "is not a site id"),
    (["sites", "add", "shop", "--timezone", "Mars/Olympus"], "not an IANA time zone name"),
    (["sites", "add", "shop", "--domain", "blog.example"], "belongs to another site"),
    (["sites", "add", "shop", "--domain", "https://shop.example/"], "is not a host name"),
    (["sites", "add", "shop", "--domain", "shop.example:8080"], "is not a host name"),
    (["sites", "remove", "nope"], "no site `nope`"),
    (["sites", "remove", "default"], "always holds a site"),
    (["keys", "add", "nope"], "no site `nope`"),
    (["shares", "add", "nope"], "no site `nope`"),
])
def test_a_command_that_cannot_be_done_exits_2_saying_why_and_changes_nothing(data_dir, args,
                                                                               message):
    assert tracker(data_dir, "sites", "add", "blog", "--domain", "blog.example").returncode == 0
    if args[:3] == ["sites", "remove", "default"]:
        assert tracker(data_dir, "sites", "remove", "blog").returncode == 0
    before = listed(data_dir)
    done = tracker(data_dir, *args)
    assert done.returncode == 2 and message in done.stderr, done.stderr
    assert done.stderr.startswith("tracker: ") and done.stdout == ""
    assert listed(data_dir) == before


def test_a_running_service_sees_sites_keys_and_shares_made_beside_it(tracker_server, data_dir):
    server = tracker_server(workers=2, TRACKER_ALARM_INTERVAL_SECONDS="1")
    assert tracker(data_dir, "sites", "add", "shop", "--domain", "shop.example").returncode == 0
    with server.client() as admin:
        posted = admin.post("/track", json=movement("u1", data={"host": "shop.example"}))
        assert posted.status_code == 200
        assert admin.get("/analytics", params={"site": "shop"}).json()["totals"]["users"] == 1

        made = tracker(data_dir, "keys", "add", "shop")
        key = re.fullmatch(r"key \w+ for site shop \(shown once, keep it\): (tk_\S+)\n", made.stdout)
        assert key, made.stdout
        read = httpx.get(f"{server.url}/movements", params={"userId": "u1"},
                         headers={"Authorization": f"Bearer {key.group(1)}"})
        assert read.status_code == 200 and len(read.json()["movements"]) == 1

        shared = tracker(data_dir, "shares", "add", "shop", "--password", "pw", "--url", server.url)
        link = re.fullmatch(r"share link for site shop \(shown once\): (\S+)\n", shared.stdout)
        assert link and link.group(1).startswith(f"{server.url}/share/"), shared.stdout
        with httpx.Client() as browser:
            assert browser.get(f"{link.group(1)}/stats").status_code == 401
            assert browser.post(f"{link.group(1)}/auth", json={"password": "pw"}).status_code == 204
            assert browser.get(f"{link.group(1)}/stats").json()["totals"]["visitors"] == 1

        assert tracker(data_dir, "sites", "remove", "shop").returncode == 0
        assert admin.get("/analytics", params={"site": "shop"}).status_code == 404
        wait_until(lambda: admin.get("/sites/shop").status_code == 404)
        assert not (data_dir / "sites" / "1").exists()
        assert [row[0] for row in listed(data_dir)] == ["default"]


def test_a_share_link_names_the_configured_address_by_default(data_dir):
    done = tracker(data_dir, "shares", "add", "default", TRACKER_HOST="0.0.0.0", TRACKER_PORT="9100")
    assert done.returncode == 0
    assert re.search(r": http://0\.0\.0\.0:9100/share/[\w-]{40,}$", done.stdout.strip())
