"""A site's goals as the registry keeps them: added, listed and removed.

What a goal matches and how conversions are counted is the analytics
layer's (tracker/analytics/goals.py); this module only stores the rows.
"""

from __future__ import annotations

import apsw

from tracker.storage.registry import Conflict

ADD_GOAL = """
INSERT INTO goals(site, name, event, page, created) VALUES (:site, :name, :event, :page, :created)
"""
GOALS_OF = "SELECT id, name, event, page, created FROM goals WHERE site = ? ORDER BY id"
DROP_GOAL = "DELETE FROM goals WHERE site = ? AND id = ?"

GoalRow = tuple[int, str, str | None, str | None, int]  # id, name, event, page, created


def add_goal(conn: apsw.Connection, site: int, name: str, event: str | None, page: str | None,
             now: int) -> int:
    """A new goal of the site (in the caller's transaction); its id. A name, event or page the
    site has a goal for already is a Conflict."""
    try:
        conn.execute(ADD_GOAL, {"site": site, "name": name, "event": event, "page": page,
                                "created": now})
    except apsw.ConstraintError:
        target = f"event `{event}`" if event is not None else f"page `{page}`"
        raise Conflict(f"the site has a goal named `{name}` or for the {target} already") from None
    return conn.last_insert_rowid()


def goals_of(conn: apsw.Connection, site: int) -> list[GoalRow]:
    return conn.execute(GOALS_OF, (site,)).fetchall()


def drop_goal(conn: apsw.Connection, site: int, goal_id: int) -> bool:
    conn.execute(DROP_GOAL, (site, goal_id))
    return conn.changes() > 0
