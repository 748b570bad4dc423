"""Log lines that a flood must not turn into a flood of log lines.

A warning that can repeat per request or per transaction (a full disk fails
every transaction; a broken client can send thousands of requests a second)
is logged at most once per interval, and the next line says how many were
held back. `Throttled` is for tracker's own warnings; `ThrottleRepeats` is a
logging filter for loggers whose calls are not ours (uvicorn's, asyncio's).
"""

from __future__ import annotations

import logging
import threading
import time

WARNING_INTERVAL_SECONDS = 10.0
# A filter keys its gates by message template; templates are few, but a
# logger fed formatted strings would make a gate per line without this cap.
MAX_TEMPLATES = 256


class Gate:
    """Opens at most once per interval; counts the times it stayed shut in between."""

    def __init__(self, interval: float):
        self._interval = interval
        self._next_at = 0.0
        self._held_back = 0
        self._lock = threading.Lock()

    def open(self) -> int | None:
        """None to hold this line back, else how many were held back since the last one."""
        now = time.monotonic()
        with self._lock:
            if now < self._next_at:
                self._held_back += 1
                return None
            held_back, self._held_back = self._held_back, 0
            self._next_at = now + self._interval
        return held_back


def with_count(message: str, held_back: int) -> str:
    if not held_back:
        return message
    return f"{message.rstrip()} (and {held_back} more since the last such warning)"


class Throttled:
    """A warning logged at most once per interval; the next line says how many were held back."""

    def __init__(self, logger: logging.Logger, interval: float = WARNING_INTERVAL_SECONDS):
        self._logger = logger
        self._gate = Gate(interval)

    def warning(self, message: str, *args: object) -> None:
        self._log(logging.WARNING, message, args)

    def error(self, message: str, *args: object, exc_info: bool = False) -> None:
        self._log(logging.ERROR, message, args, exc_info)

    def _log(self, level: int, message: str, args: tuple, exc_info: bool = False) -> None:
        held_back = self._gate.open()
        if held_back is not None:
            self._logger.log(level, with_count(message, held_back), *args, exc_info=exc_info)


class ThrottleRepeats(logging.Filter):
    """Lets each warning or error template through at most once per interval."""

    def __init__(self, interval: float = WARNING_INTERVAL_SECONDS):
        super().__init__()
        self._interval = interval
        self._gates: dict[tuple[int, str], Gate] = {}
        self._overflow = Gate(interval)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        held_back = self._gate(record).open()
        if held_back is None:
            return False
        record.msg = with_count(str(record.msg), held_back)
        return True

    def _gate(self, record: logging.LogRecord) -> Gate:
        key = (record.levelno, str(record.msg))
        gate = self._gates.get(key)
        if gate is None:
            if len(self._gates) >= MAX_TEMPLATES:
                return self._overflow
            gate = self._gates[key] = Gate(self._interval)
        return gate


def throttle_loggers(names: tuple[str, ...]) -> None:
    """Install `ThrottleRepeats` on each named logger, once however often this is called."""
    for name in names:
        logger = logging.getLogger(name)
        if not any(isinstance(f, ThrottleRepeats) for f in logger.filters):
            logger.addFilter(ThrottleRepeats())
