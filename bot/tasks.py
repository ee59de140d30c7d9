"""Model work as a job: run in this process, or on procrastinate's task queue by ``processor`` processes.

`process_articles_job` is the one job body (tag, embed, index and cluster new articles into stories). Where it
runs depends on TASK_QUEUE:

- ``inline`` (the default, and the only choice on SQLite): the scheduler runs it in its own process, as
  `make run` always has. No broker, no extra process.
- ``procrastinate``: the scheduler defers a job to procrastinate's queue, whose tables live in the bot's own
  PostgreSQL database (migration 0008), and `python -m bot run --role processor` processes run it
  (`bot/queue.py`).

What makes it safe to run anywhere, any number of times:

- Idempotent: it reads only articles without an analysis, one batch per transaction; a crash rolls back at most
  the batch in flight, which the next run does again. An article's analysis is keyed by the article, so it can
  never be stored twice.
- One at a time: the task carries a procrastinate lock (no processor starts it while another runs it), and the
  body holds a PostgreSQL advisory lock, checked between batches, so story assignment is serialised whatever the
  queue does. A run that finds the lock taken fails and is retried.
- Retried with backoff: a failed run (lock busy, database unreachable) is retried after 2, 4, 8, 16 and 32 s.
- A crashed processor's job is picked up: processors send a heartbeat every 10 s, and a periodic sweep that every
  processor runs puts the running jobs of processors silent for 30 s back in the queue.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from bot.intelligence.processing import BATCH_SIZE, ProcessReport, process_new_articles
from bot.storage import Database
from bot.storage.locks import AdvisoryLock, advisory_lock
from summarizer.encoder import TextEncoder
from summarizer.tagging import Tagger

log = logging.getLogger(__name__)

PROCESS_LOCK_KEY = 0x70726F63  # PostgreSQL advisory lock held while articles are processed


class ProcessingBusyError(RuntimeError):
    """Another process is processing articles right now; this run is retried later."""


@contextmanager
def processing_lock(database: Database) -> Iterator[AdvisoryLock | None]:
    """Hold the processing lock for the block (None when another process holds it); always granted on SQLite."""
    with advisory_lock(database, PROCESS_LOCK_KEY) as lock:
        yield lock


def process_articles_job(
    database: Database, encoder: TextEncoder, *, tagger: Tagger | None = None, limit: int | None = None
) -> ProcessReport:
    """Process new articles (all, or at most ``limit``) under the processing lock, batch by batch.

    The job body wherever it runs: the processor, the scheduler's process (TASK_QUEUE=inline), `python -m bot
    process`.

    Raises:
        ProcessingBusyError: another process holds the lock (its run covers these articles).
    """
    tagger = tagger or Tagger(encoder)
    articles = created = updated = 0
    seconds = 0.0
    with processing_lock(database) as lock:
        if lock is None:
            raise ProcessingBusyError("another process is processing articles")
        while limit is None or articles < limit:
            size = BATCH_SIZE if limit is None else min(BATCH_SIZE, limit - articles)
            report = process_new_articles(database, encoder, tagger=tagger, limit=size)
            articles += report.articles
            created += report.stories_created
            updated += report.stories_updated
            seconds += report.seconds
            if report.articles < size:
                break
            lock.check()  # the lock went with its connection: stop, and let the retry take it again
    return ProcessReport(articles, created, updated, seconds)
