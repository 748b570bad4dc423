"""Managing a site's goals, for the management API and the command line alike.

Goals live in the registry, so every worker and a running service see a new
one at once; nothing is backfilled, since conversions are counted from the
shards when a report is read.
"""

from __future__ import annotations

from tracker.analytics.goals import Goal, default_name
from tracker.storage import goals as goal_rows
from tracker.storage.registry import RegistryFile, Site


def create(sites: RegistryFile, site: Site, event: str | None, page: str | None,
           name: str | None, now: int) -> Goal:
    """A new goal of the site, named after its event or page unless `name` is given; a
    duplicate name, event or page raises registry.Conflict."""
    name = name or default_name(event, page)
    with sites.transaction() as conn:
        goal_id = goal_rows.add_goal(conn, site.number, name, event, page, now)
    return Goal(goal_id, name, event, page, now)


def remove(sites: RegistryFile, site: Site, goal_id: int) -> bool:
    with sites.transaction() as conn:
        return goal_rows.drop_goal(conn, site.number, goal_id)


def of_site(sites: RegistryFile, site: Site) -> list[Goal]:
    return [Goal(*row) for row in goal_rows.goals_of(sites.connection(), site.number)]
