"""Per-value visit chains: for the visit dimensions broken down most, each visit's `prev`
among the same user's visits with the same value.

A breakdown by a visit dimension needs each value's distinct visitors in the window.
Counting them with `count(DISTINCT userId)` per value makes SQLite sort the window's
visits by value and build a set of user ids per value, which is most of such a read's
time. With `prev<Dim>` (the first movement time of the same user's previous visit with
the same value, in (first, id) order, or null), a value's visitors are its visits
starting in the window whose `prev<Dim>` is before it or null: exactly one per user, so
a sum, read from an index in the value's order (migration 0013), as `prev` does for the
totals.

A fold can give a visit an earlier first movement, another context (so another country
or device) or an earlier entry page view (so another source and channel); each changes
the chains of that user only. So after a fold, every user whose visits moved has its
chains worked out again from its visits, and only the visits whose links changed are
written.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

import apsw

# The dimensions with a chain, and each one's column.
CHAINED = {"source": "prevSource", "channel": "prevChannel", "country": "prevCountry",
           "device": "prevDevice"}

# :users, a JSON array of user ids: one statement for a fold's users (400 users one by one
# took 45 ms, at once 33 ms).
RELINK = f"""
UPDATE visits SET {", ".join(f"{column} = chained.{column}" for column in CHAINED.values())}
FROM (SELECT id, {", ".join(
          f"lag(first) OVER (PARTITION BY userId, {dimension} ORDER BY first, id) AS {column}"
          for dimension, column in CHAINED.items())}
      FROM visits WHERE userId IN (SELECT value FROM json_each(:users))) AS chained
WHERE visits.id = chained.id
  AND ({" OR ".join(f"visits.{column} IS NOT chained.{column}" for column in CHAINED.values())})
"""


def relink(conn: apsw.Connection, users: Iterable[str]) -> None:
    """Work out again the chains of each of these users (whose visits moved or changed)."""
    chosen = list(users)
    if chosen:
        conn.execute(RELINK, {"users": json.dumps(chosen)})
