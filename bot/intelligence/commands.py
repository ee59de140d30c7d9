"""The `python -m bot process` command (registered in bot/cli.py), processing with a progress bar for the command
line, and the line that tells users what is not searchable yet. `ask` and `brief` are console commands."""

from __future__ import annotations

import argparse
import logging
import sys

from sqlalchemy import func, select

from bot.config import Settings
from bot.errors import UserInputError
from bot.intelligence.encoder import encoder_for
from bot.intelligence.processing import BATCH_SIZE, ProcessReport, process_new_articles
from bot.news.feeds import pages_waiting
from bot.storage import Database
from bot.storage.models import Article, ArticleAnalysis
from bot.tasks import ProcessingBusyError, process_articles_job
from summarizer.encoder import TextEncoder
from summarizer.tagging import Tagger

log = logging.getLogger(__name__)


def _open(settings: Settings) -> Database:
    from bot.cli import open_database  # the CLI module imports this one; import at call time

    return open_database(settings)


def unprocessed_count(database: Database) -> int:
    """How many stored articles are ready to be processed (tagged, embedded, clustered) and are not yet.

    Backlog articles still waiting for their page (`bot.news.backfill`) are not counted: they are processed once
    their page has been fetched.
    """
    with database.session() as session:
        query = (
            select(func.count())
            .select_from(Article)
            .outerjoin(ArticleAnalysis, ArticleAnalysis.article_id == Article.id)
            .where(ArticleAnalysis.article_id.is_(None), Article.page_pending.is_(False))
        )
        return int(session.scalar(query) or 0)


def pending_note(database: Database) -> str:
    """One line saying which stored articles questions cannot see yet, or "" when they see every one."""
    processing = unprocessed_count(database)
    pages = sum(pages_waiting(database).values())
    if processing and pages:
        return (
            f"{processing + pages} stored articles are not searched yet: {processing} still being processed, "
            f"{pages} from newly added feeds waiting for their page."
        )
    if processing:
        return f"{_articles(processing)} stored in the last minutes {_be(processing)} not searched yet (processing)."
    if pages:
        return f"{_articles(pages)} from newly added feeds {_be(pages)} not searched yet (fetching their pages)."
    return ""


def _articles(count: int) -> str:
    return f"{count} article{'s' if count != 1 else ''}"


def _be(count: int) -> str:
    return "are" if count != 1 else "is"


def process_pending(database: Database, encoder: TextEncoder, *, progress: bool = True) -> ProcessReport:
    """Process every article that is ready, in batches, with a progress bar on standard error.

    The bar hides itself when standard error is not a terminal (or with ``progress=False``).
    """
    from tqdm import tqdm

    tagger = Tagger(encoder)
    articles = created = 0
    seconds = 0.0
    total = unprocessed_count(database)
    with tqdm(
        total=total, desc="Processing", unit="article", file=sys.stderr, disable=None if progress else True
    ) as bar:
        while True:
            report = process_new_articles(database, encoder, tagger=tagger, limit=BATCH_SIZE)
            articles, created, seconds = (
                articles + report.articles,
                created + report.stories_created,
                seconds + report.seconds,
            )
            bar.update(report.articles)
            if report.articles < BATCH_SIZE:
                break
    # Stories touched by several batches are counted once per batch; the command line shows only new ones.
    return ProcessReport(articles, created, 0, seconds)


def process_command(settings: Settings, args: argparse.Namespace) -> int:
    """`process`: tag, embed, index and cluster the stored articles that are not processed yet."""
    if args.limit is not None and args.limit < 1:
        raise UserInputError("--limit must be 1 or more.")
    database = _open(settings)
    try:
        report = process_articles_job(database, encoder_for(settings), limit=args.limit)
    except ProcessingBusyError:
        sys.stdout.write("Another process is processing articles right now; they will be done there.\n")
        return 0
    finally:
        database.dispose()
    sys.stdout.write(
        f"Processed {report.articles} article(s) in {report.seconds:.1f} s: "
        f"{report.stories_created} new stor{'ies' if report.stories_created != 1 else 'y'}, "
        f"{report.stories_updated} updated.\n"
    )
    return 0
