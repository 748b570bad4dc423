"""Anonymous visitors' daily salts shared by the nodes, in the bucket `tracker_salts`.

An anonymous visitor's id is a keyed hash under the day's salt
(`enrich/visitor_ids.py`); with a salt per node, a visitor whose requests
reach two nodes would count as two. So in cluster mode the day's salt is a
key of the bucket (`day-YYYY-MM-DD`): the first node to need it creates it
(a create fails when the key exists) and every other node reads the
winner's. The bucket forgets an entry SALT_SECONDS after it was written, so
a day's salt is gone from the cluster about a day after its day ends, and
each node forgets its copy as the single node does (`prune`).

`for_time` is called on the event loop for every anonymous event, so it
answers from memory only: `ensure` (at start, then from the node's loop)
fetches today's salt, and in the last hour of a day the next day's too. A
salt not yet fetched (the bucket did not answer for an hour) makes ingest
answer 503 rather than count visitors under a salt of the node's own.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import nats.errors
import nats.js.errors
from nats.js.kv import KeyValue

from tracker.cluster.publish import StreamUnavailable
from tracker.enrich.visitor_ids import DAY_MS, DAYS_KEPT_AFTER_END, SALT_BYTES, Salts, _day_name

# The next day's salt is fetched this long before the day starts.
AHEAD_MS = 3_600_000


class SharedSalts(Salts):
    """Salts of the cluster's bucket, with the single node's interface."""

    def __init__(self, bucket: KeyValue, data_dir: str | Path):
        super().__init__(data_dir)
        self._bucket = bucket

    def for_time(self, now_ms: int) -> bytes:
        salt = self._by_day.get(now_ms // DAY_MS)
        if salt is None:
            raise StreamUnavailable("the day's anonymous-id salt is not known yet; retry")
        return salt

    async def ensure(self, now_ms: int) -> None:
        """Have today's salt in memory, and the next day's within AHEAD_MS of midnight."""
        days = {now_ms // DAY_MS, (now_ms + AHEAD_MS) // DAY_MS}
        for day in sorted(days):
            if day not in self._by_day:
                self._by_day[day] = await self._fetch(day)

    async def _fetch(self, day: int) -> bytes:
        key = f"day-{_day_name(day)}"
        try:
            await self._bucket.create(key, secrets.token_bytes(SALT_BYTES))
        except nats.js.errors.KeyWrongLastSequenceError:
            pass  # another node made it first: use its salt
        entry = await self._bucket.get(key)
        if entry.value is None or len(entry.value) != SALT_BYTES:
            raise StreamUnavailable(f"the salt {key} in the bucket is not a salt")
        return entry.value

    def prune(self, now_ms: int) -> int:
        """Forget salts whose day ended two days or more ago (the bucket deletes its own)."""
        oldest_kept = now_ms // DAY_MS - DAYS_KEPT_AFTER_END
        with self._lock:
            for day in [day for day in self._by_day if day < oldest_kept]:
                del self._by_day[day]
        return 0


ERRORS = (TimeoutError, nats.errors.Error, nats.js.errors.Error, StreamUnavailable)
