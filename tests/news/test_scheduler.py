"""Feed jobs: one per enabled feed, with the safety settings, picklable, kept in step with the feed list."""

from __future__ import annotations

import pickle
from collections.abc import AsyncIterator
from datetime import UTC

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import func, select

from bot.config import Settings
from bot.news.feeds import add_feed, remove_feed
from bot.news.http import HttpClient
from bot.scheduler import (
    BACKFILL_JOB_ID,
    FEED_JOB_PREFIX,
    SYNC_JOB_ID,
    backfill_backlog,
    poll_feed,
    register_feed_jobs,
    sync_feed_jobs,
)
from bot.storage import Article, Database, TextKind
from tests.news.conftest import fast_policy
from tests.news.feeds import Item, article_page, rss
from tests.news.server import FeedServer


@pytest.fixture
async def scheduler() -> AsyncIterator[AsyncIOScheduler]:
    """A started but paused scheduler: jobs are registered and inspected, never run by it."""
    scheduler = AsyncIOScheduler(timezone=UTC)
    scheduler.start(paused=True)
    yield scheduler
    scheduler.shutdown(wait=False)


def settings_for(*urls: str) -> Settings:
    return Settings(_env_file=None, feeds=",".join(urls), feed_poll_minutes=10)


async def test_one_job_per_feed_with_safety_settings(sqlite_database: Database, scheduler: AsyncIOScheduler, http):
    """Each enabled feed gets an interval job with jitter, coalescing, one instance, and a sync job exists."""
    urls = ["http://127.0.0.1:1/a.rss", "http://127.0.0.1:1/b.rss"]
    ids = register_feed_jobs(scheduler, settings_for(*urls), database=sqlite_database, http=http)
    assert sorted(ids) == [FEED_JOB_PREFIX + url for url in urls]
    job = scheduler.get_job(FEED_JOB_PREFIX + urls[0])
    assert job.args == (urls[0],)
    assert job.trigger.interval.total_seconds() == 600
    assert job.trigger.jitter == 60
    assert (job.coalesce, job.max_instances, job.misfire_grace_time) == (True, 1, 300)
    assert scheduler.get_job(SYNC_JOB_ID) is not None
    backfill = scheduler.get_job(BACKFILL_JOB_ID)
    assert (backfill.coalesce, backfill.max_instances) == (True, 1)


async def test_jobs_can_be_stored_by_a_persistent_job_store(sqlite_database, scheduler: AsyncIOScheduler, http):
    """Jobs reference module-level functions and carry only a URL, so a job store can pickle them."""
    register_feed_jobs(scheduler, settings_for("http://127.0.0.1:1/a.rss"), database=sqlite_database, http=http)
    for job in scheduler.get_jobs():
        state = pickle.loads(pickle.dumps(job.__getstate__()))
        assert state["func"] in {
            "bot.scheduler:poll_feed",
            "bot.scheduler:sync_feed_jobs",
            "bot.scheduler:backfill_backlog",
        }


async def test_registering_again_replaces_jobs(sqlite_database: Database, scheduler: AsyncIOScheduler, http):
    """Registering twice (a restart) leaves one job per feed, one sync job and one backfill job."""
    settings = settings_for("http://127.0.0.1:1/a.rss")
    register_feed_jobs(scheduler, settings, database=sqlite_database, http=http)
    register_feed_jobs(scheduler, settings, database=sqlite_database, http=http)
    assert len(scheduler.get_jobs()) == 3


async def test_sync_follows_feeds_added_and_removed(sqlite_database: Database, scheduler: AsyncIOScheduler, http):
    """Feeds added or removed through the service layer gain or lose their job at the next sync."""
    register_feed_jobs(scheduler, settings_for("http://127.0.0.1:1/a.rss"), database=sqlite_database, http=http)
    add_feed(sqlite_database, "https://news.example/world.rss")
    remove_feed(sqlite_database, "http://127.0.0.1:1/a.rss")
    await sync_feed_jobs()
    feed_jobs = [job.id for job in scheduler.get_jobs() if job.id.startswith(FEED_JOB_PREFIX)]
    assert feed_jobs == [FEED_JOB_PREFIX + "https://news.example/world.rss"]


async def test_poll_feed_job_ingests_its_feed(sqlite_database: Database, scheduler, server: FeedServer):
    """The job function runs one pass over its feed with the registered database and client."""
    url = server.serve_bytes("/feed", rss([Item("Talks", server.url("/talks"), guid="1", published=None)]))
    async with HttpClient(fast_policy()) as client:
        register_feed_jobs(scheduler, settings_for(url), database=sqlite_database, http=client)
        await poll_feed(url)
    with sqlite_database.session() as session:
        assert session.scalar(select(func.count()).select_from(Article)) == 1


async def test_backfill_job_fetches_the_backlog_pages(sqlite_database: Database, scheduler, server: FeedServer):
    """The backfill job runs a pass with the registered database, client and settings: backlog gets full text."""
    server.serve_html("/talks", article_page("Talks"))
    url = server.serve_bytes("/feed", rss([Item("Talks", server.url("/talks"), guid="1", published=None)]))
    async with HttpClient(fast_policy()) as client:
        register_feed_jobs(scheduler, settings_for(url), database=sqlite_database, http=client)
        await poll_feed(url)
        await backfill_backlog()
    with sqlite_database.session() as session:
        article = session.scalars(select(Article)).one()
        assert (article.is_backlog, article.page_pending, article.text_kind) == (True, False, TextKind.FULL_TEXT)


async def test_job_cut_short_by_shutdown_ends_quietly(caplog):
    """A job cancelled at shutdown ends with one info line instead of an error with a traceback."""
    import asyncio
    import logging

    caplog.set_level(logging.INFO, logger="bot.scheduler")
    started = asyncio.Event()

    from bot.scheduler import _job

    @_job
    async def slow() -> None:
        started.set()
        await asyncio.sleep(60)

    running = asyncio.create_task(slow())
    await started.wait()
    running.cancel()
    await running  # returns normally: the cancellation is the shutdown, not a failure
    assert "job slow() stopped by shutdown" in caplog.text


async def test_jobs_run_before_registration_skip_with_one_line_each(monkeypatch, caplog):
    """A job that fires in a process that never registered its part (a stale job store) logs one error and skips,
    the same way for every job."""
    import bot.scheduler as scheduler_module

    monkeypatch.setattr(scheduler_module, "CONTEXT", scheduler_module.JobContext())
    jobs = [
        poll_feed("http://127.0.0.1:1/a.rss"),
        backfill_backlog(),
        sync_feed_jobs(),
        scheduler_module.serve_digest(7),
        scheduler_module.sync_digest_jobs(),
        scheduler_module.resume_outbox(),
        scheduler_module.process_articles(),
    ]
    for job in jobs:
        await job
    errors = [record.getMessage() for record in caplog.records if record.levelname == "ERROR"]
    assert len(errors) == len(jobs)
    assert all(message.endswith("ran before its part was registered in this process; skipped") for message in errors)
    assert "job poll_feed(http://127.0.0.1:1/a.rss)" in errors[0] and "job serve_digest(7)" in errors[3]
