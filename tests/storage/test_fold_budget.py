"""The backlog's bound in seconds of folding: measured, floored, blind to stuck files."""

from __future__ import annotations

import pytest

from tracker.storage import fold_budget
from tracker.storage.fold_budget import FoldBudget


def test_the_bound_follows_the_measured_rate_and_ignores_small_folds():
    budget = FoldBudget(0.5)
    assert budget.limit_rows() == max(fold_budget.FLOOR_ROWS,
                                      int(0.5 * fold_budget.GUESS_ROWS_PER_SECOND))
    for _ in range(60):
        budget.measured(40_000, 1.0)  # 40,000 rows/s
    assert budget.rows_per_second == pytest.approx(40_000, rel=0.01)
    assert budget.limit_rows() == pytest.approx(20_000, rel=0.01)
    budget.measured(fold_budget.MEASURED_ROWS - 1, 10.0)  # mostly fixed costs: not a rate
    assert budget.rows_per_second == pytest.approx(40_000, rel=0.01)


def test_a_slow_measurement_never_bounds_the_backlog_below_the_floor():
    budget = FoldBudget(0.1)
    for _ in range(60):
        budget.measured(1_000, 10.0)  # 100 rows/s: 10 rows in 0.1 s
    assert budget.limit_rows() == fold_budget.FLOOR_ROWS
    budget.counted({}, seen=100)
    assert not budget.exceeded(seen=100 + fold_budget.FLOOR_ROWS - 50, rows=50)
    assert budget.exceeded(seen=100 + fold_budget.FLOOR_ROWS - 50, rows=51)


def test_rows_appended_since_the_count_are_added_and_stuck_files_left_out():
    budget = FoldBudget(1.0)
    limit = budget.limit_rows()
    stuck = fold_budget.STUCK_SECONDS
    budget.counted({0: (limit - 10, 0.5), 1: (10 * limit, stuck), 2: (5, 0.1)}, seen=1_000)
    assert budget.unfolded(seen=1_000) == limit - 5
    assert not budget.exceeded(seen=1_004, rows=1)
    assert budget.exceeded(seen=1_005, rows=1)
    budget.pending = 5  # let in, being appended
    assert budget.exceeded(seen=1_000, rows=1)


def test_an_empty_backlog_lets_in_a_request_of_any_size():
    budget = FoldBudget(0.01)
    budget.counted({}, seen=0)
    assert not budget.exceeded(seen=0, rows=10 * fold_budget.FLOOR_ROWS)


def test_zero_seconds_sets_no_bound():
    budget = FoldBudget(0.0)
    budget.counted({0: (10**9, 0.0)}, seen=0)
    assert not budget.exceeded(seen=10**9, rows=10**9)
