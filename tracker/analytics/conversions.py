"""Conversions: one shard's completions of goals in a window, counted from what it keeps.

Nothing is recorded when a goal is made: a goal counts every movement stored
or archived, past ones included, at once. A completion is a movement in the
window of a goal's event, or a page view whose path matches a page goal.

- Event goals: one range of the (event, time) index per event, and the
  window's archived movements when archive files reach it.
- Page goals: visits lying inside the window add up their per-path counts
  (`visit_pages`, which keep archived page views too); the few running across
  its edges are counted from their movements (tracker/analytics/spanning.py).
  Revenue on page views is one range of the index of movements with revenue.

Completions are kept per user, so that the users a report keeps (those of
its visits that pass its filters) pick theirs: a goal filter keeps the
visits of users who completed a goal in the window, and counts what those
users completed there.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

import apsw

from tracker.analytics.filters import PASSES, VISIT_DIMENSIONS, Filters
from tracker.analytics.goals import Goal
from tracker.analytics.rollups import PAGE_VIEW, page_path
from tracker.analytics.spanning import Span, page_views_of, spanning_visits
from tracker.storage import archives

EVENT_COMPLETIONS = """
SELECT userId, revenue, currency FROM movements INDEXED BY idx_movements_event_time
WHERE event IN (SELECT value FROM json_each(:events)) AND timestamp >= :start AND timestamp < :end
"""

# Page views of matching paths (:globs, a JSON array of GLOB patterns) of each user's visits
# that lie inside the window.
PAGE_COMPLETIONS = """
SELECT v.userId, sum(q.n) FROM visits v NOT INDEXED JOIN visit_pages q ON q.visit = v.id
WHERE v.first >= :start AND v.first < :end AND v.last < :end
  AND EXISTS (SELECT 1 FROM json_each(:globs) g WHERE q.path GLOB g.value)
GROUP BY v.userId
"""

PAGE_REVENUE = f"""
SELECT userId, revenue, currency FROM movements INDEXED BY idx_movements_revenue
WHERE event = '{PAGE_VIEW}' AND currency IS NOT NULL AND timestamp >= :start AND timestamp < :end
  AND json_type(data, '$.path') = 'text'
  AND EXISTS (SELECT 1 FROM json_each(:globs) g WHERE (data ->> '$.path') GLOB g.value)
