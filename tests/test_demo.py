"""`make demo`: the made-up month goes through the real service and shows in every answer."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import httpx2 as httpx
import pytest

from helpers import DAY, now_ms

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"


def load_script(name: str):
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


demo = load_script("demo")
demo_traffic = sys.modules["demo_traffic"]

FUNNEL = ["page:/", "page:/pricing", "signup", "purchase"]


@pytest.fixture(scope="module")
def demo_service(tmp_path_factory):
    """A tiny demo data set, filled once through the real service, then served for reading."""
    data_dir = tmp_path_factory.mktemp("demo") / "data"
    data_set = demo.ensure_filled(data_dir, scale=0.15)
    with demo.Service(data_dir) as service:
        yield service, data_set


@pytest.fixture(scope="module")
def get(demo_service):
    service, _ = demo_service
    token = demo.read_token(service.data_dir)
    with httpx.Client(base_url=service.url, headers={"Authorization": f"Bearer {token}"},
                      timeout=30) as client:
        def answer(path: str, **params) -> dict:
            response = client.get(path, params={"timeRange": "30d", **params})
            assert response.status_code == 200, response.text
            return response.json()

        yield answer


def values(get, by: str) -> dict:
    return {row["value"]: row["visitors"] for row in get("/breakdown", by=by, limit=100)["results"]}


def test_every_movement_made_is_stored(get, demo_service):
    _, data_set = demo_service
    assert get("/analytics")["totals"]["movements"] == data_set.movements
    assert get("/stats")["totals"]["visits"] == data_set.visits


def test_anonymous_and_identified_visitors(get, demo_service):
    _, data_set = demo_service
    assert 0 < data_set.identified < data_set.visitors
    # Anonymous visitors each have their own address and User-Agent, so each is one id.
    assert get("/stats")["totals"]["visitors"] == data_set.visitors
    assert get("/movements", userId="user-101")["movements"]


def test_countries_come_from_the_made_up_addresses(get):
    countries = values(get, "country")
    assert None not in countries
    assert set(countries) <= set(demo_traffic.COUNTRIES) and len(countries) >= 8


def test_sources_channels_and_campaigns(get):
    assert {"Direct", "Google", "newsletter"} <= set(values(get, "source"))
    assert {"Direct", "Organic Search", "Organic Social", "Email", "Paid Search",
            "Referral"} <= set(values(get, "channel"))
    assert {"monthly-digest", "brand-search", "launch-week"} <= set(values(get, "utmCampaign"))


def test_devices_browsers_and_systems(get):
    assert set(values(get, "device")) == {"desktop", "mobile", "tablet"}
    assert {"Chrome", "Firefox", "Safari", "Edge", "Mobile Safari"} <= set(values(get, "browser"))
    assert {"Windows", "Mac OS X", "iOS", "Android"} <= set(values(get, "os"))


def test_the_funnel_converts_with_a_drop_off_at_each_step(get):
    counts = [step["count"] for step in get("/funnels", step=FUNNEL)["steps"]]
    assert counts[-1] > 0
    assert counts == sorted(counts, reverse=True) and len(set(counts)) == len(counts)


def test_users_come_back_on_later_days(get):
    cohorts = get("/retention", period="week")["cohorts"]
    assert any(len(c["returned"]) > 1 and c["returned"][1] > 0 for c in cohorts)


def test_a_filled_directory_is_not_filled_again(demo_service):
    service, data_set = demo_service
    assert demo.ensure_filled(service.data_dir, scale=5) == data_set


def test_a_directory_holding_something_else_is_refused(tmp_path):
    (tmp_path / "shard-0000.sqlite").touch()
    with pytest.raises(demo.DemoError, match="other than the demo data set"):
        demo.ensure_filled(tmp_path, scale=0.1)


def test_the_month_is_reproducible_and_within_what_the_service_takes():
    now = now_ms()
    month = demo_traffic.month(now, scale=0.05, seed=3)
    assert month == demo_traffic.month(now, scale=0.05, seed=3)
    visits = [visit for visits in month for visit in visits]
    stamps = [event["timestamp"] for visit in visits for event in visit.events]
    assert now - 29 * DAY < min(stamps) and max(stamps) < now
    assert all(1 <= len(visit.events) <= 500 for visit in visits)
    anonymous = [(visits[0].address, visits[0].user_agent) for visits in month
                 if "userId" not in visits[0].events[0]]
    assert len(set(anonymous)) == len(anonymous) > 0  # one visitor id each
