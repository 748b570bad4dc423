"""Revenue on movements: rounded to the currency's minor units, stored with the movement, and
carried by /movements, a user's export and the archives; every bad one is a 422 naming it."""

from __future__ import annotations

import json

import pytest
from lifecycle.test_archiving import aging, archived_lines, run_archiving

from helpers import DAY, movement, now_ms


def track(client, **fields):
    return client.post("/track", json=movement(event="purchase", **fields))


def listed(client) -> list[dict]:
    answer = client.get("/movements", params={"userId": "u1"})
    assert answer.status_code == 200, answer.text
    return answer.json()["movements"]


@pytest.mark.parametrize("amount, currency, stored", [
    ("19.90", "EUR", "19.90"), (19.9, "EUR", "19.90"), (20.205, "USD", "20.20"),
    ("20.215", "USD", "20.22"), ("0.125", "EUR", "0.12"), (1500.5, "JPY", "1500"),
    (1501.5, "JPY", "1502"), ("1.23456", "BHD", "1.235"), (7, "CHF", "7.00"), ("-3.5", "EUR", "-3.50"),
    ("1E+3", "USD", "1000.00"), ("-0.001", "EUR", "0.00")])
def test_an_amount_is_rounded_half_even_to_the_currencys_minor_units(client, amount, currency, stored):
    answer = track(client, revenue={"amount": amount, "currency": currency})
    assert answer.status_code == 200, answer.text
    assert listed(client)[0]["revenue"] == {"amount": stored, "currency": currency}


def test_a_movement_without_revenue_lists_none(client):
    assert track(client).status_code == 200
    assert "revenue" not in listed(client)[0]


@pytest.mark.parametrize("revenue, field", [
    ({"amount": "19.90", "currency": "eur"}, "currency"),
    ({"amount": "19.90", "currency": "ZZZ"}, "currency"),
    ({"amount": "19.90", "currency": "XAU"}, "currency"),
    ({"amount": "19.90", "currency": "EURO"}, "currency"),
    ({"amount": "lots", "currency": "EUR"}, "amount"),
    ({"amount": "NaN", "currency": "EUR"}, "amount"),
    ({"amount": "Infinity", "currency": "EUR"}, "amount"),
    ({"amount": "1e30", "currency": "EUR"}, "amount"),
    ({"amount": True, "currency": "EUR"}, "amount"),
    ({"currency": "EUR"}, "amount"),
    ({"amount": "1"}, "currency"),
])
def test_a_bad_revenue_is_a_422_naming_the_field(client, revenue, field):
    answer = client.post("/track", json={"events": [movement(), movement(revenue=revenue)]})
    assert answer.status_code == 422, answer.text
    body = answer.json()
    assert body["error"] == "invalid_field"
    assert "$.events[1].revenue" in body["detail"] and field in body["detail"]
    assert listed(client) == []


def test_a_timestamp_in_seconds_is_a_422_saying_milliseconds(client):
    answer = track(client, timestamp=now_ms() // 1000)
    assert answer.status_code == 422
    assert "milliseconds" in answer.json()["detail"] and "$.timestamp" in answer.json()["detail"]
    far_past = track(client, timestamp=now_ms() - 40 * DAY)
    assert far_past.status_code == 422 and "30 days" in far_past.json()["detail"]


def test_the_export_and_the_archives_carry_revenue(make_client, data_dir):
    client = aging(make_client, TRACKER_RETENTION_DAYS="1")
    old = now_ms() - 5 * DAY
    assert track(client, timestamp=old, revenue={"amount": "5", "currency": "EUR"}).status_code == 200
    assert track(client, timestamp=old + 1).status_code == 200
    assert track(client, revenue={"amount": 300, "currency": "JPY"}).status_code == 200
    assert run_archiving(client) == 2
    archived = sorted(archived_lines(data_dir), key=lambda line: line["timestamp"])
    assert archived[0]["revenue"] == {"amount": "5.00", "currency": "EUR"}
    assert "revenue" not in archived[1]
    exported = [json.loads(line) for line in client.get("/users/u1/export").text.splitlines()]
    revenues = [line.get("revenue") for line in exported if line["type"] == "movement"]
    assert revenues == [{"amount": "300", "currency": "JPY"}, None,
                        {"amount": "5.00", "currency": "EUR"}]
