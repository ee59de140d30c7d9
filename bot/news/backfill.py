"""Backlog backfill: the article pages of the teasers that a feed carried on its first fetch.

A feed's first fetch stores its items as backlog without fetching their pages (that pass costs the publisher one
request) and marks each teaser `page_pending`. This pass fetches those pages afterwards, exactly as the pages of
new items are fetched (`fetch_page_text`: full text, rel=canonical, blocked and paywalled pages labelled), through
the shared HTTP client and so at its per-host politeness rate. Each feed's newest waiting items go first, at most
`backlog_pages_per_feed` of them in one pass, one page at a time per feed (feeds in parallel).

Every page's result is committed on its own, so a pass cut short by a restart or a crash loses nothing: the
database is the only record of what still waits, and the next pass continues from it. An article is not
processed (bot/intelligence) while its page is pending, so questions and stories never see a teaser first and the
full text later. Backlog stays backlog: the full text changes nothing about digests, which leave it out.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from bot.news.feeds import pages_waiting
from bot.news.http import HttpClient
from bot.news.ingest import IngestOptions, PageText, fetch_page_text
from bot.news.normalize import detect_language
from bot.storage import Article, Database, Feed, TextKind

log = logging.getLogger(__name__)

DUPLICATE = "duplicate"  # the page's canonical URL is an article already stored: the backlog copy is dropped

Progress = Callable[[int, int], None]  # (pages done, pages planned), called at the start and after each page


@dataclass(frozen=True)
class BackfillReport:
    """What a backfill pass did: pages by outcome, and how many backlog articles still wait for theirs."""

    full_text: int = 0
    teaser: int = 0  # the page had no more text than the feed (or could not be fetched): the teaser stays
    blocked: int = 0
    duplicate: int = 0
    waiting: int = 0
    seconds: float = 0.0

    @property
    def pages(self) -> int:
        """Backlog articles dealt with in this pass."""
        return self.full_text + self.teaser + self.blocked + self.duplicate

    def as_table(self) -> str:
        """The report as plain-text lines, in the layout of the ingestion report."""
        rows = [
            ("Backlog pages", ""),
            ("  full text", str(self.full_text)),
            ("  teaser only", str(self.teaser)),
            ("  blocked", str(self.blocked)),
            ("  duplicate", str(self.duplicate)),
            ("  still waiting", str(self.waiting)),
        ]
        width = max(len(label) for label, _ in rows) + 2
        return "\n".join(f"{label:<{width}}{value:>7}" if value else label for label, value in rows)


@dataclass(frozen=True)
class _Waiting:
    """A backlog teaser whose page is to be fetched, with what fetching it needs."""

    article_id: int
    url: str
    title: str
    text: str
    language: str | None
    feed_url: str
    feed_allow_private: bool


async def run_backfill_pass(
    database: Database, http: HttpClient, options: IngestOptions, *, progress: Progress | None = None
) -> BackfillReport:
    """Fetch the pages of waiting backlog articles: per feed the newest first, at most the cap per feed.

    Safe to run at any time and in several processes (an article already dealt with is skipped); unexpected
    errors on one page are logged and leave that article waiting for the next pass.

    Args:
        database: where the articles live.
        http: the shared HTTP client (its per-host limits and politeness apply).
        options: `backlog_pages_per_feed` caps the pass; with `fetch_pages` off, waiting articles stay teasers.
        progress: called with (pages done, pages planned) at the start and after each page (a progress bar).
    """
    started = time.perf_counter()
    if not options.fetch_pages:
        cleared = _stop_waiting(database)
        return BackfillReport(teaser=cleared, seconds=time.perf_counter() - started)
    queues = _next_pages(database, options.backlog_pages_per_feed)
    planned = sum(len(queue) for queue in queues)
    outcomes: Counter[str] = Counter()
    if progress is not None:
        progress(0, planned)
    gate = asyncio.Semaphore(options.feed_concurrency)

    async def one_feed(queue: Sequence[_Waiting]) -> None:
        async with gate:
            for item in queue:
                try:
                    outcome = await _backfill(database, http, item)
                except Exception:  # a bug or a database problem: this article waits for the next pass
                    log.exception("backlog page %s: unexpected error", item.url)
                    outcome = None
                if outcome is not None:
                    outcomes[outcome] += 1
                if progress is not None:
                    progress(sum(outcomes.values()), planned)

    await asyncio.gather(*(one_feed(queue) for queue in queues))
    report = BackfillReport(
        full_text=outcomes[TextKind.FULL_TEXT.value],
        teaser=outcomes[TextKind.TEASER.value],
        blocked=outcomes[TextKind.BLOCKED.value],
        duplicate=outcomes[DUPLICATE],
        waiting=sum(pages_waiting(database).values()),
        seconds=time.perf_counter() - started,
    )
    if report.pages:
        log.info(
            "backfill: %d backlog pages (%d full text, %d teaser, %d blocked, %d duplicate), %d still waiting",
            report.pages,
            report.full_text,
            report.teaser,
            report.blocked,
            report.duplicate,
            report.waiting,
        )
    return report


def _next_pages(database: Database, per_feed: int) -> list[list[_Waiting]]:
    """Per feed, its newest waiting articles (at most ``per_feed``), newest first."""
    order = select(Article.id, Article.feed_id).where(Article.page_pending)
    order = order.order_by(Article.feed_id, Article.published_at.desc(), Article.id.desc())
    chosen: dict[int | None, list[int]] = {}
    with database.session() as session:
        for article_id, feed_id in session.execute(order):
            ids = chosen.setdefault(feed_id, [])
            if len(ids) < per_feed:
                ids.append(article_id)
        wanted = [article_id for ids in chosen.values() for article_id in ids]
        rows = session.execute(
            select(Article, Feed.url, Feed.allow_private)
            .outerjoin(Feed, Feed.id == Article.feed_id)
            .where(Article.id.in_(wanted))
        ).all()
        items = {
            article.id: _Waiting(
                article.id,
                article.canonical_url,
                article.title,
                article.text,
                article.language,
                feed_url or "",
                bool(allow_private),
            )
            for article, feed_url, allow_private in rows
        }
    return [[items[article_id] for article_id in ids if article_id in items] for ids in chosen.values()]


async def _backfill(database: Database, http: HttpClient, item: _Waiting) -> str | None:
    """Fetch one backlog page and store what it gave; returns the outcome (None: nothing left to do)."""
    page = await fetch_page_text(
        http, item.url, item.text, feed_url=item.feed_url, feed_allow_private=item.feed_allow_private
    )
    language = item.language
    if page.kind is TextKind.FULL_TEXT:
        language = await asyncio.to_thread(detect_language, f"{item.title}\n{page.text}", item.language)
    for attempt in range(2):
        try:
            return _store(database, item, page, language)
        except IntegrityError:  # another process stored the page's canonical URL meanwhile: check again
            if attempt:
                raise
    raise AssertionError("unreachable")


def _store(database: Database, item: _Waiting, page: PageText, language: str | None) -> str | None:
    with database.session() as session:
        article = session.get(Article, item.article_id)
        if article is None or not article.page_pending:
            return None  # removed, or dealt with by another process
        if page.url != article.canonical_url:
            taken = session.scalar(select(Article.id).where(Article.canonical_url == page.url))
            if taken is not None:
                log.info("backlog page %s is article %s (%s): dropped the copy", item.url, taken, page.url)
                session.delete(article)
                return DUPLICATE
            article.canonical_url = page.url
        article.text, article.text_kind, article.language = page.text, page.kind, language
        article.page_pending = False
        return page.kind.value


def _stop_waiting(database: Database) -> int:
    """Page fetching is off: every waiting article stays the teaser it is; returns how many there were."""
    with database.session() as session:
        result = session.execute(update(Article).where(Article.page_pending).values(page_pending=False))
        return int(getattr(result, "rowcount", 0) or 0)
