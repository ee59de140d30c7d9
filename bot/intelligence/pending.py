"""What questions cannot see yet: stored articles not processed, and backlog articles still waiting for their page."""

from __future__ import annotations

import logging

from sqlalchemy import func, select

from bot.news.feeds import pages_waiting
from bot.storage import Database
from bot.storage.models import Article, ArticleAnalysis

log = logging.getLogger(__name__)


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
