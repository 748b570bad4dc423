"""`make demo`: the made-up month goes through the real service and shows in every answer."""

from __future__ import annotations

import importlib.util
import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx2 as httpx
import pytest

from helpers import DAY, free_port, now_ms, run_cli

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"


def load_script(name: str):
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


demo = load_script("demo")
demo_traffic = sys.modules["demo_traffic"]

PRODUCT, BLOG = demo_traffic.PRODUCT, demo_traffic.BLOG
SITES = (PRODUCT, BLOG)
FUNNELS = {PRODUCT: ["page:/", "page:/pricing", "signup", "purchase"],
           BLOG: ["page_view", "page:/subscribe", "subscribe"]}


@pytest.fixture(scope="module")
def demo_service(tmp_path_factory):
    """A tiny demo data set, filled once through the real service, then served for reading."""
    data_dir = tmp_path_factory.mktemp("demo") / "data"
    data_set = demo.ensure_filled(data_dir, scale=0.15)
    with demo.Service(data_dir) as service:
        yield service, data_set


@pytest.fixture(scope="module")
def client(demo_service):
    service, _ = demo_service
    token = demo.read_token(service.data_dir)
    with httpx.Client(base_url=service.url, headers={"Authorization": f"Bearer {token}"},
                      timeout=30) as client:
        yield client


@pytest.fixture(scope="module", params=SITES)
def site(request) -> str:
    return request.param


@pytest.fixture(scope="module")
def get(client, site):
    """A read of one site over the month."""
    def answer(path: str, **params) -> dict:
        response = client.get(path, params={"timeRange": "30d", "site": site, **params})
        assert response.status_code == 200, response.text
        return response.json()

    return answer


def values(get, by: str) -> dict:
    return {row["value"]: row["visitors"] for row in get("/breakdown", by=by, limit=100)["results"]}


def test_the_sites_are_set_up_with_their_domains_and_zones(client):
    found = {s["id"]: s for s in client.get("/sites").json()["sites"]}
    assert list(found) == [PRODUCT, BLOG]
    for site_id, setup in demo_traffic.SITES.items():
        assert {key: found[site_id][key] for key in setup} == setup
        assert found[site_id]["status"] == "live"


def test_every_movement_made_is_stored_on_its_site(get, demo_service, site):
    _, data_set = demo_service
    assert get("/analytics")["totals"]["movements"] == data_set.sites[site]["movements"]
    assert get("/stats")["totals"]["visits"] == data_set.sites[site]["visits"]


def test_anonymous_and_identified_visitors(get, demo_service, site):
    _, data_set = demo_service
    made = data_set.sites[site]
    assert 0 < made["identified"] < made["visitors"]
    # Anonymous visitors each have their own address and User-Agent, so each is one id.
    assert get("/stats")["totals"]["visitors"] == made["visitors"]
    someone = {PRODUCT: "user-101", BLOG: "reader-1"}[site]
    assert get("/movements", userId=someone)["movements"]


def test_the_sites_have_their_own_pages_and_hosts(get, site):
    titles = {PRODUCT: demo_traffic.TITLES, BLOG: demo_traffic.READER_TITLES}[site]
    pages = values(get, "page")
    assert set(pages) <= set(titles) and len(pages) >= 5
    subscribed = get("/breakdown", by="prop:list", event="subscribe")["results"]
    assert [row["value"] for row in subscribed] == ([] if site == PRODUCT else ["weekly-notes"])


def test_countries_come_from_the_made_up_addresses(get, site):
    countries = values(get, "country")
    assert None not in countries
    assert set(countries) <= set(demo_traffic.COUNTRIES) and len(countries) >= 8
    busiest = max(countries, key=countries.get)
    assert busiest == {PRODUCT: "US", BLOG: "DE"}[site]


def test_sources_channels_and_campaigns(get, site):
    sources, channels = set(values(get, "source")), set(values(get, "channel"))
    campaigns = set(values(get, "utmCampaign"))
    if site == PRODUCT:
        assert {"Direct", "Google", "newsletter"} <= sources
        assert {"Direct", "Organic Search", "Organic Social", "Email", "Paid Search",
                "Referral"} <= channels
        assert {"monthly-digest", "brand-search", "launch-week"} <= campaigns
    else:
        assert {"Hacker News", "Reddit", "newsletter", "Direct"} <= sources
        assert {"Direct", "Organic Social", "Email", "Referral"} <= channels
        assert campaigns == {"weekly-notes", None} and "Paid Search" not in channels


def test_devices_browsers_and_systems(get):
    assert set(values(get, "device")) == {"desktop", "mobile", "tablet"}
    assert {"Chrome", "Firefox", "Safari", "Edge", "Mobile Safari"} <= set(values(get, "browser"))
    assert {"Windows", "Mac OS X", "iOS", "Android"} <= set(values(get, "os"))


def test_each_funnel_converts_with_a_drop_off_at_each_step(get, site):
    counts = [step["count"] for step in get("/funnels", step=FUNNELS[site])["steps"]]
    assert counts[-1] > 0
    assert counts == sorted(counts, reverse=True) and len(set(counts)) == len(counts)


def test_users_come_back_on_later_days(get):
    cohorts = get("/retention", period="week")["cohorts"]
    assert any(len(c["returned"]) > 1 and c["returned"][1] > 0 for c in cohorts)


