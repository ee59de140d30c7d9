"""APScheduler jobs: polling each feed, fetching the backlog's pages, processing new articles, serving each
subscription's digests, and resuming the outbox. Jobs live in a SQLAlchemy job store on the bot's own database,
so they survive restarts.

APScheduler stores jobs by reference and may pickle them (stack-probe §7), so jobs are module-level functions
whose only argument is a feed URL or a subscription id. What they need at run time (database, HTTP client, the
service) cannot be pickled: the `register_*` functions keep it in this process's one `JobContext`, and a job that
finds its part missing logs one line and skips. Job settings (coalesce, max_instances, misfire grace, jitter) are
passed to every `add_job` with `replace_existing=True`, because a persistent job store keeps the values a job was
first stored with.

`register_jobs` adds everything the scheduler's process runs; the feed, digest, outbox and processing parts can
be registered on their own (`python -m bot ingest` polls feeds only).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, timedelta
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.schedulers.base import BaseScheduler

from bot.config import Settings
from bot.digests.schedule import Schedule
from bot.digests.subscriptions import active_schedules
from bot.news.backfill import run_backfill_pass
from bot.news.feeds import list_feeds, sync_sources
from bot.news.http import HttpClient
from bot.news.ingest import IngestOptions, run_ingest_pass
from bot.news.sources import configured_sources
from bot.ops.metrics import watch_scheduler
from bot.storage import Database, utcnow
from bot.tasks import ProcessingBusyError

if TYPE_CHECKING:
    from bot.queue import ProcessingQueue
    from bot.service import NewsService

log = logging.getLogger(__name__)

FEED_JOB_PREFIX = "feed:"
SYNC_JOB_ID = "feeds:sync"
BACKFILL_JOB_ID = "backlog:pages"
BACKFILL_SECONDS = 60  # a pass starts this often (never two at once); each is capped per feed
SYNC_SECONDS = 60  # feeds added or removed at run time get or lose their job within this time
MAX_JITTER_SECONDS = 300
START_SPREAD_SECONDS = 60  # first polls after start-up are spread over this, not fired all at once
DIGEST_JOB_PREFIX = "digest:"
DIGEST_SYNC_JOB_ID = "digests:sync"
OUTBOX_JOB_ID = "outbox:resume"
PROCESS_JOB_ID = "articles:process"
ALERTS_JOB_ID = "alerts:check"
ALERTS_SECONDS = 60  # a story that crosses a channel's alert rule is posted within this time
OUTBOX_SECONDS = 30  # pending deliveries (after a crash or a platform error) are retried this often
PROCESS_SECONDS = 60  # newly ingested articles join stories within this time


P = ParamSpec("P")
T = TypeVar("T")


def job_kind(job_id: str) -> str:
    """What a job does, from its id: "feed" or "digest" for the per-feed and per-subscription jobs, else the id
    itself (a fixed name such as "outbox:resume"). A label with few values, for metrics and the status page."""
    for prefix in (FEED_JOB_PREFIX, DIGEST_JOB_PREFIX):
        if job_id.startswith(prefix):
            return prefix.removesuffix(":")
    return job_id


def _job(function: Callable[P, Coroutine[Any, Any, None]]) -> Callable[P, Coroutine[Any, Any, None]]:
    """Mark a job function: a run cut short by shutdown ends with one line, not an error and a traceback.

    The work a job does is safe to interrupt (nothing is marked done before it is), and the job runs again at its
    next due time after the restart.
    """

    @functools.wraps(function)
    async def run(*args: P.args, **kwargs: P.kwargs) -> None:
        try:
            await function(*args, **kwargs)
        except asyncio.CancelledError:
            log.info("job %s%s stopped by shutdown", function.__name__, args, extra={"job": function.__name__})

    return run


@dataclass(frozen=True)
class FeedJobs:
    """What the feed jobs need: the scheduler they live on, the settings, the database and the HTTP client."""

    scheduler: BaseScheduler
    settings: Settings
    database: Database
    http: HttpClient


@dataclass(frozen=True)
class ServiceJobs:
    """What the digest, outbox and processing jobs need: the scheduler they live on and the service."""

    scheduler: BaseScheduler
    service: NewsService


@dataclass
class JobContext:
    """What this process's jobs need at run time, filled in by the `register_*` functions.

    Attributes:
        feeds: for feed polling, feed sync and the backlog backfill.
        service: for digests, the outbox and processing.
        processing: the task queue that processors serve, or None when model work runs in this process.
    """

    feeds: FeedJobs | None = None
    service: ServiceJobs | None = None
    processing: ProcessingQueue | None = None


CONTEXT = JobContext()  # one per process: jobs are found by reference, so what they need is found here


def _needed(part: T | None, job: str) -> T | None:
    """`part` of the context, or None (logged once per run, the same way for every job) when it is missing."""
    if part is None:
        log.error("job %s ran before its part was registered in this process; skipped", job, extra={"job": job})
    return part


def register_feed_jobs(
    scheduler: BaseScheduler, settings: Settings, *, database: Database, http: HttpClient
) -> list[str]:
    """Seed the configured feeds, then add (or replace) one polling job per enabled feed, a sync job and the
    backlog backfill job.

    Each feed job runs every FEED_POLL_MINUTES with jitter, one instance at a time, coalescing missed runs. The
    sync job re-reads the feed list every minute, so feeds added or removed through the service layer are picked
    up without a restart. The backfill job fetches the pages of new feeds' backlog in the background, one capped
    pass at a time (`bot.news.backfill`). Call it once at start-up, before `scheduler.start()`.

    Returns:
        The ids of the feed jobs, one per enabled feed.
    """
    CONTEXT.feeds = FeedJobs(scheduler, settings, database, http)
    sync_sources(database, configured_sources(settings.feeds))
    job_ids = _sync_jobs(CONTEXT.feeds, replace=True)
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
    scheduler.add_job(
        backfill_backlog,
        "interval",
        seconds=BACKFILL_SECONDS,
        id=BACKFILL_JOB_ID,
        name="fetch backlog pages",
        replace_existing=True,
        coalesce=True,
        max_instances=1,
        misfire_grace_time=BACKFILL_SECONDS,
    )
    return job_ids


def _sync_jobs(runtime: FeedJobs, *, replace: bool) -> list[str]:
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
        log.info("feed %s: polling every %d min", feed.url, interval // 60, extra={"feed": feed.url, "job": job_id})
    for job_id in existing - set(wanted):
        runtime.scheduler.remove_job(job_id)
        url = job_id.removeprefix(FEED_JOB_PREFIX)
        log.info("feed %s: no longer polled", url, extra={"feed": url, "job": job_id})
    return wanted


@_job
async def poll_feed(feed_url: str) -> None:
    """Job: one ingestion pass over one feed (failures are recorded on the feed, not raised)."""
    feeds = _needed(CONTEXT.feeds, f"poll_feed({feed_url})")
    if feeds is None:
        return
    options = IngestOptions.from_settings(feeds.settings)
    report = await run_ingest_pass(feeds.database, feeds.http, options, feed_urls=[feed_url])
    if report.total("new") and CONTEXT.processing is not None:
        await CONTEXT.processing.request()  # processors start on new articles now, not at the next minute


@_job
async def backfill_backlog() -> None:
    """Job: one backfill pass over the backlog articles still waiting for their page."""
    feeds = _needed(CONTEXT.feeds, "backfill_backlog")
    if feeds is not None:
        await run_backfill_pass(feeds.database, feeds.http, IngestOptions.from_settings(feeds.settings))


@_job
async def sync_feed_jobs() -> None:
    """Job: add jobs for newly added feeds and remove those of removed feeds."""
    feeds = _needed(CONTEXT.feeds, "sync_feed_jobs")
    if feeds is not None:
        _sync_jobs(feeds, replace=False)


def build_scheduler(database: Database) -> AsyncIOScheduler:
    """A scheduler whose jobs persist in the bot's database (table ``apscheduler_jobs``), in UTC, with its runs
    and misfires counted for /metrics."""
    scheduler = AsyncIOScheduler(jobstores={"default": SQLAlchemyJobStore(engine=database.engine)}, timezone=UTC)
    watch_scheduler(scheduler, job_kind)
    return scheduler


def register_jobs(
    scheduler: BaseScheduler,
    settings: Settings,
    *,
    service: NewsService,
    http: HttpClient,
    processing: ProcessingQueue | None = None,
) -> None:
    """Everything the scheduler's process runs: feeds, digests, the outbox and article processing."""
    register_feed_jobs(scheduler, settings, database=service.database, http=http)
    register_digest_jobs(scheduler, service)
    register_outbox_job(scheduler, service)
    register_processing_job(scheduler, service, processing=processing)


