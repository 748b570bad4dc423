"""A brute-force /funnels: every choice of distinct movements tried, for small data.

Shares no code with the service; visits and filters come from web_reference.
An entity reaches step k when some k distinct movements of it in the window,
taken in an order of non-decreasing time, match steps 1..k, the last at most
`within` after the first.
"""

from __future__ import annotations

from collections import defaultdict

from web_reference import filtered_visits, path_of


def matches(step: str, movement: dict) -> bool:
    if step.startswith("page:"):
        return movement["event"] == "page_view" and path_of(movement) == step[len("page:"):]
    return movement["event"] == step


def reaches(steps: list[str], movements: list[dict], within: int | None) -> int:
    """The most steps some chain of distinct movements matches, tried exhaustively."""

    def deepest(chain: list[dict]) -> int:
        best = len(chain)
        if best == len(steps):
            return best
        for movement in movements:
            if any(movement is taken for taken in chain) or \
                    not matches(steps[len(chain)], movement):
                continue
            if chain and movement["timestamp"] < chain[-1]["timestamp"]:
                continue
            if chain and within is not None and \
                    movement["timestamp"] - chain[0]["timestamp"] > within:
                continue
            best = max(best, deepest([*chain, movement]))
        return best

    return deepest([])


def funnel(stored: list[dict], steps: list[str], start: int, end: int, by: str = "user",
           within: int | None = None, filters: list[str] = ()) -> dict:
    """The /funnels answer for an explicit window."""
    visits, _pages = filtered_visits(stored, list(filters))
    entities: dict[tuple, list[dict]] = defaultdict(list)
    for visit in visits:
        key = (visit.user,) if by == "user" else (visit.user, visit.session)
        entities[key] += [m for m in visit.movements if start <= m["timestamp"] < end]
    depths = [reaches(steps, movements, within) for movements in entities.values()]
    counts = [sum(depth > i for depth in depths) for i in range(len(steps))]
    return {"by": by, "from": start, "to": end, "steps": [
        {"step": step, "count": count, "conversion": count / counts[0] if counts[0] else 0.0,
         "dropOff": counts[i - 1] - count if i else 0}
        for i, (step, count) in enumerate(zip(steps, counts))]}
