"""Running a cost measurement in a child process against this tree or another source tree.

The child is the same script run with `--child N`: with another tree first on
PYTHONPATH it imports that tree's `tracker`, which it proves by printing the
module's path last. Rounds alternate the trees' order, so whatever else the
machine does falls on both alike.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


def arguments(description: str, requests: int, rounds: int) -> argparse.Namespace:
    """--baseline TREE, --requests per run, --rounds, and the child's hidden --child N."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--baseline", type=Path, help="source tree to compare with")
    parser.add_argument("--requests", type=int, default=requests, help="requests per run")
    parser.add_argument("--rounds", type=int, default=rounds)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    return parser.parse_args()


def answer_as_child(figures: Iterable[float]) -> int:
    """Print the child's figures, then the path of the `tracker` it imported."""
    import tracker

    print(*figures, tracker.__file__)
    return 0


def child_figures(script: str, tree: Path | None, requests: int,
                  env: dict[str, str] | None = None) -> list[float]:
    """`script --child requests` under `tree` (None: this one): the figures it printed."""
    env = {**os.environ, **(env or {})}
    if tree is not None:
        env["PYTHONPATH"] = str(tree)
    found = subprocess.run([sys.executable, script, "--child", str(requests)], env=env,
                           cwd=tree or Path.cwd(), capture_output=True, text=True)
    if found.returncode:
        raise SystemExit(found.stderr[-2000:])
    *figures, module = found.stdout.split()
    if tree is not None and not Path(module).is_relative_to(tree):
        raise SystemExit(f"with PYTHONPATH={tree} tracker is imported from {module}")
    return [float(figure) for figure in figures]


def alternating(baseline: Path | None, rounds: int, run: Callable[[Path | None], T]) -> dict[str, list[T]]:
    """`run(tree)` for this tree and the baseline (when given), `rounds` times in alternating
    order; each side's results in round order."""
    trees = {"this tree": None} if baseline is None else {"this tree": None, "baseline": baseline.resolve()}
    runs: dict[str, list[T]] = {side: [] for side in trees}
    for round_ in range(rounds):
        for side in (list(trees) if round_ % 2 == 0 else list(reversed(trees))):
            runs[side].append(run(trees[side]))
    return runs
