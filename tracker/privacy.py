"""Keeping what users send out of the logs.

No log line holds event `data`, `deviceInfo` or a token: handlers log none of
them, and uvicorn's access log never sees headers. User and session ids travel
in query strings and in `/users/{userId}/...` paths, so unless the operator
turns on TRACKER_LOG_USER_IDS, logged paths lose their query string and the
user id of those paths.
"""

from __future__ import annotations

import logging

from tracker.config import Config

ACCESS_LOGGER = "uvicorn.access"
USERS_PREFIX = "/users/"


def loggable_path(path: str, log_user_ids: bool) -> str:
    if log_user_ids:
        return path
    path = path.partition("?")[0]
    if path.startswith(USERS_PREFIX):
        rest = path[len(USERS_PREFIX):].partition("/")[2]
        return f"{USERS_PREFIX}{{userId}}/{rest}" if rest else f"{USERS_PREFIX}{{userId}}"
    return path


class RedactAccessLog(logging.Filter):
    """Rewrites the path of uvicorn's access log records (client, method, path, version, status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
            record.args = (args[0], args[1], loggable_path(args[2], False), args[3], args[4])
        return True


def apply_log_privacy(config: Config) -> None:
    access = logging.getLogger(ACCESS_LOGGER)
    for old in [f for f in access.filters if isinstance(f, RedactAccessLog)]:
        access.removeFilter(old)
    if not config.log_user_ids:
        access.addFilter(RedactAccessLog())
