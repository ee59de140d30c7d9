"""`python -m bot demo` (and `make run` with no platform token): the whole pipeline on bundled sample news, offline.

Everything the bot does for a team happens here for real, only against a news site on this computer and a
database that is thrown away afterwards: the sample server starts; its feeds are added; a first poll stores what
they carry as backlog, and the backlog's pages are fetched (the bot does it in the background); a second poll finds
new items and fetches their pages; the articles are tagged, embedded
and clustered into stories; the console channel's digest goes through the outbox to the console publisher;
a third poll brings more coverage of a story in that digest, so the next digest posts its update, and the story
is shown in full (timeline, related storylines, how each outlet tells it); then two questions are answered with
citations. Progress goes to standard error and results to standard output.
"""

from __future__ import annotations

import asyncio
import io
import logging
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from sqlalchemy import func, select

from bot.config import Settings
from bot.demo.bundle import Bundle, load_bundle
from bot.demo.server import DemoNewsServer
from bot.digests.model import TEXT_KIND_LABELS
from bot.intelligence.encoder import encoder_for
from bot.news.backfill import BackfillReport, run_backfill_pass
from bot.news.feeds import add_feed
from bot.news.http import HttpClient, HttpPolicy
from bot.news.ingest import IngestOptions, IngestReport, run_ingest_pass
from bot.platforms.console.commands import post_digest
from bot.platforms.console.render import render_answer, render_story
from bot.replies import DigestOutcome
from bot.service import NewsService
from bot.storage import Article, Database, Delivery, DeliveryStatus, TextKind

log = logging.getLogger(__name__)

QUESTIONS = (
    "What did Japan and the US say about the NPT?",
    "How many foreign fighters have joined militant groups in Syria and Iraq?",
)
DIGEST_ITEMS = 6
STEPS = 11
# Loggers whose INFO lines repeat what the progress lines say (one per feed, page and batch) and would mix with
# the digest on standard output; they are held at WARNING during the demo unless LOG_LEVEL=DEBUG.
CHATTY_LOGGERS = ("bot", "summarizer")
HINT = """
To run the bot for your team, copy .env.example to .env, set DISCORD_TOKEN (Discord) or SLACK_BOT_TOKEN (Slack,
with SLACK_APP_TOKEN for Socket Mode or SLACK_SIGNING_SECRET for HTTP) and run `make run` again: it connects
instead of running this demo. README.md and docs/ explain the setup; docs/demo.md explains this demo.
"""


def demo_policy(settings: Settings) -> HttpPolicy:
    """The HTTP policy for the sample server: no politeness delay, since every feed and page is on one loopback host."""
    return HttpPolicy(
        user_agent=settings.http_user_agent,
        timeout=settings.http_timeout_seconds,
        deadline=3 * settings.http_timeout_seconds,
        max_retries=1,
        per_host_concurrency=16,
        politeness_delay=0.0,
    )


class Progress:
    """Numbered step lines on a stream: "[2/8] Polling … done: 7 backlog (0.3 s)"."""

    def __init__(self, stream: TextIO, total: int) -> None:
        self.stream = stream
        self.total = total
        self.number = 0
        self.started = time.perf_counter()
        self._step_started = self.started

    def start(self, label: str) -> None:
        """Announce the next step."""
        self.number += 1
        self._step_started = time.perf_counter()
        self.stream.write(f"[{self.number}/{self.total}] {label} … ")
        self.stream.flush()

    def done(self, outcome: str = "done") -> None:
        """Finish the current step's line with its outcome and duration."""
        self.stream.write(f"{outcome} ({time.perf_counter() - self._step_started:.1f} s)\n")
        self.stream.flush()

    @property
    def elapsed(self) -> float:
        """Seconds since the first step."""
        return time.perf_counter() - self.started


@contextmanager
def _quiet_logs(settings: Settings) -> Iterator[None]:
    if settings.log_level == "DEBUG":
        yield
        return
    loggers = [logging.getLogger(name) for name in CHATTY_LOGGERS]
    levels = [each.level for each in loggers]
    for each in loggers:
        each.setLevel(max(logging.WARNING, logging.getLogger().level))
    try:
        yield
    finally:
        for each, level in zip(loggers, levels, strict=True):
            each.setLevel(level)


