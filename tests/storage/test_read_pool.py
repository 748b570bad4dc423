"""The read threads (tracker/storage/read_pool.py): a function runs on one of the pool's own
threads, never the event loop's, and its result or error comes back to the awaiting caller;
at most `threads` run at once."""

from __future__ import annotations

import asyncio
import threading

import pytest

from tracker.storage.read_pool import ReadPool


def run(scenario, threads: int = 2) -> None:
    async def main():
        pool = ReadPool(threads)
        try:
            await scenario(pool)
        finally:
            pool.close()

    asyncio.run(main())


def test_a_read_runs_on_a_reader_thread_and_returns_its_result():
    async def scenario(pool):
        loop_thread = threading.current_thread()
        thread, total = await pool.run(lambda a, b: (threading.current_thread(), a + b), 2, 3)
        assert thread is not loop_thread and thread.name.startswith("reader")
        assert total == 5

    run(scenario)


def test_a_reads_error_reaches_the_caller():
    def fail():
        raise LookupError("no such row")

    async def scenario(pool):
        with pytest.raises(LookupError, match="no such row"):
            await pool.run(fail)

    run(scenario)


def test_no_more_reads_run_at_once_than_the_pool_has_threads():
    running, most = [0], [0]
    lock, release = threading.Lock(), threading.Event()

    def read():
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        release.wait(5)
        with lock:
            running[0] -= 1

    async def scenario(pool):
        reads = [asyncio.ensure_future(pool.run(read)) for _ in range(5)]
        while most[0] < 2:
            await asyncio.sleep(0.001)
        await asyncio.sleep(0.005)  # time for a third thread, were there one, to start
        release.set()
        await asyncio.gather(*reads)
        assert most[0] == 2

    run(scenario)
