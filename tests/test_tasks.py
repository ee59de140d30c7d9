"""Model work as a job: idempotent, one run at a time, on procrastinate's queue with retries and crash recovery."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import procrastinate
import pytest
from sqlalchemy import func, select

from bot.storage import Article, Database
from bot.storage.models import ArticleAnalysis
from bot.tasks import ProcessingBusyError, process_articles_job, processing_lock
from summarizer.tagging import Tagger
from tests.intelligence.shared import ENCODER_ENV, article, shared_encoder, store_articles

ROOT = Path(__file__).resolve().parent.parent
KEYS = ("nk-icbm-seoul", "nk-icbm-tokyo", "opec-riyadh")


def _analysed(database: Database) -> int:
    with database.session() as session:
        return int(session.scalar(select(func.count()).select_from(ArticleAnalysis)) or 0)


def _unassigned(database: Database) -> int:
    with database.session() as session:
        return int(session.scalar(select(func.count()).select_from(Article).where(Article.story_id.is_(None))) or 0)


def test_job_is_idempotent(database):
    """A second run changes nothing: only articles without an analysis are read, each stored once."""
    store_articles(database, [article(key) for key in KEYS])
    assert process_articles_job(database, shared_encoder()).articles == 3
    assert process_articles_job(database, shared_encoder()).articles == 0
    assert (_analysed(database), _unassigned(database)) == (3, 0)


@pytest.mark.postgres
def test_job_refuses_to_run_beside_another(postgres_schema_url):
    """While one process holds the processing lock, a second run raises (and is retried) instead of clustering."""
    database, other = Database(postgres_schema_url), Database(postgres_schema_url)
    database.upgrade()
    store_articles(database, [article("opec-riyadh")])
    try:
        with processing_lock(other) as held:
            assert held is not None
            with pytest.raises(ProcessingBusyError):
                process_articles_job(database, shared_encoder())
            assert _analysed(database) == 0
        assert process_articles_job(database, shared_encoder()).articles == 1
    finally:
        database.dispose()
        other.dispose()


# -- on the queue (PostgreSQL) ----------------------------------------------------------------------------------
@pytest.fixture
async def queue(postgres_schema_url) -> AsyncIterator[tuple[Database, procrastinate.App]]:
    """A migrated PostgreSQL schema (procrastinate's tables included) with three stored articles, and the queue."""
    from bot.queue import queue_app

    database = Database(postgres_schema_url)
    database.upgrade()
    store_articles(database, [article(key) for key in KEYS])
    app = queue_app(postgres_schema_url)
    async with app.open_async():
        yield database, app
    database.dispose()


async def _run_worker(database: Database, app: procrastinate.App) -> None:
    """A processor's worker that stops once no job is left (as `run_processor` runs it, without waiting)."""
    from bot.queue import QUEUE, ProcessorRuntime

    runtime = ProcessorRuntime(database, shared_encoder(), Tagger(shared_encoder()))
    await app.run_worker_async(
        queues=[QUEUE],
        wait=False,
        concurrency=1,
        additional_context={"runtime": runtime},
        install_signal_handlers=False,
    )


async def _jobs(app: procrastinate.App, task: str) -> list[procrastinate.jobs.Job]:
    return sorted(await app.job_manager.list_jobs_async(task=task), key=lambda job: job.id or 0)


@pytest.mark.postgres
async def test_deferred_job_runs_on_a_processor_once(queue):
    """The scheduler defers one job (a second request while it waits adds none); a processor runs it."""
    from bot.queue import PROCESS_TASK, ProcessingQueue

    database, app = queue
    requests = ProcessingQueue(app)
    assert await requests.request() is True
    assert await requests.request() is False  # one is already waiting: it will see every new article
    await _run_worker(database, app)
    [job] = await _jobs(app, PROCESS_TASK)
    assert job.status == "succeeded"
    assert (_analysed(database), _unassigned(database)) == (3, 0)


@pytest.mark.postgres
async def test_busy_job_is_retried_with_backoff(queue):
    """A run that finds another processor at work fails and goes back to the queue for later, not lost."""
    from bot.queue import PROCESS_TASK, ProcessingQueue

    database, app = queue
    with processing_lock(database) as held:
        assert held is not None
        await ProcessingQueue(app).request()
        await _run_worker(database, app)
    [job] = await _jobs(app, PROCESS_TASK)
    assert job.status == "todo"
    assert job.scheduled_at is not None and job.scheduled_at > datetime.now(UTC)
    assert _analysed(database) == 0


@pytest.mark.postgres
async def test_crashed_processors_job_is_picked_up_by_another(queue):
    """A job left running by a processor that stopped sending heartbeats is queued again and done by another."""
    from bot.queue import PROCESS_TASK, ProcessingQueue

    database, app = queue
    await ProcessingQueue(app).request()
    # The crash: a processor took the job, then died (kill -9); its heartbeat stops and the job stays 'doing'.
    dead = await app.job_manager.register_worker()
    taken = await app.job_manager.fetch_job(queues=None, worker_id=dead)
    assert taken is not None and taken.task_name == PROCESS_TASK
    await app.connector.execute_query_async(
        "UPDATE procrastinate_workers SET last_heartbeat = now() - interval '5 minutes' WHERE id = %(id)s", id=dead
    )
    await app.configure_task("geobrief:requeue_stalled").defer_async(timestamp=0)  # the periodic sweep, now
    await _run_worker(database, app)
    [job] = await _jobs(app, PROCESS_TASK)
    assert (job.id, job.status) == (taken.id, "succeeded")
    assert (_analysed(database), _unassigned(database)) == (3, 0)


@pytest.mark.postgres
@pytest.mark.slow
async def test_processor_process_serves_the_queue(queue, postgres_schema_url):
    """`python -m bot run --role processor` loads the encoder and runs the jobs the scheduler defers."""
    from bot.queue import ProcessingQueue

    database, app = queue
    await ProcessingQueue(app).request()
    environment = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": postgres_schema_url,
        "TASK_QUEUE": "procrastinate",
        **ENCODER_ENV,
    }
    processor = subprocess.Popen(
        [sys.executable, "-m", "bot", "run", "--role", "processor"],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for _ in range(600):  # bounded (5 min): the model loads in seconds, or minutes on a loaded machine
            if _analysed(database) == 3 or processor.poll() is not None:
                break
            await asyncio.sleep(0.5)
        assert processor.poll() is None, processor.stderr.read() if processor.stderr else ""
        assert (_analysed(database), _unassigned(database)) == (3, 0)
    finally:
        processor.terminate()
        processor.wait(timeout=30)