_EVERY = {"coalesce": True, "max_instances": 1, "replace_existing": True}


def register_digest_jobs(scheduler: BaseScheduler, service: NewsService) -> list[str]:
    """Add one job per active subscription, and the job that keeps them in step with subscriptions.

    Digest jobs coalesce missed runs and have no misfire limit: after downtime the latest due occurrence is served
    once (its outbox key makes a second run a no-op), and nothing due is skipped.

    Returns:
        The ids of the digest jobs, one per active subscription.
    """
    CONTEXT.service = ServiceJobs(scheduler, service)
    scheduler.add_job(sync_digest_jobs, "interval", seconds=SYNC_SECONDS, id=DIGEST_SYNC_JOB_ID, **_EVERY)
    scheduler.add_job(check_alerts, "interval", seconds=ALERTS_SECONDS, id=ALERTS_JOB_ID, **_EVERY)
    return _sync_digest_jobs(CONTEXT.service)


def register_outbox_job(scheduler: BaseScheduler, service: NewsService) -> str:
    """Add the job that resends deliveries left pending by a crash or a platform error; returns its id."""
    CONTEXT.service = ServiceJobs(scheduler, service)
    scheduler.add_job(resume_outbox, "interval", seconds=OUTBOX_SECONDS, id=OUTBOX_JOB_ID, **_EVERY)
    return OUTBOX_JOB_ID


