"""The web analytics filters, and the one SQL condition that applies them.

A request's `filter=DIM:VALUE` parameters become a `Filters`; every query
that filters visits uses the fixed condition PASSES on a visit `v`, whose
parameters (`params()`) hold each dimension's values as a JSON array, or
NULL for a dimension without a filter. So no statement is ever put together
from what a client sent: the values travel only as bound parameters.

A goal filter (`goal:NAME`) keeps the visits of the users who completed one
of its goals in the window. Who they are depends on the window and the shard,
so a shard's read first finds them (tracker/analytics/conversions.py) and
binds them as `converters`, a JSON array the condition reads like the others.

A filter on a dimension with an index of its own (migration 0013) lets a
statement read only the visits having one of its values: `driven` makes,
once, a variant of a statement per such dimension, and `Filters.driving`
names the one a request's filters choose (the first of DRIVING they filter).
PASSES still applies every filter, so a variant answers as the statement does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace

from tracker.analytics.goals import Goal
from tracker.analytics.rollups import PAGE_VIEW
from tracker.analytics.visit_chains import CHAINED

VISIT_DIMENSIONS = ("entryPage", "exitPage", "referrer", "source", "channel", "utmSource",
                    "utmMedium", "utmCampaign", "utmTerm", "utmContent", "browser", "os", "device",
                    "country", "region", "city")
PAGE = "page"
GOAL = "goal"

# Dimensions whose index (value, first, ...) a filter on them drives a read with, most
# selective first as values usually go. Not device or channel: a value of theirs is a third
# of the visits or more, and reading those through the index and the table was slower
# than the window's range of the table (channel:Direct, page breakdown of a shard of the
# 10M web data set: 102 ms scanned, 113 ms driven; country:DE 27 and 25 ms, country:US
# 86 and 82 ms).
DRIVING = ("country", "source")
SCANNED = "visits v NOT INDEXED"
WINDOW = "WHERE v.first >="

# The page filter's paths, as a set SQLite builds once per statement.
PAGE_PATHS = "(SELECT value FROM json_each(:f_page))"

# Visit `v` has a value allowed for every filtered dimension, and a page view of a filtered
# path when pages are filtered.
PASSES = " AND ".join(
    [f"(:f_{d} IS NULL OR v.{d} IN (SELECT value FROM json_each(:f_{d})))" for d in VISIT_DIMENSIONS]
    + [f"(:f_page IS NULL OR EXISTS (SELECT 1 FROM visit_pages q WHERE q.visit = v.id "
       f"AND q.path IN {PAGE_PATHS}))",
       "(:f_goal IS NULL OR v.userId IN (SELECT value FROM json_each(:f_goal)))"])

# Visit `v`'s page views of the filtered paths.
FILTERED_PAGEVIEWS = (f"(SELECT coalesce(sum(q.n), 0) FROM visit_pages q WHERE q.visit = v.id "
                      f"AND q.path IN {PAGE_PATHS})")

# The page views of visit `v` that count: all of them, or with a page filter those of its paths.
COUNTED_PAGEVIEWS = f"iif(:f_page IS NULL, v.pageviews, {FILTERED_PAGEVIEWS})"

# Movement `m` counts under the page filter: any movement but a page view of another path.
COUNTED_MOVEMENT = (f"(:f_page IS NULL OR m.event <> '{PAGE_VIEW}' OR "
                    f"(json_type(m.data, '$.path') = 'text' AND m.data ->> '$.path' IN {PAGE_PATHS}))")


def driven(sql: str) -> dict[str | None, str]:
    """A statement that passes over the window's visits (`visits v NOT INDEXED` and one
    `WHERE v.first >= ...`), by driving dimension: None, as written; each of DRIVING, read
    through that dimension's index for the filter's values only."""
    assert sql.count(SCANNED) == 1 and sql.count(WINDOW) == 1, sql
    return {None: sql, **{
        dimension: sql.replace(SCANNED, f"visits v INDEXED BY idx_visits_{dimension}").replace(
            WINDOW, f"WHERE v.{dimension} IN (SELECT value FROM json_each(:f_{dimension})) AND v.first >=")
        for dimension in DRIVING}}


@dataclass(frozen=True)
class Filters:
    """Visit dimensions with the values each may have, the page filter's paths, and the goal
    filter's goals with, once a shard's read has found them, the users who converted."""

    visits: tuple[tuple[str, tuple[str, ...]], ...] = ()
    pages: tuple[str, ...] = ()
    goals: tuple[Goal, ...] = ()
    converters: tuple[str, ...] | None = None

    def __bool__(self) -> bool:
        return bool(self.visits or self.pages or self.goals)

    def bound(self, converters: tuple[str, ...]) -> Filters:
        """These filters with the goal filter's converting users of one shard and window."""
        return replace(self, converters=converters)

    def without_goals(self) -> Filters:
        return replace(self, goals=(), converters=None)

    def params(self) -> dict[str, str | None]:
        """The parameters of PASSES and the page conditions."""
        chosen = dict(self.visits)
        found: dict[str, str | None] = {
            f"f_{d}": json.dumps(chosen[d]) if d in chosen else None for d in VISIT_DIMENSIONS}
        found["f_page"] = json.dumps(self.pages) if self.pages else None
        if self.goals and self.converters is None:
            raise ValueError("a goal filter's converters are bound per shard and window first")
        found["f_goal"] = json.dumps(self.converters) if self.goals else None
        return found

    @property
    def driving(self) -> str | None:
        """The dimension whose index reads the visits these filters pass, if any."""
        chosen = dict(self.visits)
        return next((dimension for dimension in DRIVING if dimension in chosen), None)

    @property
    def chained_alone(self) -> tuple[str, tuple[str, ...]] | None:
        """The dimension and its values when these filters are on one chained dimension and
        nothing else: a value's chain then counts the passing visits' visitors as a sum."""
        if self.pages or self.goals or len(self.visits) != 1 or self.visits[0][0] not in CHAINED:
            return None
        return self.visits[0]

    def counts_page(self, path: str | None) -> bool:
        return not self.pages or path in self.pages
