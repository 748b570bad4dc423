"""Nodes authenticate to each other with the cluster secret: an HMAC-SHA256 of what they send.

A request between nodes carries `X-Tracker-Cluster: <ms>.<hex mac>`, the
mac taken over the time, the method, the path and the body. A node accepts
it within MAX_SKEW_MS of its own clock, so a recorded request cannot be
played back later; the admin token never travels between nodes. Write jobs
put in the stream are signed the same way (over their bytes). Keys every
node must share (the one share links' password cookies are signed with) are
derived from the secret too (`derived_key`), so nothing more is configured.
"""

from __future__ import annotations

import hashlib
import hmac
import time

HEADER = "x-tracker-cluster"
MAX_SKEW_MS = 60_000


def mac(secret: str, *parts: bytes) -> str:
    digest = hmac.new(secret.encode(), digestmod=hashlib.sha256)
    for part in parts:
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def sign_request(secret: str, method: str, path: str, body: bytes, now_ms: int | None = None) -> str:
    at = str(int(time.time() * 1000) if now_ms is None else now_ms)
    return f"{at}.{mac(secret, at.encode(), method.encode(), path.encode(), body)}"


def request_is_signed(secret: str, header: str | None, method: str, path: str, body: bytes) -> bool:
    if not header or "." not in header:
        return False
    at, _, given = header.partition(".")
    if not at.isdigit() or abs(int(at) - time.time() * 1000) > MAX_SKEW_MS:
        return False
    expected = mac(secret, at.encode(), method.encode(), path.encode(), body)
    return hmac.compare_digest(given, expected)


def sign_job(secret: str, work: bytes) -> str:
    return mac(secret, b"job", work)


def job_is_signed(secret: str, work: bytes, given: str) -> bool:
    return hmac.compare_digest(given, sign_job(secret, work))


def derived_key(secret: str, purpose: str) -> bytes:
    """A key for one purpose, the same on every node, that tells nothing of the secret."""
    return hmac.new(secret.encode(), b"tracker key:" + purpose.encode(), hashlib.sha256).digest()
