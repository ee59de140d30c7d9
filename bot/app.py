"""The running bot: platforms, scheduler and ingestion in one event loop, split by role for scale-out.

Roles (see the Procfile): ``web`` serves only Slack's HTTP endpoint; ``worker`` runs the Discord gateway, Slack
Socket Mode, the scheduler (ingestion, processing, digests, outbox); ``all`` does both in one process. Every role
can publish to every configured platform, so `/news digest` works wherever the command arrives. Every role serves
the status page and /metrics on PORT: on the Slack HTTP server where it runs, else on a small server of its own.

SIGTERM (how process managers stop a process) and Ctrl-C both stop it cleanly: the scheduler stops, deliveries
being sent finish (for up to DELIVERY_GRACE_SECONDS; any still running then stay pending in the outbox), then the
Discord gateway and the Slack connection are closed. After SIGTERM the process exits with status 0.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Literal, Protocol

from sqlalchemy import text
from sqlalchemy.engine import Connection

from bot.config import Settings
from bot.errors import ConfigError
from bot.news.feeds import sync_sources
from bot.news.http import HttpClient, HttpPolicy
from bot.news.sources import configured_sources
from bot.ops.web import StatusServer, StatusSite
from bot.platforms.base import Platform
from bot.scheduler import build_scheduler, register_digest_jobs, register_feed_jobs
from bot.service import NewsService
from bot.shutdown import cancel_on_sigterm, stopped_by_sigterm
from bot.storage import Database

log = logging.getLogger(__name__)

Role = Literal["all", "web", "worker"]


class Runner(Protocol):
    """What the runner starts and stops: a platform, or the status page's own server."""

    async def run(self) -> None:
        """Serve until cancelled."""
        ...

    async def close(self) -> None:
        """Release what `run` opened."""
        ...


SCHEDULER_LOCK_KEY = 0x6E657773  # PostgreSQL advisory lock held by the one process that runs the scheduler
DELIVERY_GRACE_SECONDS = 20.0  # within the usual 30 s between SIGTERM and SIGKILL


def serves_slack_http(settings: Settings, role: Role) -> bool:
    """Whether this role serves Slack's HTTP endpoint (whose server then serves the status page too)."""
    socket_mode = settings.slack_app_token is not None and bool(settings.slack_app_token.get_secret_value())
    return settings.slack_enabled and not socket_mode and role in ("all", "web")


def build_platforms(
    settings: Settings, service: NewsService, role: Role, status: StatusSite | None = None
) -> list[Platform]:
    """The platform adapters this role runs, each registered as a publisher with the service; the Slack HTTP
    endpoint, where this role serves it, serves `status` too."""
    platforms: list[Platform] = []
    if settings.discord_enabled and role in ("all", "worker"):
        from bot.platforms.discord import build_discord

        platforms.append(build_discord(settings, service))
    if settings.slack_enabled:
        from bot.platforms.slack import build_slack

        socket_mode = settings.slack_app_token is not None and bool(settings.slack_app_token.get_secret_value())
        serves = (socket_mode and role in ("all", "worker")) or (not socket_mode and role in ("all", "web"))
        slack_status = status if serves_slack_http(settings, role) else None
        platforms.append(build_slack(settings, service, serve=serves, status=slack_status))
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
        status = StatusSite.from_settings(settings, database)
        platforms = build_platforms(settings, service, role, status)
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
        runners: list[Runner] = list(platforms)
        if not serves_slack_http(settings, role):  # no Slack HTTP server here to serve the status page: its own
            runners.append(StatusServer.for_settings(status, settings))
        try:
            await asyncio.gather(*(runner.run() for runner in runners), _forever())
        finally:
            if scheduler is not None:
                scheduler.shutdown(wait=False)  # no new jobs; running ones are cancelled (safe, see bot.scheduler)
            unfinished = await service.outbox.drain(DELIVERY_GRACE_SECONDS)
            if unfinished:
                log.warning("%d deliveries still sending were left pending; they resume after the restart", unfinished)
            for runner in runners:
                await runner.close()
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
