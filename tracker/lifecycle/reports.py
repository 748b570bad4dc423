"""Email reports: subscriptions, and sending each due report once.

A report is sent at most once per (subscription, period), whichever worker
or process gets to it (the service's job in every worker, `tracker reports
send-now`): the send is claimed in the registry first, marked as being
handed over before the message goes to the mail server, and marked sent,
failed or unknown after; each mark is a change of the registry like any
other (`Store.write_registry`), so in cluster mode the nodes share them and a
report is sent once by the whole cluster. A failed send (the server could not be reached or
refused the message) is tried again after a back-off that doubles each time;
one that may have reached the server is never tried again, since a second
copy is worse than a missing one.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any, TypeVar
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from tracker.config import Config
from tracker.lifecycle import mailer, report_mail, report_periods
from tracker.lifecycle.mailer import MailRefused, MailUncertain, SmtpServer
from tracker.lifecycle.report_mail import Figures, Links
from tracker.lifecycle.report_periods import Period
from tracker.lifecycle.scheduler import now_ms
from tracker.ops.metrics import Metrics, NoMetrics
from tracker.storage import subscriptions
from tracker.storage.registry import RegistryFile, Site
from tracker.storage.store import Store
from tracker.storage.subscriptions import Send, Subscription

log = logging.getLogger("tracker.reports")
T = TypeVar("T")

LEASE_MS = 10 * 60 * 1000  # a claim outlives any SMTP conversation (each step times out in 60 s)
MAX_ATTEMPTS = 8
MAX_BACKOFF_MS = 6 * 3600 * 1000
UNSUBSCRIBE_PATH = "/reports/unsubscribe/"


@dataclass(frozen=True)
class Outbox:
    """Where reports go out from: the mail server, the sender, the links' base address."""

    server: SmtpServer
    sender: str
    base_url: str
    retry_ms: int


def outbox(config: Config) -> Outbox | None:
    """The configured outbox; None when TRACKER_SMTP_URL is unset (no reports are sent)."""
    if not config.smtp_url:
        return None
    return Outbox(SmtpServer.parse(config.smtp_url), config.mail_from, config.base_url,
                  config.report_retry_seconds * 1000)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def subscribe(sites: RegistryFile, site: Site, email: str, every: str, now: int) -> Subscription:
    """A new subscription; the same address and period twice is a registry.Conflict."""
    with sites.transaction() as conn:
        return subscriptions.add(conn, site.number, email, every, now)


def unsubscribe(sites: RegistryFile, site: Site, subscription: int) -> bool:
    with sites.transaction() as conn:
        return subscriptions.drop(conn, site.number, subscription)


def unsubscribe_by_token(sites: RegistryFile, token: str) -> Subscription | None:
    """Cancel the subscription whose report carried `token`; None for a token of no live one."""
    with sites.transaction() as conn:
        found = subscriptions.by_unsubscribe(conn, token_hash(token))
        if found is not None:
            subscriptions.drop(conn, found.site, found.id)
        return found


def of_site(sites: RegistryFile, site: Site) -> list[tuple[Subscription, Send | None]]:
    """The site's subscriptions, each with its latest send."""
    conn = sites.connection()
    return [(found, subscriptions.latest_send(conn, found.id))
            for found in subscriptions.of_site(conn, site.number)]


def zone_of(site: Site) -> ZoneInfo:
    return ZoneInfo(site.timezone)


async def preview(store: Store, site: Site, every: str, now: int, base_url: str) -> str:
    """The text of the site's report for the last complete period, as a subscriber gets it."""
    period = report_periods.last_complete(every, zone_of(site), now)
    figures = await report_mail.gather(store, site, period)
    return report_mail.text(figures, Links(dashboard_url(base_url, site, period), None))


def dashboard_url(base_url: str, site: Site, period: Period) -> str:
    """The dashboard on the report's days (`to` is the last day, as the dashboard takes it)."""
    query = urlencode({"site": site.id, "from": period.first_day.isoformat(),
                       "to": period.last_day.isoformat(), "tz": site.timezone})
    return f"{base_url}/?{query}"


@dataclass
class Outcome:
    """What one run did: reports sent, sends that failed, and ones already claimed or done."""

    sent: int = 0
    failed: int = 0
    skipped: int = 0


