"""The `python -m bot process` command (registered in bot/cli.py); `ask` and `brief` are console commands."""

from __future__ import annotations

import argparse
import logging
import sys

from sqlalchemy import func, select

from bot.config import Settings
from bot.errors import UserInputError
from bot.intelligence.encoder import encoder_for
from bot.storage import Database
from bot.storage.models import Article, ArticleAnalysis
from bot.tasks import ProcessingBusyError, process_articles_job

log = logging.getLogger(__name__)


def _open(settings: Settings) -> Database:
    from bot.cli import open_database  # the CLI module imports this one; import at call time

    return open_database(settings)


def unprocessed_count(database: Database) -> int:
    """How many stored articles have not been processed (tagged, embedded, clustered) yet."""
    with database.session() as session:
        query = (
            select(func.count())
            .select_from(Article)
            .outerjoin(ArticleAnalysis, ArticleAnalysis.article_id == Article.id)
            .where(ArticleAnalysis.article_id.is_(None))
        )
        return int(session.scalar(query) or 0)


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