def run_demo(settings: Settings, *, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run the demo in a fresh temporary SQLite database (DATABASE_URL is never touched); returns the exit code."""
    out, err = out or sys.stdout, err or sys.stderr
    # The pipeline migrates the database itself, timing it as a step of the demo.
    with (
        tempfile.TemporaryDirectory(prefix="geobrief-demo-") as folder,
        _quiet_logs(settings),
        Database.open(f"sqlite:///{Path(folder) / 'demo.sqlite3'}", upgrade=False) as database,
    ):
        return asyncio.run(run_pipeline(settings, database, out=out, err=err))


async def run_pipeline(
    settings: Settings, database: Database, *, out: TextIO, err: TextIO, bundle: Bundle | None = None
) -> int:
    """Serve the bundle, ingest it in two rounds, process it, post the console digest and answer the questions.

    Args:
        settings: the bot's settings (the encoder's; the database and feeds come from the demo).
        database: an empty database that the demo may fill (its schema is brought up to date first).
        out: where the digest and the answers go.
        err: where the progress lines go.
        bundle: the sample news (default: the bundled one).

    Returns:
        0 when the digest has stories and both questions found an answer, else 1.
    """
    bundle = bundle or load_bundle()
    progress = Progress(err, STEPS)
    progress.start("Starting a temporary database and the sample news site")
    await asyncio.to_thread(database.upgrade)
    async with DemoNewsServer(bundle) as server, HttpClient(demo_policy(settings)) as http:
        for outlet in bundle.outlets:
            add_feed(
                database,
                server.feed_url(outlet),
                name=outlet.name,
                country=outlet.country,
                language=outlet.language,
                allow_private=True,  # an operator's feed on this computer, not a URL from a chat user
            )
        progress.done(f"{len(bundle.outlets)} feeds, {len(bundle.articles)} articles at {server.base_url}")

        # The ingestion defaults, not the settings': the demo's dates are chosen for them.
        options = IngestOptions()
        progress.start("Round 1: first poll, the feeds' current items become backlog")
        first = await run_ingest_pass(database, http, options)
        progress.done(_ingest_outcome(first, server.page_requests, database))

        pages_before = server.page_requests
        progress.start("Fetching the backlog's pages, as the bot does in the background")
        backfill = await run_backfill_pass(database, http, options)
        progress.done(_backfill_outcome(backfill, server.page_requests - pages_before))

        server.round = 2
        pages_before = server.page_requests
        progress.start("Round 2: next poll, new items get their pages fetched")
        second = await run_ingest_pass(database, http, options)
        progress.done(_ingest_outcome(second, server.page_requests - pages_before, database))

        service = NewsService(settings, database, http)
        progress.start("Loading the sentence encoder (MiniLM)")
        await asyncio.to_thread(encoder_for(settings).load)
        progress.done()

        progress.start("Processing: tags, embeddings, stories across outlets")
        report = await service.process_new_articles()
        progress.done(f"{report.articles} articles, {report.stories_created} stories")

        progress.start("Posting the console digest through the outbox")
        digest_text = io.StringIO()
        result = await post_digest(service, digest_text, limit=DIGEST_ITEMS)
        posted = result.outcome is DigestOutcome.POSTED
        progress.done("posted" if posted else result.message)
        out.write("\n" + digest_text.getvalue())
        out.flush()

        # Round 3: a story of the digest grows; the next digest posts only what is new, in the story's thread.
        server.round = 3
        pages_before = server.page_requests
        progress.start("Round 3: next poll, a story in the digest gets more coverage")
        third = await run_ingest_pass(database, http, options)
        progress.done(_ingest_outcome(third, server.page_requests - pages_before, database))
        progress.start("Processing the new coverage")
        report = await service.process_new_articles()
        progress.done(
            f"{report.articles} articles, {report.stories_updated} {_stories(report.stories_updated)} changed"
        )
        progress.start("Posting the next digest: updates go to their story's thread")
        update_text = io.StringIO()
        await post_digest(service, update_text, limit=DIGEST_ITEMS)
        updated = await asyncio.to_thread(_updated_stories, database)
        progress.done(f"{len(updated)} {_stories(len(updated))} updated")
        out.write("\n" + update_text.getvalue())
        for story_id in updated[:1]:
            out.write(f"\n$ python -m bot story {story_id}\n{render_story(await service.story(str(story_id)))}")
        out.flush()

        progress.start(f"Answering {len(QUESTIONS)} example questions")
        answers = [await service.ask(question) for question in QUESTIONS]
        progress.done(f"{sum(answer.found for answer in answers)} answered")
        for answer in answers:
            out.write(f"\nQ: {answer.question}\n{render_answer(answer)}")
        out.flush()

    ok = posted and bool(updated) and all(answer.found for answer in answers)
    err.write(f"\nDemo {'finished' if ok else 'FAILED'} in {progress.elapsed:.1f} s.\n{HINT}")
    return 0 if ok else 1


def _stories(count: int) -> str:
    return "story" if count == 1 else "stories"


def _updated_stories(database: Database) -> list[int]:
    """The stories whose update was posted (their deliveries are keyed "<occurrence>~u<story>")."""
    query = select(Delivery.story_ids).where(
        Delivery.occurrence_key.contains("~u"), Delivery.status == DeliveryStatus.SENT
    )
    with database.session() as session:
        return [int(story_id) for ids in session.scalars(query) for story_id in ids]


def _ingest_outcome(report: IngestReport, pages: int, database: Database) -> str:
    """What a polling round did, e.g. "23 new (12 full text, 11 feed teaser only), 7 already stored, 23 pages"."""
    parts = []
    if report.total("new"):
        parts.append(f"{report.total('new')} new ({_new_by_kind(database)})")
    if report.total("backlog"):
        parts.append(f"{report.total('backlog')} backlog")
    if report.total("duplicate"):
        parts.append(f"{report.total('duplicate')} already stored")
    parts.append(f"{pages} pages requested")
    if report.failed:
        parts.append(f"{len(report.failed)} feeds failed")
    return ", ".join(parts)


def _backfill_outcome(report: BackfillReport, pages: int) -> str:
    """What the backfill did, e.g. "3 full text, 4 feed teaser only, 7 pages requested"."""
    counts = {
        TextKind.FULL_TEXT: report.full_text,
        TextKind.TEASER: report.teaser,
        TextKind.BLOCKED: report.blocked,
    }
    parts = [f"{count} {TEXT_KIND_LABELS[kind]}" for kind, count in counts.items() if count]
    return ", ".join([*parts, f"{pages} pages requested"])


def _new_by_kind(database: Database) -> str:
    """The stored news (not backlog) by what its text is, e.g. "12 full text, 11 feed teaser only"."""
    query = select(Article.text_kind, func.count()).where(Article.is_backlog.is_(False)).group_by(Article.text_kind)
    with database.session() as session:
        counts = Counter({kind: int(count) for kind, count in session.execute(query)})
    return ", ".join(f"{counts[kind]} {TEXT_KIND_LABELS[kind]}" for kind in TextKind if counts[kind])