def register_processing_job(
    scheduler: BaseScheduler, service: NewsService, *, processing: ProcessingQueue | None = None
) -> str:
    """Add the job that processes new articles: in this process, or by asking the task queue's processors when
    `processing` is given (feed polls then ask too, as soon as they store news). Returns its id."""
    CONTEXT.service = ServiceJobs(scheduler, service)
    CONTEXT.processing = processing
    scheduler.add_job(process_articles, "interval", seconds=PROCESS_SECONDS, id=PROCESS_JOB_ID, **_EVERY)
    return PROCESS_JOB_ID


def _sync_digest_jobs(context: ServiceJobs) -> list[str]:
    """Give each active subscription of a platform this process publishes to a job on its current schedule;
    drop jobs of removed or paused ones. (Console subscriptions are served by `python -m bot digest`.)"""
    scheduler, service = context.scheduler, context.service
    existing = {job.id: job for job in scheduler.get_jobs() if job.id.startswith(DIGEST_JOB_PREFIX)}
    wanted = []
    now = utcnow()
    for each in active_schedules(service.database, service.outbox.publishers):
        subscription_id, text, timezone, subscribed_at = each.id, each.schedule, each.timezone, each.created_at
        job_id = f"{DIGEST_JOB_PREFIX}{subscription_id}"
        wanted.append(job_id)
        name = f"digest {text} ({timezone})"  # a changed schedule changes the name, and the job is replaced
        job = existing.get(job_id)
        if job is not None and job.name == name:
            continue
        schedule = Schedule.parse(text, timezone)
        # An occurrence due between (re)subscribing and this sync (or before the scheduler first ran) is served now,
        # not skipped: the job starts from it; otherwise the trigger's next time applies.
        first_due = schedule.next_occurrence(subscribed_at)
        scheduler.add_job(
            serve_digest,
            schedule.trigger(),
            args=[subscription_id],
            id=job_id,
            name=name,
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,
            **({"next_run_time": first_due} if first_due <= now else {}),
        )
        log.info(
            "subscription %s: digests %s",
            subscription_id,
            name.removeprefix("digest "),
            extra={"subscription": subscription_id, "job": job_id},
        )
    for job_id in set(existing) - set(wanted):
        scheduler.remove_job(job_id)
        subscription = job_id.removeprefix(DIGEST_JOB_PREFIX)
        log.info(
            "subscription %s: no digest job any more", subscription, extra={"subscription": subscription, "job": job_id}
        )
    return wanted


@_job
async def serve_digest(subscription_id: int) -> None:
    """Job: serve the subscription's due occurrence (compose, record in the outbox, send)."""
    context = _needed(CONTEXT.service, f"serve_digest({subscription_id})")
    if context is not None:
        await context.service.dispatcher.serve_occurrence(subscription_id)


@_job
async def sync_digest_jobs() -> None:
    """Job: follow subscriptions created, changed, paused or removed through any process."""
    context = _needed(CONTEXT.service, "sync_digest_jobs")
    if context is not None:
        _sync_digest_jobs(context)


@_job
async def resume_outbox() -> None:
    """Job: send deliveries left pending by a crash or a platform error, once their backoff has passed."""
    context = _needed(CONTEXT.service, "resume_outbox")
    if context is not None:
        await context.service.outbox.resume()


@_job
async def check_alerts() -> None:
    """Job: post breaking alerts for stories that crossed a channel's alert rule (each story once per channel)."""
    context = _needed(CONTEXT.service, "check_alerts")
    if context is not None:
        await context.service.serve_alerts()


@_job
async def process_articles() -> None:
    """Job: tag, embed and cluster articles stored since the last run (or ask the processors to)."""
    if CONTEXT.processing is not None:
        await CONTEXT.processing.request()
        return
    context = _needed(CONTEXT.service, "process_articles")
    if context is None:
        return
    try:
        report = await context.service.process_new_articles()
    except ProcessingBusyError:
        log.info("articles are being processed by another process (python -m bot process?); skipped")
        return
    if report.articles:
        log.info("processed %d new articles into stories", report.articles)
