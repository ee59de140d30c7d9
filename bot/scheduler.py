"""APScheduler jobs: one polling job per feed, kept in step with the feed list.

APScheduler stores jobs by reference and may pickle them (stack-probe §7), so jobs are module-level functions
whose only argument is a feed URL. What they need at run time (database, HTTP client, options) cannot be pickled;
`register_feed_jobs` keeps it here for them, once per process. Job settings (coalesce, max_instances, misfire
grace, jitter) are passed to every `add_job` with `replace_existing=True`, because a persistent job store keeps
the values a job was first stored with.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import timedelta

from apscheduler.schedulers.base import BaseScheduler

from bot.config import Settings
from bot.news.feeds import list_feeds, sync_sources
from bot.news.http import HttpClient
from bot.news.ingest import IngestOptions, run_ingest_pass
from bot.news.sources import configured_sources
from bot.storage import Database, utcnow

log = logging.getLogger(__name__)

FEED_JOB_PREFIX = "feed:"
SYNC_JOB_ID = "feeds:sync"
SYNC_SECONDS = 60  # feeds added or removed at run time get or lose their job within this time
MAX_JITTER_SECONDS = 300
START_SPREAD_SECONDS = 60  # first polls after start-up are spread over this, not fired all at once


@dataclass(frozen=True)
class _Runtime:
    scheduler: BaseScheduler
    settings: Settings
    database: Database
    http: HttpClient


_runtime: _Runtime | None = None


def register_feed_jobs(
    scheduler: BaseScheduler, settings: Settings, *, database: Database, http: HttpClient
) -> list[str]:
    """Seed the configured feeds, then add (or replace) one polling job per enabled feed and a sync job.

    Each feed job runs every FEED_POLL_MINUTES with jitter, one instance at a time, coalescing missed runs. The
    sync job re-reads the feed list every minute, so feeds added or removed through the service layer are picked
    up without a restart. Call it once at start-up, before `scheduler.start()`.

    Returns:
        The ids of the feed jobs, one per enabled feed.
    """
    global _runtime
    _runtime = _Runtime(scheduler, settings, database, http)
    sync_sources(database, configured_sources(settings.feeds))
    job_ids = _sync_jobs(_runtime, replace=True)
    scheduler.add_job(
        sync_feed_jobs,
        "interval",
        seconds=SYNC_SECONDS,
        id=SYNC_JOB_ID,
        name="sync feed jobs",
        replace_existing=True,
        coalesce=True,
        max_instances=1,
        misfire_grace_time=SYNC_SECONDS,
    )
    return job_ids


def _sync_jobs(runtime: _Runtime, *, replace: bool) -> list[str]:
    """Add a job for each enabled feed that has none (every feed when `replace`), remove jobs of removed feeds."""
    interval = runtime.settings.feed_poll_minutes * 60
    existing = {job.id for job in runtime.scheduler.get_jobs() if job.id.startswith(FEED_JOB_PREFIX)}
    wanted: list[str] = []
    for feed in list_feeds(runtime.database):
        job_id = FEED_JOB_PREFIX + feed.url
        wanted.append(job_id)
        if job_id in existing and not replace:
            continue
        runtime.scheduler.add_job(
            poll_feed,
            "interval",
            seconds=interval,
            jitter=min(MAX_JITTER_SECONDS, interval // 10),
            next_run_time=utcnow() + timedelta(seconds=random.uniform(0, min(START_SPREAD_SECONDS, interval))),
            args=[feed.url],
            id=job_id,
            name=f"poll {feed.name}",
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=max(1, interval // 2),
        )
        log.info("feed %s: polling every %d min", feed.url, interval // 60)
    for job_id in existing - set(wanted):
        runtime.scheduler.remove_job(job_id)
        log.info("feed %s: no longer polled", job_id.removeprefix(FEED_JOB_PREFIX))
    return wanted


async def poll_feed(feed_url: str) -> None:
    """Job: one ingestion pass over one feed (failures are recorded on the feed, not raised)."""
    if _runtime is None:
        log.error("feed %s: job ran before register_feed_jobs; skipped", feed_url)
        return
    options = IngestOptions.from_settings(_runtime.settings)
    await run_ingest_pass(_runtime.database, _runtime.http, options, feed_urls=[feed_url])


async def sync_feed_jobs() -> None:
    """Job: add jobs for newly added feeds and remove those of removed feeds."""
    if _runtime is None:
        log.error("feed job sync ran before register_feed_jobs; skipped")
        return
    _sync_jobs(_runtime, replace=False)
