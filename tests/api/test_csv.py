"""Reports as CSV (`format=csv`, `Accept: text/csv`) and a site's export as a zip of CSV reports."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest

from helpers import DAY, HOUR, MINUTE

PATHS = ["/", "=HYPERLINK(\"http://evil\")", "+1", "-2", "@me", "\tTab", "\rReturn", "/blog/ü",
         'say "hi", ok'] + [f"/p{i}" for i in range(12)]


@pytest.fixture
def filled(client, now):
    events = []
    for i, path in enumerate(PATHS):
        at = now - 2 * HOUR + i * MINUTE
        events += [{"userId": f"u{i}", "sessionId": "s", "event": "page_view", "timestamp": at,
                    "data": {"path": path, "referrer": "https://www.google.com/"}},
                   {"userId": f"u{i}", "sessionId": "s", "event": "purchase", "timestamp": at + 1,
                    "revenue": {"amount": "9.99", "currency": "EUR"}}]
    assert client.post("/track", json={"events": events}).status_code == 200
    assert client.post("/sites/default/goals", json={"event": "purchase"}).status_code == 201
    return {"from": now - DAY, "to": now}


def table(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def as_csv(client, path: str, params: dict, accept: bool = False):
    if accept:
        answer = client.get(path, params=params, headers={"Accept": "text/csv"})
    else:
        answer = client.get(path, params={**params, "format": "csv"})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    return table(answer.content.decode("utf-8"))


@pytest.mark.parametrize("accept", [False, True], ids=["format", "accept"])
def test_a_breakdown_as_csv_holds_the_json_rows_with_formulas_quoted(client, filled, accept):
    params = {**filled, "by": "page", "limit": 100}
    rows = as_csv(client, "/breakdown", params, accept)
    assert rows[0] == ["value", "visitors", "visits", "pageviews"]
    expected = client.get("/breakdown", params=params).json()["results"]
    assert len(rows) == len(expected) + 1 == len(PATHS) + 1
    quoted = {row[0] for row in rows[1:]}
    for path in PATHS:
        assert ("'" + path if path[0] in "=+-@\t\r" else path) in quoted
    assert [[r["value"] if r["value"][0] not in "=+-@\t\r" else "'" + r["value"], str(r["visitors"]),
             str(r["visits"]), str(r["pageviews"])] for r in expected] == rows[1:]


def test_stats_as_csv_is_its_series(client, filled):
    rows = as_csv(client, "/stats", filled)
    series = client.get("/stats", params=filled).json()["series"]
    assert rows[0] == ["t", "visitors", "visits", "pageviews"]
    assert rows[1:] == [[str(p["t"]), str(p["visitors"]), str(p["visits"]), str(p["pageviews"])]
                        for p in series]


def test_goal_rows_as_csv_flatten_revenue(client, filled):
    rows = as_csv(client, "/breakdown", {**filled, "by": "goal"})
    assert rows == [["value", "visitors", "events", "conversionRate", "revenue.EUR.total",
                     "revenue.EUR.average"],
                    ["purchase", str(len(PATHS)), str(len(PATHS)), "1.0",
                     f"{9.99 * len(PATHS):.2f}", "9.99"]]


@pytest.mark.parametrize("path, params, header", [
    ("/analytics", {}, ["t", "movements", "pageViews"]),
    ("/funnels", {"step": ["page_view", "purchase"]}, ["step", "count", "conversion", "dropOff"]),
    ("/retention", {"period": "day", "timeRange": "7d"}, ["t", "users", "returned.0"]),
])
def test_every_report_answers_csv(client, filled, path, params, header):
    rows = as_csv(client, path, {**({} if "timeRange" in params else filled), **params})
    assert rows[0][:len(header)] == header and len(rows) > 1


def test_an_unknown_format_is_422(client, filled):
    answer = client.get("/stats", params={**filled, "format": "xml"})
    assert answer.status_code == 422 and "format" in answer.json()["detail"]


def test_errors_stay_json_under_accept_csv(client):
    answer = client.get("/stats", params={"tz": "Mars/Olympus"}, headers={"Accept": "text/csv"})
    assert answer.status_code == 422 and answer.json()["error"] == "invalid_field"


def read_zip(answer) -> dict[str, list[list[str]]]:
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(answer.content)) as archive:
        return {name: table(archive.read(name).decode("utf-8")) for name in archive.namelist()}


def test_the_export_holds_every_report_complete(client, filled):
    files = read_zip(client.get("/sites/default/export", params=filled))
    assert set(files) == {
        "visitors.csv", "sources.csv", "channels.csv", "referrers.csv", "utm_sources.csv",
        "utm_mediums.csv", "utm_campaigns.csv", "utm_terms.csv", "utm_contents.csv", "pages.csv",
        "entry_pages.csv", "exit_pages.csv", "countries.csv", "regions.csv", "cities.csv",
        "devices.csv", "browsers.csv", "operating_systems.csv", "events.csv", "goals.csv"}
    pages = client.get("/breakdown", params={**filled, "by": "page", "limit": 1000}).json()["results"]
    assert len(files["pages.csv"]) - 1 == len(pages) == len(PATHS) > 10
    assert files["entry_pages.csv"][1:] == as_csv(client, "/breakdown", {**filled, "by": "entryPage",
                                                                          "limit": 1000})[1:]
    days = files["visitors.csv"]
    assert days[0] == ["date", "t", "visitors", "visits", "pageviews"]
    totals = client.get("/stats", params=filled).json()["totals"]
    assert sum(int(row[3]) for row in days[1:]) == totals["visits"]
    assert sum(int(row[4]) for row in days[1:]) == totals["pageviews"]
    assert files["goals.csv"][1][:3] == ["purchase", str(len(PATHS)), str(len(PATHS))]
    assert [row[:2] for row in files["utm_terms.csv"]] == [["value", "visitors"], ["", str(len(PATHS))]]


def test_an_empty_window_exports_headers(client, filled, now):
    files = read_zip(client.get("/sites/default/export", params={"from": now - 9 * DAY,
                                                                  "to": now - 8 * DAY}))
    assert files["countries.csv"] == [["value", "visitors", "visits", "pageviews", "bounceRate",
                                       "visitDuration"]]
    assert files["events.csv"] == [["value", "visitors", "visits", "events"]]
    assert files["goals.csv"] == [["value", "visitors", "events", "conversionRate"],
                                  ["purchase", "0", "0", "0.0"]]


def test_the_export_takes_a_time_range_and_a_site_key_of_its_site(client, filled):
    key = client.post("/sites/default/keys").json()["key"]
    answer = client.get("/sites/default/export", params={"timeRange": "7d"},
                        headers={"Authorization": f"Bearer {key}"})
    assert "pages.csv" in read_zip(answer)


@pytest.mark.parametrize("params, status", [({"from": 5}, 422), ({"timeRange": "2y"}, 422),
                                            ({"tz": "Nowhere/Else"}, 422)])
def test_a_bad_export_window_is_a_422(client, params, status):
    answer = client.get("/sites/default/export", params=params)
    assert answer.status_code == status and answer.json()["error"] == "invalid_field"


def test_the_export_needs_a_credential_of_the_site(client):
    assert client.get("/sites/default/export", headers={"Authorization": "Bearer no"}).status_code == 401
    assert client.get("/sites/elsewhere/export").status_code == 404