"""

# The users of the window's visits that pass the filters.
WINDOW_USERS = f"""
SELECT DISTINCT v.userId FROM visits v NOT INDEXED
WHERE v.first >= :low AND v.first < :high AND {PASSES}
"""


@dataclass
class Conversions:
    """What some users completed: how many of them (unique conversions), their completions,
    revenue per currency ([total, completions carrying it]), and the visitors the rate is
    taken against."""

    visitors: int = 0
    events: int = 0
    revenue: dict[str, list] = field(default_factory=dict)
    base: int = 0

    def add(self, other: Conversions) -> Conversions:
        self.visitors += other.visitors
        self.events += other.events
        self.base += other.base
        for currency, (total, count) in other.revenue.items():
            mine = self.revenue.setdefault(currency, [Decimal(0), 0])
            mine[0] += total
            mine[1] += count
        return self


@dataclass
class Completions:
    """Per user, completions of some goals in a window and the revenue they carried."""

    counts: Counter[str] = field(default_factory=Counter)
    revenue: dict[str, list[tuple[str, Decimal]]] = field(default_factory=dict)

    def add(self, user: str, amount: str | None, currency: str | None, count: int = 1) -> None:
        self.counts[user] += count
        self.add_revenue(user, amount, currency)

    def add_revenue(self, user: str, amount: str | None, currency: str | None) -> None:
        if amount is not None and currency is not None:
            self.revenue.setdefault(user, []).append((currency, Decimal(amount)))

    def of(self, users: set[str]) -> Conversions:
        """What `users` completed (those of them with completions are the conversions)."""
        found = Conversions()
        for user in users:
            if self.counts[user]:
                found.visitors += 1
                found.events += self.counts[user]
            for currency, amount in self.revenue.get(user, ()):
                mine = found.revenue.setdefault(currency, [Decimal(0), 0])
                mine[0] += amount
                mine[1] += 1
        return found


def completions(conn: apsw.Connection, goals: tuple[Goal, ...], start: int, end: int) -> Completions:
    """Movements in [start, end) completing any of `goals`, per user, stored or archived."""
    events = sorted({goal.event for goal in goals if goal.event is not None})
    # Every page view completes an event goal of page_view already: count it once.
    pages = [] if PAGE_VIEW in events else [goal for goal in goals if goal.page is not None]
    found = Completions()
    window = {"start": start, "end": end}
    if events:
        for user, amount, currency in conn.execute(EVENT_COMPLETIONS,
                                                   {**window, "events": json.dumps(events)}):
            found.add(user, amount, currency)
    if pages:
        _page_completions(conn, pages, start, end, found)
    if archives.any_in(conn, start, end):
        _archived_completions(conn, set(events), pages, start, end, found)
    return found


def _page_completions(conn: apsw.Connection, pages: list[Goal], start: int, end: int,
                      found: Completions) -> None:
    globs = {"globs": json.dumps([goal.glob for goal in pages]), "start": start, "end": end}
    for user, count in conn.execute(PAGE_COMPLETIONS, globs):
        found.counts[user] += count
    span = Span((start, end))
    across = spanning_visits(conn, span, Filters(), None)
    views = page_views_of(conn, across, span, True)
    for visit in across:
        count = sum(any(goal.matches_page(path) for goal in pages) for _t, path in views[visit.id])
        if count:
            found.counts[visit.userId] += count
    for user, amount, currency in conn.execute(PAGE_REVENUE, globs):
        found.add_revenue(user, amount, currency)


def _archived_completions(conn: apsw.Connection, events: set[str], pages: list[Goal], start: int,
                          end: int, found: Completions) -> None:
    """Archived event completions, and the revenue of archived page views completing a page
    goal (their count is in the visits' page counts already)."""
    for movement in archives.movements_in(conn, start, end):
        amount, currency = ((movement.revenue.amount, movement.revenue.currency)
                            if movement.revenue is not None else (None, None))
        if movement.event in events:
            found.add(movement.userId, amount, currency)
        elif movement.event == PAGE_VIEW and pages and amount is not None:
            path = page_path(PAGE_VIEW, bytes(movement.data))
            if any(goal.matches_page(path) for goal in pages):
                found.add_revenue(movement.userId, amount, currency)


def window_users(conn: apsw.Connection, filters: Filters, start: int, end: int) -> set[str]:
    """Users of the visits counted in [start, end) that pass the (bound) filters."""
    params = {**filters.params(), "low": start, "high": end}
    return {user for (user,) in conn.execute(WINDOW_USERS, params)}


def bind(conn: apsw.Connection, filters: Filters, start: int,
         end: int) -> tuple[Filters, Completions | None]:
    """The filters with the goal filter's converters of this shard and window bound, and their
    completions (None without a goal filter)."""
    if not filters.goals:
        return filters, None
    done = completions(conn, filters.goals, start, end)
    return filters.bound(tuple(user for user, count in done.counts.items() if count)), done


# Per visit dimension: its values with the users of the window's visits that pass the
# filters, and the distinct visitors of each value.
VALUE_USERS = {dimension: f"""
SELECT DISTINCT v.{dimension}, v.userId FROM visits v NOT INDEXED
WHERE v.first >= :low AND v.first < :high AND {PASSES}
""" for dimension in VISIT_DIMENSIONS}
VALUE_VISITORS = {dimension: f"""
SELECT v.{dimension}, count(DISTINCT v.userId) FROM visits v NOT INDEXED
WHERE v.first >= :low AND v.first < :high AND {PASSES} GROUP BY v.{dimension}
""" for dimension in VISIT_DIMENSIONS}


def totals(conn: apsw.Connection, filters: Filters, done: Completions, start: int,
           end: int) -> Conversions:
    """A goal filter's conversions over the window's visits that pass the (bound) filters, with
    the visitors passing the other filters as the base."""
    found = done.of(window_users(conn, filters, start, end))
    found.base = len(window_users(conn, filters.without_goals(), start, end))
    return found


def by_value(conn: apsw.Connection, dimension: str, filters: Filters, done: Completions,
             start: int, end: int) -> dict[str | None, Conversions]:
    """A goal filter's conversions per value of a visit dimension, each against the value's
    visitors passing the other filters."""
    window = {"low": start, "high": end}
    users: dict[str | None, set[str]] = {}
    for value, user in conn.execute(VALUE_USERS[dimension], {**filters.params(), **window}):
        users.setdefault(value, set()).add(user)
    found = {value: done.of(kept) for value, kept in users.items()}
    others = {**filters.without_goals().params(), **window}
    for value, visitors in conn.execute(VALUE_VISITORS[dimension], others):
        found.setdefault(value, Conversions()).base = visitors
    return found


def by_goal(conn: apsw.Connection, goals: tuple[Goal, ...], filters: Filters, start: int,
            end: int) -> dict[str, Conversions]:
    """Per goal, its conversions among the users of the window's visits that pass the (bound)
    filters, against all of them."""
    if not goals:  # the goals card of a site without goals: no rows, and no users to gather
        return {}
    users = window_users(conn, filters, start, end)
    found = {}
    for goal in goals:
        found[goal.name] = completions(conn, (goal,), start, end).of(users)
        found[goal.name].base = len(users)
    return found
