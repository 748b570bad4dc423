"""Goals of a site: `GET|POST /sites/{id}/goals`, `DELETE /sites/{id}/goals/{goalId}` (the
admin token; 201 on creation, 204 on delete, 409 for a name, event or page the site has a
goal for already). A goal counts past data at once: conversions are read from the shards
when a report asks (tracker/analytics/conversions.py)."""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import Response

from tracker import schemas
from tracker.analytics.goals import Goal
from tracker.api.access import require_admin
from tracker.api.body import decode_object, read_body
from tracker.api.common import json_response, now_ms
from tracker.api.errors import ApiError, invalid
from tracker.api.sites import named_site
from tracker.lifecycle import goals
from tracker.storage.registry import Conflict
from tracker.storage.store import Store

GOAL_ID = re.compile(r"[0-9]{1,18}")


async def list_goals(request: Request) -> Response:
    require_admin(request)
    site = named_site(request)
    found = goals.of_site(request.app.state.store.registry, site)
    return json_response(schemas.GoalsOut([goal_out(goal) for goal in found]))


async def add_goal(request: Request) -> Response:
    require_admin(request)
    site = named_site(request)
    given: schemas.GoalIn = decode_object(schemas.goal_decoder, await read_body(request))
    if (given.event is None) == (given.page is None):
        raise invalid("a goal has either `event` or `page` - at `$`")
    store: Store = request.app.state.store
    try:
        goal = await store.write_registry(goals.create, store.registry, site, given.event, given.page,
                                          given.name, now_ms())
    except Conflict as error:
        raise ApiError(409, "conflict", str(error)) from None
    return json_response(goal_out(goal), 201)


async def delete_goal(request: Request) -> Response:
    require_admin(request)
    site = named_site(request)
    raw = request.path_params["goalId"]
    store: Store = request.app.state.store
    if not GOAL_ID.fullmatch(raw) or not await store.write_registry(goals.remove, store.registry, site,
                                                                    int(raw)):
        raise ApiError(404, "not_found", f"site `{site.id}` has no goal `{raw[:64]}`")
    return Response(status_code=204)


def goal_out(goal: Goal) -> schemas.GoalOut:
    return schemas.GoalOut(goal.id, goal.name, goal.event, goal.page, goal.created)
