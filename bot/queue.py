"""The task queue: procrastinate on the bot's PostgreSQL database, and the ``processor`` role that serves it.

procrastinate keeps jobs in PostgreSQL tables (created by migration 0008), so a PostgreSQL deployment needs no
new server. The scheduler defers `process_articles` (`ProcessingQueue.request`); processors run it one at a
time (procrastinate lock ``articles:process``) with the job body of `bot.tasks`, retry a failed run with
backoff, and sweep the running jobs of processors whose heartbeat stopped back into the queue.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from dataclasses import dataclass
from typing import Any

import procrastinate
from procrastinate.job_context import JobContext
from sqlalchemy.engine import make_url

from bot.config import Settings
from bot.storage import Database
from bot.tasks import process_articles_job
from summarizer.encoder import TextEncoder
from summarizer.tagging import Tagger

log = logging.getLogger(__name__)

QUEUE = "processing"
PROCESS_TASK = "geobrief:process_articles"
PROCESS_LOCK = "articles:process"  # procrastinate lock: one job of the task runs at a time
RETRY_ATTEMPTS = 6
RETRY_BASE_SECONDS = 2  # waits 2, 4, 8, 16, 32 s
HEARTBEAT_SECONDS = 10.0
STALLED_SECONDS = 30.0  # a processor silent this long is taken for dead, and its running job is queued again
SWEEP_CRON = "* * * * * */15"  # procrastinate's 6th field is seconds: the stalled-job sweep runs every 15 s
RESTART_SECONDS = 5.0  # a processor whose worker loop stopped (database gone) starts it again after this


@dataclass(frozen=True)
class ProcessorRuntime:
    """What a processor holds for its jobs: the database, the loaded encoder and the tagger."""

    database: Database
    encoder: TextEncoder
    tagger: Tagger


async def process_articles(context: JobContext) -> int:
    """Job: process new articles with this processor's encoder (the body runs in a thread)."""
    runtime: ProcessorRuntime = context.additional_context["runtime"]
    report = await asyncio.to_thread(process_articles_job, runtime.database, runtime.encoder, tagger=runtime.tagger)
    if report.articles:
        log.info("processed %d new articles into stories in %.1f s", report.articles, report.seconds)
    return report.articles


async def requeue_stalled(context: JobContext, timestamp: int) -> int:
    """Job: put the running jobs of processors that stopped sending heartbeats back in the queue."""
    manager = context.app.job_manager
    stalled = list(await manager.get_stalled_jobs(seconds_since_heartbeat=STALLED_SECONDS))
    for job in stalled:
        log.warning("job %s (%s) of a silent processor is queued again", job.id, job.task_name)
        await manager.retry_job(job)
    return len(stalled)


def _blueprint() -> procrastinate.Blueprint:
    """The tasks, registered afresh for each app (procrastinate renames a blueprint's tasks into its app)."""
    blueprint = procrastinate.Blueprint()
    retry = procrastinate.RetryStrategy(max_attempts=RETRY_ATTEMPTS, exponential_wait=RETRY_BASE_SECONDS)
    blueprint.task(name="process_articles", queue=QUEUE, lock=PROCESS_LOCK, pass_context=True, retry=retry)(
        process_articles
    )
    sweep = blueprint.task(name="requeue_stalled", queue=QUEUE, queueing_lock="requeue_stalled", pass_context=True)
    blueprint.periodic(cron=SWEEP_CRON)(sweep(requeue_stalled))
    return blueprint


def libpq_url(database_url: str) -> str:
    """The SQLAlchemy URL as a libpq connection string (search_path and other options kept)."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


def queue_app(database_url: str) -> procrastinate.App:
    """The procrastinate app on the bot's PostgreSQL database (open it with ``async with app.open_async()``)."""
    # procrastinate's pool checks each connection before handing it out: a dropped one is replaced.
    connector = procrastinate.PsycopgConnector(conninfo=libpq_url(database_url), min_size=1, max_size=4)
    app = procrastinate.App(connector=connector)
    app.add_tasks_from(_blueprint(), namespace="geobrief")
    return app


class ProcessingQueue:
    """The scheduler's side: asks for processing by deferring a job, unless one is already waiting."""

    def __init__(self, app: procrastinate.App) -> None:
        self.app = app
        self._deferring = asyncio.Lock()  # one process defers (the scheduler's): check-then-defer cannot race

    async def request(self) -> bool:
        """Defer a processing job; False when one is already waiting (it will see the new articles too) or the
        database cannot be reached (the scheduler asks again within a minute)."""
        async with self._deferring:
            try:
                if list(await self.app.job_manager.list_jobs_async(task=PROCESS_TASK, status="todo")):
                    return False
                await self.app.configure_task(PROCESS_TASK).defer_async()
            except Exception as error:  # a dropped connection: the pool replaces it for the next request
                log.warning("could not queue processing (%s); asking again later", type(error).__name__)
                return False
            return True


async def run_processor(settings: Settings, database: Database) -> None:
    """The ``processor`` role: load the encoder, then run queued processing jobs, one at a time, until cancelled."""
    from bot.intelligence.encoder import encoder_for

    encoder = encoder_for(settings)
    await asyncio.to_thread(encoder.load)
    tagger = Tagger(encoder)
    await asyncio.to_thread(tagger.topic_prototypes)
    gc.collect()
    gc.freeze()  # as in the other roles: no full collection walks the loaded model
    runtime = ProcessorRuntime(database, encoder, tagger)
    app = queue_app(settings.database_url)
    options: dict[str, Any] = {
        "queues": [QUEUE],
        "concurrency": 1,  # the encoder uses every core
        "additional_context": {"runtime": runtime},
        "install_signal_handlers": False,  # the process's own shutdown cancels the worker
        "update_heartbeat_interval": HEARTBEAT_SECONDS,
        "stalled_worker_timeout": STALLED_SECONDS,
    }
    log.info("processor ready: running jobs from queue %r", QUEUE)
    while True:
        try:
            async with app.open_async():
                await app.run_worker_async(**options)
            log.warning("the queue worker stopped; starting it again in %.0f s", RESTART_SECONDS)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # the database went away: keep the process, try again shortly
            log.warning("the queue worker failed (%s); starting again in %.0f s", type(error).__name__, RESTART_SECONDS)
        await asyncio.sleep(RESTART_SECONDS)
