"""A developing story for the follow-up tests: the demo bundle's real South Sudan coverage, re-dated.

Reuters and USA Today report it first; BBC News, Radio Netherlands Worldwide and The New York Times follow, adding
outlets, a publisher country (NL) and facts the first two did not carry. A second, unrelated story (a Daily Mail
article of the bundle) shares the archive, so filters and "never twice" have something to leave out.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.demo.bundle import load_bundle
from bot.intelligence import process_new_articles
from bot.storage import Database
from tests.intelligence.shared import FixtureArticle, shared_encoder, store_articles

FIRST = ("reuters", "usatoday")
LATER = ("bbc", "rnw", "nytimes")
OTHER = ("dailymail", "Syria-finishing-school")
OUTLETS = {"reuters": "GB", "usatoday": "US", "bbc": "GB", "rnw": "NL", "nytimes": "US", "dailymail": "GB"}


def _articles(paths: tuple[str, ...], published: datetime) -> list[FixtureArticle]:
    bundle = load_bundle()
    names = {outlet.path: outlet.name for outlet in bundle.outlets}
    chosen = []
    for offset, path in enumerate(paths):
        article = next(
            a for a in bundle.articles if a.outlet == path and (path != "dailymail" or a.slug.startswith(OTHER[1]))
        )
        assert article.text is not None
        chosen.append(
            FixtureArticle(
                key=path,
                event="south-sudan" if path != "dailymail" else "syria",
                outlet=names[path],
                country=OUTLETS[path],
                url=f"https://{path}.example/{article.slug}",
                published=published + timedelta(minutes=10 * offset),
                kind="full_text",
                title=article.title,
                text=article.text,
            )
        )
    return chosen


def store_first_reports(database: Database, published: datetime) -> dict[str, int]:
    """Store and process the first two reports of the story, and the unrelated one."""
    ids = store_articles(database, _articles((*FIRST, OTHER[0]), published))
    process_new_articles(database, shared_encoder())
    return ids


def store_later_reports(database: Database, published: datetime, paths: tuple[str, ...] = LATER) -> dict[str, int]:
    """Store and process the outlets that report the story later."""
    ids = store_articles(database, _articles(paths, published))
    process_new_articles(database, shared_encoder())
    return ids
