"""The background jobs' schedule: a failed run is logged and tried again at the next interval;
a run that found its data briefly out of reach (a cluster's shard between owners) says so in
one line instead of a traceback."""

from __future__ import annotations

import asyncio
import logging

from tracker.lifecycle.scheduler import Job, Scheduler
from tracker.storage.store import Unavailable


def run_failing_job(error: Exception) -> int:
    """Schedule a job that raises `error` on its first run and counts later ones; the runs."""
    runs = 0

    async def job() -> int:
        nonlocal runs
        runs += 1
        if runs == 1:
            raise error
        return 0

    async def main() -> None:
        scheduler = Scheduler([Job("flaky", job, 0.01, "did {count}")])
        scheduler.start()
        for _ in range(200):
            if runs >= 2:
                break
            await asyncio.sleep(0.01)
        await scheduler.stop()

    asyncio.run(main())
    return runs


def test_a_run_whose_data_is_out_of_reach_is_one_warning_and_runs_again(caplog):
    with caplog.at_level(logging.WARNING, logger="tracker.jobs"):
        assert run_failing_job(Unavailable("shard 3: no live node owns it")) >= 2
    [record] = [r for r in caplog.records if "flaky" in r.getMessage()]
    assert record.levelno == logging.WARNING and record.exc_info is None
    assert "shard 3: no live node owns it" in record.getMessage()


def test_any_other_failure_is_logged_with_its_traceback_and_runs_again(caplog):
    with caplog.at_level(logging.WARNING, logger="tracker.jobs"):
        assert run_failing_job(RuntimeError("a bug")) >= 2
    [record] = [r for r in caplog.records if "flaky" in r.getMessage()]
    assert record.levelno == logging.ERROR and record.exc_info is not None
