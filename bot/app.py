"""The running bot: platforms, scheduler and ingestion in one event loop, split by role for scale-out.

Roles (see the Procfile): ``web`` serves only Slack's HTTP endpoint; ``worker`` runs the Discord gateway, Slack
Socket Mode, the scheduler (ingestion, processing, digests, outbox); ``all`` does both in one process; ``processor``
runs queued model work (TASK_QUEUE=procrastinate, `bot/queue.py`). Every role but ``processor`` can publish to every
configured platform, so `/news digest` works wherever the command arrives. Every role but ``processor`` serves the
status page and /metrics on PORT: on the Slack HTTP server where it runs, else on a small server of its own.

On PostgreSQL one worker holds the scheduler's advisory lock; the others stand by and try for it every few
seconds, so when the holder dies another takes over. A holder checks its lock's connection and stops scheduling
when it is gone; a new holder waits out that check interval before it starts, so two schedulers never overlap.

SIGTERM (how process managers stop a process) and Ctrl-C both stop it cleanly: the scheduler stops, deliveries
being sent finish (for up to DELIVERY_GRACE_SECONDS; any still running then stay pending in the outbox), then the
Discord gateway and the Slack connection are closed. After SIGTERM the process exits with status 0.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import AsyncExitStack
from functools import partial
from typing import TYPE_CHECKING, Literal, Protocol

from sqlalchemy.exc import SQLAlchemyError

from bot.config import Settings
from bot.errors import ConfigError
from bot.news.http import HttpClient, HttpPolicy
from bot.ops.web import StatusServer, StatusSite
from bot.platforms.base import Platform
from bot.scheduler import build_scheduler, register_jobs
from bot.service import NewsService
from bot.shutdown import cancel_on_sigterm, stopped_by_sigterm
from bot.storage import Database
from bot.storage.locks import AdvisoryLock

if TYPE_CHECKING:
    from bot.queue import ProcessingQueue

log = logging.getLogger(__name__)

Role = Literal["all", "web", "worker", "processor"]


class Runner(Protocol):
    """What the runner starts and stops: a platform, or the status page's own server."""

    async def run(self) -> None:
        """Serve until cancelled."""
        ...

    async def close(self) -> None:
        """Release what `run` opened."""
        ...


SCHEDULER_LOCK_KEY = 0x6E657773  # PostgreSQL advisory lock held by the one process that runs the scheduler
STANDBY_SECONDS = 10.0  # a standby worker tries for the scheduler lock this often
LOCK_CHECK_SECONDS = 5.0  # the scheduler checks that its lock's connection is alive this often
TAKEOVER_GRACE_SECONDS = 2 * LOCK_CHECK_SECONDS  # a holder that lost its lock has stopped by then
DELIVERY_GRACE_SECONDS = 20.0  # within the usual 30 s between SIGTERM and SIGKILL


def serves_slack_http(settings: Settings, role: Role) -> bool:
    """Whether this role serves Slack's HTTP endpoint (whose server then serves the status page too)."""
    return settings.slack_enabled and not settings.slack_socket_mode and role in ("all", "web")


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

        socket_mode = settings.slack_socket_mode
        serves = (socket_mode and role in ("all", "worker")) or serves_slack_http(settings, role)
        slack_status = status if serves_slack_http(settings, role) else None
        platforms.append(build_slack(settings, service, serve=serves, status=slack_status))
    for platform in platforms:
        service.add_publisher(platform.name, platform.publisher)
    return platforms


async def run_bot(settings: Settings, database: Database, role: Role) -> None:
    """Run the platforms (and, for worker roles, the scheduler; for processors, queued jobs) until cancelled or
    stopped by SIGTERM."""
    with cancel_on_sigterm() as sigterm:
        try:
            await _run_bot(settings, database, role)
        except asyncio.CancelledError:
            if not stopped_by_sigterm(sigterm):
                raise


async def _run_bot(settings: Settings, database: Database, role: Role) -> None:
    if role == "processor":
        from bot.queue import run_processor

        await run_processor(settings, database)
        return
    async with HttpClient(HttpPolicy.from_settings(settings)) as http, AsyncExitStack() as stack:
        service = NewsService(settings, database, http)
        status = StatusSite.from_settings(settings, database)
        platforms = build_platforms(settings, service, role, status)
        if role == "web" and not platforms:
            raise ConfigError(
                "The web role serves Slack's HTTP endpoint: set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET."
            )
        await service.load_models()
        processing = None
        if settings.task_queue == "procrastinate" and role in ("all", "worker"):
            from bot.queue import ProcessingQueue, queue_app

            processing = ProcessingQueue(await stack.enter_async_context(queue_app(settings.database_url).open_async()))
        runners: list[Runner] = list(platforms)
        if not serves_slack_http(settings, role):  # no Slack HTTP server here to serve the status page: its own
            runners.append(StatusServer.for_settings(status, settings))
        runs = [runner.run() for runner in runners]
        if role in ("all", "worker"):
            runs.append(_run_scheduler(settings, database, service, http, processing))
        try:
            await asyncio.gather(*runs, _forever())
        finally:
            # The scheduler stopped with its task (_run_scheduler's own cleanup); let deliveries in flight finish.
            unfinished = await service.outbox.drain(DELIVERY_GRACE_SECONDS)
            if unfinished:
                log.warning("%d deliveries still sending were left pending; they resume after the restart", unfinished)
            for runner in runners:
                await runner.close()


async def _run_scheduler(
    settings: Settings, database: Database, service: NewsService, http: HttpClient, processing: ProcessingQueue | None
) -> None:
    """Run the scheduler whenever this process holds the scheduler lock; stand by while another does."""
    standing_by = False
    while True:
        try:
            lock = await asyncio.to_thread(AdvisoryLock.try_acquire, database, SCHEDULER_LOCK_KEY)
        except (OSError, SQLAlchemyError) as error:
            log.warning("scheduler lock: database unreachable (%s); trying again", type(error).__name__)
            lock = None
        if lock is None:
            if not standing_by:
                log.info("another worker runs the scheduler; this one serves platforms and stands by")
            standing_by = True
            await asyncio.sleep(STANDBY_SECONDS)
            continue
        standing_by = False
        log.info("this process runs the scheduler")
        scheduler = build_scheduler(database)
        try:
            if lock.shared_database:
                await asyncio.sleep(TAKEOVER_GRACE_SECONDS)  # a holder that lost its lock has stopped by then
            # Start first, then register in a thread: writing a thousand jobs to the job store takes seconds, and
            # the event loop must keep the Discord heartbeat going meanwhile (APScheduler's add_job is thread-safe).
            scheduler.start()
            await asyncio.to_thread(
                partial(register_jobs, scheduler, settings, service=service, http=http, processing=processing)
            )
            log.info("scheduler started: %d jobs", len(scheduler.get_jobs()))
            while await asyncio.to_thread(lock.alive):
                await asyncio.sleep(LOCK_CHECK_SECONDS)
            log.warning("the scheduler lock's connection is gone: scheduling stops here; standing by")
        finally:
            if scheduler.running:
                scheduler.shutdown(wait=False)  # no new jobs; running ones are cancelled (safe, see bot.scheduler)
            lock.release()


async def _forever() -> None:
    await asyncio.Event().wait()