async def send_due(store: Store, box: Outbox, metrics: Metrics | NoMetrics, now: int,
                   only: Site | None = None, scheduled: bool = True) -> Outcome:
    """Send every report due by `now` and not sent yet, of every live site or of `only`.
    Scheduled, a period is due from its send time (Monday or the 1st, 08:00 on the site's
    clock); otherwise (`tracker reports send-now`) as soon as it is complete."""
    registry = store.registry
    loop = asyncio.get_running_loop()

    def write(change: Callable[..., T], *args: Any) -> T:
        """A registry change from the thread talking to the mail server."""
        return asyncio.run_coroutine_threadsafe(store.write_registry(change, *args), loop).result()

    await store.write_registry(_give_up_stale, registry, now)
    outcome = Outcome()
    figures: dict[tuple[int, str], Figures] = {}
    sites = [only] if only is not None else registry.sites().live()
    for site in sites:
        for subscription in await store.pool.run(_subscriptions_of, registry, site):
            period = _due(subscription.every, zone_of(site), now, scheduled)
            token = secrets.token_urlsafe(24)
            if not await store.write_registry(_claim, registry, subscription, period, now,
                                              token_hash(token)):
                outcome.skipped += 1
                continue
            key = (site.number, subscription.every)
            try:
                if key not in figures:
                    figures[key] = await report_mail.gather(store, site, period)
                message = report_mail.compose(
                    figures[key], box.sender, subscription.email,
                    Links(dashboard_url(box.base_url, site, period),
                          box.base_url + UNSUBSCRIBE_PATH + token), now)
            except Exception as error:  # nothing went out: a failure like any other, retried
                log.exception("report %d of site %s could not be made", subscription.id, site.id)
                await store.write_registry(_failed, registry, subscription, period, now, box.retry_ms,
                                           f"the report could not be made: {error}")
                metrics.report_failed()
                outcome.failed += 1
                continue
            if await asyncio.to_thread(_deliver, write, registry, box, subscription, period, message):
                metrics.report_sent()
                outcome.sent += 1
            else:
                metrics.report_failed()
                outcome.failed += 1
    return outcome


def _due(every: str, zone: ZoneInfo, now: int, scheduled: bool) -> Period:
    if scheduled:
        return report_periods.latest_due(every, zone, now)
    return report_periods.last_complete(every, zone, now)


def _deliver(write: Callable[..., Any], registry: RegistryFile, box: Outbox, subscription: Subscription,
             period: Period, message: EmailMessage) -> bool:
    """Hand the message to the mail server, recording each step with `write`; whether it was
    taken."""
    def mark(status: str, lease: int = 0, error: str | None = None) -> None:
        write(_move, registry, subscription.id, period.start, status, now_ms(), lease, error)

    try:
        mailer.send(box.server, message, lambda: mark("data", now_ms() + LEASE_MS))
    except MailRefused as error:
        log.warning("report %d not sent, tried again later: %s", subscription.id, error)
        write(_failed, registry, subscription, period, now_ms(), box.retry_ms, str(error))
        return False
    except MailUncertain as error:
        log.warning("report %d may not have been sent, and is not tried again: %s",
                    subscription.id, error)
        mark("unknown", error=str(error))
        return False
    mark("sent")
    return True


def _move(registry: RegistryFile, subscription: int, period: int, status: str, now: int, lease: int,
          error: str | None) -> None:
    with registry.transaction() as conn:
        subscriptions.move(conn, subscription, period, status, now, lease, error)


def backoff_ms(retry_ms: int, attempts: int) -> int:
    """The wait after the `attempts`-th failed try: doubled each time, at most 6 hours."""
    return min(retry_ms * 2 ** (attempts - 1), MAX_BACKOFF_MS)


def _failed(registry: RegistryFile, subscription: Subscription, period: Period, now: int,
            retry_ms: int, error: str) -> None:
    with registry.transaction() as conn:
        held = subscriptions.send_of(conn, subscription.id, period.start)
        attempts = held.attempts if held is not None else 1
        subscriptions.move(conn, subscription.id, period.start, "failed", now,
                           now + backoff_ms(retry_ms, attempts), error[:500])


def _give_up_stale(registry: RegistryFile, now: int) -> int:
    with registry.transaction() as conn:
        return subscriptions.give_up_stale(conn, now)


def _subscriptions_of(registry: RegistryFile, site: Site) -> list[Subscription]:
    return subscriptions.of_site(registry.connection(), site.number)


def _claim(registry: RegistryFile, subscription: Subscription, period: Period, now: int,
           unsubscribe_hash: str) -> bool:
    with registry.transaction() as conn:
        return subscriptions.claim(conn, subscription.id, period.start, now, now + LEASE_MS,
                                   MAX_ATTEMPTS, unsubscribe_hash)
