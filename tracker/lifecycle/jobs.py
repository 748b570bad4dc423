"""The table of background jobs the service runs (see scheduler.py for how they run)."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool

from tracker.config import Config
from tracker.enrich.visitor_ids import Salts
from tracker.lifecycle import archiving, expiry, reports, sites
from tracker.lifecycle.erasures import Erasures
from tracker.lifecycle.scheduler import Job, now_ms
from tracker.ops.metrics import Metrics, NoMetrics
from tracker.storage import checkpoints
from tracker.storage.store import Store


def lifecycle_jobs(store: Store, config: Config, metrics: Metrics | NoMetrics,
                   erasures: Erasures, salts: Salts) -> list[Job]:
    every = config.alarm_interval_seconds

    async def expire_sessions() -> int:
        expired = await expiry.expire_everywhere(store, now_ms() - config.session_ttl_seconds * 1000)
        metrics.sessions_expired(expired)
        return expired

    async def archive_movements() -> int:
        await archiving.sweep_everywhere(store)
        if config.retention_days is None:
            return 0
        archived = await archiving.archive_everywhere(
            store, archiving.cutoff(now_ms(), config.retention_days))
        metrics.movements_archived(archived)
        return archived

    async def truncate_idle_wals() -> int:
        return await checkpoints.truncate_idle(store)

    async def prune_salts() -> int:
        return await run_in_threadpool(salts.prune, now_ms())

    async def delete_sites() -> int:
        return await sites.delete_marked(store)

    box = reports.outbox(config)

    async def send_reports() -> int:
        if box is None:
            return 0
        return (await reports.send_due(store, box, metrics, now_ms())).sent

    return [
        Job("resume_erasures", erasures.resume_running, every,
            "finished {count} erasures left running"),
        Job("expire_sessions", expire_sessions, every, "expired {count} idle sessions"),
        Job("archive_movements", archive_movements, every, "archived {count} movements"),
        Job("truncate_wal", truncate_idle_wals, every, "truncated {count} idle write-ahead logs"),
        Job("prune_salts", prune_salts, every, "deleted {count} anonymous-id salts past their time"),
        Job("delete_sites", delete_sites, every, "deleted {count} sites marked for deletion"),
        Job("send_reports", send_reports, every, "sent {count} email reports"),
    ]
