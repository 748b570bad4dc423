"""Keeping what users send out of the logs.

No log line holds event `data`, `deviceInfo` or a token: handlers log none of
them, and the access log names routes by template. User ids travel in query
strings and in `/users/{userId}/...` paths, so a logged path loses both
unless the operator turns on TRACKER_LOG_USER_IDS. A path may hold any
character a client percent-encodes: control characters (a NUL, a terminal's
escape) are logged escaped, so a log line stays one line of text.
"""

from __future__ import annotations

import re

USERS_PREFIX = "/users/"
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def loggable_path(path: str, log_user_ids: bool) -> str:
    path = CONTROL.sub(lambda found: f"\\x{ord(found.group()):02x}", path)
    if log_user_ids:
        return path
    path = path.partition("?")[0]
    if path.startswith(USERS_PREFIX):
        rest = path[len(USERS_PREFIX):].partition("/")[2]
        return f"{USERS_PREFIX}{{userId}}/{rest}" if rest else f"{USERS_PREFIX}{{userId}}"
    return path
