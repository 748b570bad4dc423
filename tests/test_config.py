"""Settings from the environment: a bad value stops start-up with one line naming it."""

from __future__ import annotations

import pytest

from helpers import service_env, start_and_fail


@pytest.mark.parametrize("bad", ["0", "-3", "week"])
def test_a_bad_retention_refuses_to_start_with_one_line(data_dir, bad):
    result = start_and_fail(service_env(data_dir, TRACKER_RETENTION_DAYS=bad))
    assert result.returncode == 2
    assert result.stderr.strip() == f"tracker: TRACKER_RETENTION_DAYS='{bad}': must be an integer >= 1"
