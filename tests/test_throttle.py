"""Repeated warnings are logged once per interval, with a count of those held back."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator

from tracker.throttle import MAX_TEMPLATES, Throttled, ThrottleRepeats, throttle_loggers


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self.tracebacks = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())
        self.tracebacks += record.exc_info is not None


@contextlib.contextmanager
def captured(logger: logging.Logger) -> Iterator[Lines]:
    handler = Lines()
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


def test_a_filter_lets_each_warning_template_through_once_per_interval():
    logger = logging.getLogger("tracker.test.filter")
    logger.setLevel(logging.INFO)
    logger.addFilter(ThrottleRepeats(interval=0.2))
    with captured(logger) as out:
        for n in range(50):
            logger.warning("client %d sent garbage", n)
            logger.error("another kind of trouble")
            logger.info("start-up line %d", n)  # below warning: never held back
        time.sleep(0.25)
        logger.warning("client %d sent garbage", 50)
    assert out.lines[:3] == ["client 0 sent garbage", "another kind of trouble", "start-up line 0"]
    assert sum(line.startswith("start-up line") for line in out.lines) == 50
    assert out.lines[-1] == "client 50 sent garbage (and 49 more since the last such warning)"
    assert len(out.lines) == 53


def test_a_filter_fed_endless_distinct_messages_stays_bounded():
    logger = logging.getLogger("tracker.test.distinct")
    throttle = ThrottleRepeats(interval=60)
    logger.addFilter(throttle)
    with captured(logger) as out:
        for n in range(MAX_TEMPLATES * 4):
            logger.warning(f"formatted line {n}")
    assert len(out.lines) == MAX_TEMPLATES + 1
    assert len(throttle._gates) == MAX_TEMPLATES


def test_a_throttled_error_keeps_its_traceback_once():
    logger = logging.getLogger("tracker.test.errors")
    throttled = Throttled(logger, interval=60)
    with captured(logger) as out:
        for _ in range(100):
            try:
                raise OverflowError("too big")
            except OverflowError:
                throttled.error("unexpected error on %s %s", "GET", "/movements", exc_info=True)
    assert out.lines == ["unexpected error on GET /movements"] and out.tracebacks == 1


def test_throttling_a_logger_twice_installs_one_filter():
    throttle_loggers(("tracker.test.twice",))
    throttle_loggers(("tracker.test.twice",))
    filters = logging.getLogger("tracker.test.twice").filters
    assert sum(isinstance(f, ThrottleRepeats) for f in filters) == 1
