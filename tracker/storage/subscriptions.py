"""Email report subscriptions and their sends, as the registry keeps them.

A send is claimed by inserting its (subscription, period) row, or by taking
over one whose claim lapsed before the message was handed to the mail server,
or a failed one whose back-off has passed: under the registry's write lock,
so one worker of one process gets it. Once the server is being given the
message the row says so first (`data`): after a crash there it is never sent
again, since the server may have taken it. Each claim stores the hash of the
unsubscribe token its message carries, so a link works without signing in
while the registry holds nothing that could forge one. What a report holds
and when it is due is tracker/lifecycle/reports.py's.
"""

from __future__ import annotations

from typing import NamedTuple

import apsw

from tracker.storage.registry import Conflict

ADD = """
INSERT INTO report_subscriptions(site, email, every, created) VALUES (:site, :email, :every, :created)
"""
OF_SITE = """
SELECT id, site, email, every, created FROM report_subscriptions WHERE site = ? ORDER BY id
"""
BY_ID = "SELECT id, site, email, every, created FROM report_subscriptions WHERE id = ?"
DROP = "DELETE FROM report_subscriptions WHERE site = ? AND id = ?"
DROP_SENDS = "DELETE FROM report_sends WHERE subscription = ?"

CLAIM = """
INSERT INTO report_sends(subscription, period, status, attempts, lease, changed, unsubscribe)
VALUES (:subscription, :period, 'sending', 1, :lease, :now, :unsubscribe)
ON CONFLICT(subscription, period) DO UPDATE SET
  status = 'sending', attempts = attempts + 1, lease = :lease, changed = :now, error = NULL,
  unsubscribe = :unsubscribe
WHERE (status = 'failed' AND lease <= :now AND attempts < :attempts)
   OR (status = 'sending' AND lease <= :now)
"""
MOVE = """
UPDATE report_sends SET status = :status, lease = :lease, changed = :now, error = :error
WHERE subscription = :subscription AND period = :period AND status IN ('sending', 'data')
"""
SEND_OF = """
SELECT period, status, attempts, lease, error FROM report_sends WHERE subscription = ? AND period = ?
"""
LATEST_SEND = """
SELECT period, status, attempts, lease, error FROM report_sends WHERE subscription = ?
ORDER BY period DESC LIMIT 1
"""
BY_UNSUBSCRIBE = """
SELECT s.id, s.site, s.email, s.every, s.created FROM report_sends r
JOIN report_subscriptions s ON s.id = r.subscription WHERE r.unsubscribe = ?
"""
# A send left `data` by a process that died: the server may have the message, so it is
# never tried again; `unknown` says so to whoever looks.
GIVE_UP_STALE = """
UPDATE report_sends SET status = 'unknown', changed = :now,
  error = 'the sending process stopped while the server was being given the message'
WHERE status = 'data' AND lease <= :now
"""


class Subscription(NamedTuple):
    id: int
    site: int
    email: str
    every: str  # week or month
    created: int


class Send(NamedTuple):
    period: int  # the start of the period the report covers, ms
    status: str
    attempts: int
    lease: int
    error: str | None


def add(conn: apsw.Connection, site: int, email: str, every: str, now: int) -> Subscription:
    try:
        conn.execute(ADD, {"site": site, "email": email, "every": every, "created": now})
    except apsw.ConstraintError:
        raise Conflict(f"this address gets the site's {every}ly report already") from None
    return Subscription(conn.last_insert_rowid(), site, email, every, now)


def of_site(conn: apsw.Connection, site: int) -> list[Subscription]:
    return [Subscription(*row) for row in conn.execute(OF_SITE, (site,))]


def by_id(conn: apsw.Connection, subscription: int) -> Subscription | None:
    found = conn.execute(BY_ID, (subscription,)).fetchall()
    return Subscription(*found[0]) if found else None


def drop(conn: apsw.Connection, site: int, subscription: int) -> bool:
    conn.execute(DROP, (site, subscription))
    dropped = conn.changes() > 0
    conn.execute(DROP_SENDS, (subscription,))
    return dropped


def claim(conn: apsw.Connection, subscription: int, period: int, now: int, lease_until: int,
          attempts: int, unsubscribe_hash: str) -> bool:
    """Whether this caller now holds the send (in the caller's write transaction)."""
    conn.execute(CLAIM, {"subscription": subscription, "period": period, "now": now,
                         "lease": lease_until, "attempts": attempts,
                         "unsubscribe": unsubscribe_hash})
    return conn.changes() > 0


def move(conn: apsw.Connection, subscription: int, period: int, status: str, now: int,
         lease: int = 0, error: str | None = None) -> None:
    """A held send's next state: data, sent, failed (tried again at `lease`) or unknown."""
    conn.execute(MOVE, {"subscription": subscription, "period": period, "status": status,
                        "now": now, "lease": lease, "error": error})


def send_of(conn: apsw.Connection, subscription: int, period: int) -> Send | None:
    found = conn.execute(SEND_OF, (subscription, period)).fetchall()
    return Send(*found[0]) if found else None


def latest_send(conn: apsw.Connection, subscription: int) -> Send | None:
    found = conn.execute(LATEST_SEND, (subscription,)).fetchall()
    return Send(*found[0]) if found else None


def by_unsubscribe(conn: apsw.Connection, token_hash: str) -> Subscription | None:
    """The subscription whose report carried the unsubscribe token with this hash."""
    found = conn.execute(BY_UNSUBSCRIBE, (token_hash,)).fetchall()
    return Subscription(*found[0]) if found else None


def give_up_stale(conn: apsw.Connection, now: int) -> int:
    conn.execute(GIVE_UP_STALE, {"now": now})
    return conn.changes()
