"""One entity's walk through a funnel: how many steps its movements, in time order, reach.

For the funnels the earliest chain cannot answer (see funnels.py): steps that
a movement may match together, a `within`, movements of one instant.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import groupby


@dataclass(frozen=True)
class Walk:
    """What a walk needs of a funnel."""

    steps: int
    within: int | None  # ms from a chain's first movement to its last; None: no limit

    def allows(self, start: int | None, at: int) -> bool:
        """Whether a chain started at `start` may take a movement at `at`."""
        return start is not None and (self.within is None or at - start <= self.within)


def depth(walk: Walk, movements: Iterable[tuple[int, tuple[int, ...]]]) -> int:
    """How many steps an entity reaches, from its (time, steps matched) in time order.

    starts[i] is the latest start of a chain of distinct movements matching steps 0..i so far:
    of chains reaching one step, the latest started leaves the most room for `within`.
    Movements of one instant may be taken in any order, so they are handled together.
    """
    starts: list[int | None] = [None] * walk.steps
    for at, tied in groupby(movements, key=lambda movement: movement[0]):
        matches = [matched for _at, matched in tied if matched]
        if len(matches) == 1:
            _advance_one(walk, starts, at, matches[0])
        elif matches:
            _advance_tied(walk, starts, at, matches)
    return sum(start is not None for start in starts)


def _advance_one(walk: Walk, starts: list[int | None], at: int,
                 matched: tuple[int, ...]) -> None:
    """One movement: highest step first, so that it extends chains that do not hold it yet."""
    for i in matched:
        if i == 0:
            starts[0] = at
        elif (previous := starts[i - 1]) is not None and walk.allows(previous, at):
            starts[i] = _later(starts[i], previous)


def _advance_tied(walk: Walk, starts: list[int | None], at: int,
                  matches: list[tuple[int, ...]]) -> None:
    """Movements of one instant: a chain that reached step j (or a new one, j = -1) goes on to
    every step k such that steps j+1..k can each take a different one of these movements."""
    slots = _slots(matches, len(starts))
    before = list(starts)
    for j in range(-1, len(starts) - 1):
        start = at if j < 0 else before[j]
        if start is None or not walk.allows(start, at):
            continue
        for k in range(j + 1, _reach(slots, j + 1, len(starts))):
            starts[k] = _later(starts[k], start)


def _later(start: int | None, other: int) -> int:
    return other if start is None else max(start, other)


def _slots(matches: list[tuple[int, ...]], steps: int) -> list[tuple[int, ...]]:
    """The movements as the steps each matches; more alike than there are steps add nothing."""
    return [matched for matched, n in Counter(matches).items() for _ in range(min(n, steps))]


def _reach(slots: list[tuple[int, ...]], first: int, steps: int) -> int:
    """One past the last step k such that steps first..k match distinct slots (Kuhn's
    augmenting paths, one step added at a time)."""
    holder: dict[int, int] = {}  # slot -> the step it is matched to

    def place(step: int, seen: set[int]) -> bool:
        for slot, matched in enumerate(slots):
            if step in matched and slot not in seen:
                seen.add(slot)
                if slot not in holder or place(holder[slot], seen):
                    holder[slot] = step
                    return True
        return False

    for step in range(first, steps):
        if not place(step, set()):
            return step
    return steps
