"""The running bot: platforms, scheduler and ingestion in one event loop, split by role for scale-out.

Roles (see the Procfile): ``web`` serves only Slack's HTTP endpoint; ``worker`` runs the Discord gateway, Slack
Socket Mode, the scheduler (ingestion, processing, digests, outbox); ``all`` does both in one process. Every role
can publish to every configured platform, so `/news digest` works wherever the command arrives.

SIGTERM (how process managers stop a process) and Ctrl-C both stop it cleanly: the scheduler stops, deliveries
being sent finish (for up to DELIVERY_GRACE_SECONDS; any still running then stay pending in the outbox), then the
Discord gateway and the Slack connection are closed. After SIGTERM the process exits with status 0.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Literal

from sqlalchemy import text
from sqlalchemy.engine import Connection

from bot.config import Settings
from bot.errors import ConfigError
from bot.news.feeds import sync_sources
from bot.news.http import HttpClient, HttpPolicy
from bot.news.sources import configured_sources
from bot.platforms.base import Platform
from bot.scheduler import build_scheduler, register_digest_jobs, register_feed_jobs
from bot.service import NewsService
from bot.shutdown import cancel_on_sigterm, stopped_by_sigterm
from bot.storage import Database

log = logging.getLogger(__name__)

Role = Literal["all", "web", "worker"]
SCHEDULER_LOCK_KEY = 0x6E657773  # PostgreSQL advisory lock held by the one process that runs the scheduler
DELIVERY_GRACE_SECONDS = 20.0  # within the usual 30 s between SIGTERM and SIGKILL


def build_platforms(settings: Settings, service: NewsService, role: Role) -> list[Platform]:
    """The platform adapters this role runs, each registered as a publisher with the service."""
    platforms: list[Platform] = []
    if settings.discord_enabled and role in ("all", "worker"):
        from bot.platforms.discord import build_discord

        platforms.append(build_discord(settings, service))
    if settings.slack_enabled:
        from bot.platforms.slack import build_slack

        socket_mode = settings.slack_app_token is not None and bool(settings.slack_app_token.get_secret_value())
        serves = (socket_mode and role in ("all", "worker")) or (not socket_mode and role in ("all", "web"))
        platforms.append(build_slack(settings, service, serve=serves))
    for platform in platforms:
        service.add_publisher(platform.name, platform.publisher)
    return platforms


async def run_bot(settings: Settings, database: Database, role: Role) -> None:
    """Run the platforms (and, for worker roles, the scheduler) until cancelled or stopped by SIGTERM."""
    with cancel_on_sigterm() as sigterm:
        try:
            await _run_bot(settings, database, role)
        except asyncio.CancelledError:
            if not stopped_by_sigterm(sigterm):
                raise


async def _run_bot(settings: Settings, database: Database, role: Role) -> None:
    async with HttpClient(HttpPolicy.from_settings(settings)) as http:
        service = NewsService(settings, database, http)
        platforms = build_platforms(settings, service, role)
        if role == "web" and not platforms:
            raise ConfigError(
                "The web role serves Slack's HTTP endpoint: set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET."
            )
        await service.load_models()
        scheduler = None
        lock = _acquire_scheduler_lock(database) if role in ("all", "worker") else None
        if role in ("all", "worker") and lock is not False:
            scheduler = build_scheduler(database)
            sync_sources(database, configured_sources(settings.feeds))
            register_feed_jobs(scheduler, settings, database=database, http=http)
            register_digest_jobs(scheduler, service)
            scheduler.start()
            log.info("scheduler started: %d jobs", len(scheduler.get_jobs()))
        try:
            await asyncio.gather(*(platform.run() for platform in platforms), _forever())
        finally:
            if scheduler is not None:
                scheduler.shutdown(wait=False)  # no new jobs; running ones are cancelled (safe, see bot.scheduler)
            unfinished = await service.outbox.drain(DELIVERY_GRACE_SECONDS)
            if unfinished:
                log.warning("%d deliveries still sending were left pending; they resume after the restart", unfinished)
            for platform in platforms:
                await platform.close()
            if isinstance(lock, Connection):
                lock.close()


async def _forever() -> None:
    await asyncio.Event().wait()


def _acquire_scheduler_lock(database: Database) -> Connection | bool:
    """On PostgreSQL, take a session advisory lock so only one worker schedules; SQLite runs one worker."""
    if database.engine.dialect.name != "postgresql":
        return True
    connection = database.engine.connect()
    if connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": SCHEDULER_LOCK_KEY}).scalar():
        log.info("this process runs the scheduler")
        connection.commit()
        connection.detach()  # out of the pool: closing it ends the session, and with it the lock
        return connection
    connection.close()
    log.info("another worker runs the scheduler; this one serves platforms only")
    return False