def test_the_demo_prints_a_link_to_each_site():
    lines = demo.welcome("http://127.0.0.1:8000", "t0k3n")
    assert lines[0] == "Dashboard: http://127.0.0.1:8000/  token: t0k3n"
    for site in SITES:
        assert any(f"/?site={site}&range=30d" in line for line in lines)
        assert any(f"/?site={site}&view=funnels" in line for line in lines)
    assert lines[-1].endswith(f"tracker reports preview {PRODUCT} --data-dir demo-data")


def test_each_site_has_its_goals_and_the_product_a_subscriber(client):
    for site, goals in demo_traffic.GOALS.items():
        found = client.get(f"/sites/{site}/goals").json()["goals"]
        assert [goal["name"] for goal in found] == [goal["name"] for goal in goals]
    [report] = client.get(f"/sites/{PRODUCT}/reports").json()["reports"]
    assert (report["email"], report["every"]) == (demo_traffic.REPORT_TO, "week")


def test_goals_convert_and_purchases_bring_revenue_in_two_currencies(client):
    rows = client.get("/breakdown", params={"site": PRODUCT, "by": "goal", "timeRange": "30d"})
    by_name = {row["value"]: row for row in rows.json()["results"]}
    assert all(by_name[name]["visitors"] > 0 for name in ("Sign up", "Purchase", "Read the docs"))
    assert set(by_name["Purchase"]["revenue"]) == {"EUR", "USD"}
    for figures in by_name["Purchase"]["revenue"].values():  # plans cost 9, 29 or 99
        assert re.fullmatch(r"[1-9]\d*\.00", figures["total"])
        assert 9 <= float(figures["average"]) <= 99


def test_the_report_preview_prints_the_weeks_mail_from_the_demo_data(demo_service):
    service, _ = demo_service
    # as the demo's last line says, --data-dir after the action
    shown = run_cli("reports", "preview", PRODUCT, "--data-dir", str(service.data_dir), env={})
    assert shown.returncode == 0, shown.stderr
    text = shown.stdout
    assert text.startswith("Example: the week of ")
    visitors = int(re.search(r"^Visitors:\s+([\d,]+)", text, re.M).group(1).replace(",", ""))
    assert visitors > 0
    sources = text.split("Top sources\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert len(sources) == 5 and all(line.endswith(" visitors") for line in sources)


def test_a_port_left_in_time_wait_is_free_for_the_next_demo():
    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port)) as visitor:
            accepted, _ = listener.accept()
            accepted.close()  # the server's side closes first, as a stopped service's does
            visitor.recv(1)
    with socket.socket() as plain, pytest.raises(OSError):
        plain.bind(("127.0.0.1", port))  # TIME-WAIT holds it against a bind without reuse
    assert demo.port_is_free(port)


def test_the_demo_prints_its_address_once_it_answers_and_starts_again_after_ctrl_c(demo_service):
    service, _ = demo_service
    port = free_port()
    for _ in range(2):
        started = subprocess.Popen(
            [sys.executable, str(SCRIPTS / "demo.py"), "--data-dir", str(service.data_dir),
             "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
            start_new_session=True)
        try:
            first = started.stdout.readline()
            assert first.startswith(f"Dashboard: http://127.0.0.1:{port}/"), first
            with httpx.Client(timeout=5) as probe:  # answered at once, no retry
                assert probe.get(f"http://127.0.0.1:{port}/healthz").status_code == 200
            os.killpg(started.pid, signal.SIGINT)  # Ctrl-C reaches the whole group
            assert started.wait(60) == 0
        finally:
            if started.poll() is None:
                os.killpg(started.pid, signal.SIGKILL)
            started.stdout.close()


def test_a_filled_directory_is_not_filled_again(demo_service):
    service, data_set = demo_service
    assert demo.ensure_filled(service.data_dir, scale=5) == data_set


def test_a_directory_holding_something_else_is_refused(tmp_path):
    (tmp_path / "shard-0000.sqlite").touch()
    with pytest.raises(demo.DemoError, match="other than the demo data set"):
        demo.ensure_filled(tmp_path, scale=0.1)


def test_a_directory_filled_by_the_one_site_demo_is_named_as_such(tmp_path):
    (tmp_path / demo.MARKER).write_text('{"seed": 17, "scale": 1.0, "visitors": 1, "identified": 0, '
                                        '"visits": 1, "movements": 1, "filled_at": 0, "seconds": 1}')
    with pytest.raises(demo.DemoError, match="older demo"):
        demo.ensure_filled(tmp_path, scale=0.1)


def test_the_month_is_reproducible_and_within_what_the_service_takes():
    now = now_ms()
    month = demo_traffic.month(now, scale=0.05, seed=3)
    assert month == demo_traffic.month(now, scale=0.05, seed=3)
    assert list(month) == list(SITES)
    for site, visitors in month.items():
        visits = [visit for visits in visitors for visit in visits]
        events = [event for visit in visits for event in visit.events]
        assert {event["site"] for event in events} == {site}
        stamps = [event["timestamp"] for event in events]
        assert now - 29 * DAY < min(stamps) and max(stamps) < now
        assert all(1 <= len(visit.events) <= 500 for visit in visits)
        anonymous = [(visits[0].address, visits[0].user_agent) for visits in visitors
                     if "userId" not in visits[0].events[0]]
        assert len(set(anonymous)) == len(anonymous) > 0  # one visitor id each
