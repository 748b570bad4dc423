"""A brute-force count of goals, conversions and revenue, from the plain list of movements.

Shares no code with the service: visits, dimensions and the other filters
are web_reference's, and the rules below are the contract's, written out
the slow way.

- A completion of a goal is a movement in the window of its event, or a
  `page_view` whose `data.path` (a string) matches its page pattern whole,
  `*` matching any run of characters (`match_page`, a plain recursive
  matcher).
- `filter=goal:NAME` (several: any of them) keeps the visits of users with a
  completion of one of those goals in the window. Under it, totals and every
  visit-dimension row add `conversions` (the kept visitors), `events` (the
  completions in the window of those visitors), `conversionRate` (against
  the visitors passing the other filters: of the row, for a row) and
  `revenue`.
- `by=goal`: a row per goal of the site, over the users of the window's
  visits passing the filters: those who completed it, their completions,
  the share of those users, and the revenue.
- Revenue per currency: the total of the completions carrying it and their
  average, rounded half-even to the currency's minor units, as exact text.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import ROUND_HALF_EVEN, Decimal

import web_reference as web
from analytics_reference import bucket_starts, expected_bucket

MINOR_UNITS = {"EUR": 2, "USD": 2, "JPY": 0, "BHD": 3}
"""ISO 4217 minor units of the currencies the tests use."""


class UnknownGoal(ValueError):
    """A goal filter names no goal of the site: the service answers 422."""


def match_page(pattern: str, path: str) -> bool:
    """Whether `path` is `pattern` with each `*` standing for any run of characters."""
    if not pattern:
        return not path
    if pattern[0] == "*":
        return any(match_page(pattern[1:], path[i:]) for i in range(len(path) + 1))
    return bool(path) and path[0] == pattern[0] and match_page(pattern[1:], path[1:])


def completes(movement: dict, goal: dict) -> bool:
    if "event" in goal:
        return movement["event"] == goal["event"]
    path = web.path_of(movement)
    return movement["event"] == "page_view" and path is not None and match_page(goal["page"], path)


def completions(stored: list[dict], goals: list[dict], start: int, end: int) -> list[dict]:
    return [m for m in stored if start <= m["timestamp"] < end and any(completes(m, g) for g in goals)]


def amount_text(amount: Decimal, currency: str) -> str:
    value = amount.quantize(Decimal(1).scaleb(-MINOR_UNITS[currency]), rounding=ROUND_HALF_EVEN)
    return f"{abs(value) if value.is_zero() else value:f}"


def stored_amount(revenue: dict) -> Decimal:
    """The amount as the service keeps it: rounded when it arrives."""
    return Decimal(amount_text(Decimal(str(revenue["amount"])), revenue["currency"]))


def revenue(done: list[dict]) -> dict:
    amounts: dict[str, list[Decimal]] = defaultdict(list)
    for movement in done:
        if movement.get("revenue"):
            amounts[movement["revenue"]["currency"]].append(stored_amount(movement["revenue"]))
    return {currency: {"total": amount_text(sum(found, Decimal(0)), currency),
                       "average": amount_text(sum(found, Decimal(0)) / len(found), currency)}
            for currency, found in sorted(amounts.items())}


def split_filters(filters: list[str], goals: list[dict]) -> tuple[list[str], list[dict]]:
    """(the other filters, the goals the goal filters name)."""
    by_name = {goal["name"]: goal for goal in goals}
    others, chosen = [], []
    for text in filters:
        dimension, _, value = text.partition(":")
        if dimension != "goal":
            others.append(text)
        elif value not in by_name:
            raise UnknownGoal(value)
        elif by_name[value] not in chosen:
            chosen.append(by_name[value])
    return others, chosen


def kept_visits(stored: list[dict], filters: list[str], goals: list[dict], start: int,
                end: int) -> tuple[list[web.Visit], list[web.Visit], set[str], list[dict]]:
    """(visits passing every filter, visits passing the other filters, the page filter's
    paths, the goal filter's goals)."""
    others, chosen = split_filters(filters, goals)
    passing, pages = web.filtered_visits(stored, others)
    if not chosen:
        return passing, passing, pages, chosen
    converters = {m["userId"] for m in completions(stored, chosen, start, end)}
    return [v for v in passing if v.user in converters], passing, pages, chosen


def users_started(visits: list[web.Visit], start: int, end: int) -> set[str]:
    return {v.user for v in visits if start <= v.first < end}


def conversion_figures(stored: list[dict], chosen: list[dict], kept: set[str], base: set[str],
                       start: int, end: int) -> dict:
    done = [m for m in completions(stored, chosen, start, end) if m["userId"] in kept]
    return {"conversions": len(kept), "events": len(done),
            "conversionRate": web.ratio(len(kept), len(base)), "revenue": revenue(done)}


def stats(stored: list[dict], start: int, end: int, zone: str | None, filters: list[str],
          goals: list[dict], compare: bool = False) -> dict:
    """The /stats answer for an explicit window."""
    bucket = expected_bucket(zone, start, end)
    starts = bucket_starts(bucket, zone, start, end)
    kept, _passing, pages, _chosen = kept_visits(stored, filters, goals, start, end)
    series = []
    for i, t in enumerate(starts):
        stop = starts[i + 1] if i + 1 < len(starts) else end
        counts = web.totals(kept, pages, max(t, start), stop)
        series.append({"t": t, "visitors": counts["visitors"], "visits": counts["visits"],
                       "pageviews": counts["pageviews"]})
    previous = None
    if compare:
        before = start - (end - start)
        previous = {"from": before, "to": start, "totals": totals(stored, before, start, filters, goals)}
    return {"from": start, "to": end, "bucket": bucket, "totals": totals(stored, start, end, filters, goals),
            "previous": previous, "series": series}


def totals(stored: list[dict], start: int, end: int, filters: list[str], goals: list[dict]) -> dict:
    kept, passing, pages, chosen = kept_visits(stored, filters, goals, start, end)
    found = web.totals(kept, pages, start, end)
    if chosen:
        found |= conversion_figures(stored, chosen, users_started(kept, start, end),
                                    users_started(passing, start, end), start, end)
    return found


def breakdown(stored: list[dict], by: str, start: int, end: int, filters: list[str],
              goals: list[dict], limit: int = 10) -> dict:
    """The /breakdown answer for an explicit window, by=goal or a visit dimension."""
    kept, passing, pages, chosen = kept_visits(stored, filters, goals, start, end)
    if by == "goal":
        rows = goal_rows(stored, kept, goals, start, end)
    else:
        rows = web.visit_rows(kept, by, pages, start, end)
        if chosen:
            for row in rows:
                in_row = [v for v in kept if v.dimensions[by] == row["value"]]
                row_base = [v for v in passing if v.dimensions[by] == row["value"]]
                row |= conversion_figures(stored, chosen, users_started(in_row, start, end),
                                          users_started(row_base, start, end), start, end)
    return {"by": by, "from": start, "to": end, "results": sorted(rows, key=row_order)[:limit]}


def goal_rows(stored: list[dict], kept: list[web.Visit], goals: list[dict], start: int,
              end: int) -> list[dict]:
    users = users_started(kept, start, end)
    rows = []
    for goal in goals:
        done = [m for m in completions(stored, [goal], start, end) if m["userId"] in users]
        converted = {m["userId"] for m in done}
        rows.append({"value": goal["name"], "visitors": len(converted), "events": len(done),
                     "conversionRate": web.ratio(len(converted), len(users)), "revenue": revenue(done)})
    return rows


def row_order(row: dict) -> tuple:
    count = row["pageviews"] if "pageviews" in row else row["events"]
    return (-row["visitors"], -count, row["value"] is None, row["value"] or "")
