"""Goals: what a site counts as a conversion, and what each one matches.

A goal is an event name, or a page pattern that a `page_view`'s `data.path`
must match whole, `*` standing for any run of characters (`/blog/*`). The
shards' queries match pages with SQLite's GLOB, so a pattern is turned into a
GLOB pattern whose only wildcard is `*` (GLOB's `?` and `[` are made literal);
archived page views are matched in Python by the same rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

WILDCARD = "*"
GLOB_LITERALS = {"?": "[?]", "[": "[[]"}


@dataclass(frozen=True)
class Goal:
    id: int
    name: str
    event: str | None
    page: str | None
    created: int = 0

    @property
    def glob(self) -> str | None:
        """The page pattern as a GLOB pattern (None for an event goal)."""
        if self.page is None:
            return None
        return "".join(GLOB_LITERALS.get(char, char) for char in self.page)

    def matches_page(self, path: str | None) -> bool:
        """Whether a page view of `path` completes this (page) goal."""
        if self.page is None or path is None:
            return False
        pattern = ".*".join(re.escape(part) for part in self.page.split(WILDCARD))
        return re.fullmatch(pattern, path, re.DOTALL) is not None


def default_name(event: str | None, page: str | None) -> str:
    """The name a goal gets when none is given: its event, or `Visit <page>`."""
    return event if event is not None else f"Visit {page}"
