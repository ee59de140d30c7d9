"""Helpers shared by the news-intelligence tests: the real MiniLM (loaded once) and the labelled articles."""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot.config import Settings
from bot.intelligence.encoder import encoder_for
from bot.storage import Article, Database, Feed, TextKind
from summarizer.encoder import Encoder

DATA = Path(__file__).resolve().parent / "data"


# The settings the intelligence tests run the CLI with: fp32 (deterministic), two threads.
ENCODER_ENV = {"ENCODER_THREADS": "2", "ENCODER_BF16": "false"}


@cache
def shared_encoder() -> Encoder:
    """The real all-MiniLM-L6-v2, loaded once per test session (about 3 s) and shared by every test.

    It is the bot's own per-process encoder for ``ENCODER_ENV``, so CLI commands run in tests reuse it.
    """
    settings = Settings(_env_file=None, encoder_threads=2, encoder_bf16=False)
    encoder = encoder_for(settings)
    encoder.load()
    return encoder


@dataclass(frozen=True)
class FixtureArticle:
    """One article of tests/intelligence/data/articles.toml."""

    key: str
    event: str
    outlet: str
    country: str
    url: str
    published: datetime
    kind: str
    title: str
    text: str


@cache
def fixture_articles() -> tuple[FixtureArticle, ...]:
    """Every test article, in file order."""
    with (DATA / "articles.toml").open("rb") as handle:
        return tuple(FixtureArticle(**entry) for entry in tomllib.load(handle)["articles"])


def article(key: str) -> FixtureArticle:
    """The test article with this key."""
    return next(item for item in fixture_articles() if item.key == key)


@cache
def eval_set() -> dict[str, Any]:
    """The labelled questions and tags (tests/intelligence/data/eval.toml)."""
    with (DATA / "eval.toml").open("rb") as handle:
        return tomllib.load(handle)


def store_articles(database: Database, items: Iterable[FixtureArticle]) -> dict[str, int]:
    """Store test articles as ingestion would (one feed per outlet, with its country); returns key -> article id."""
    ids: dict[str, int] = {}
    with database.session() as session:
        feeds = {feed.name: feed for feed in session.scalars(select(Feed))}
        for item in items:
            feed = feeds.get(item.outlet)
            if feed is None:
                slug = "".join(char for char in item.outlet.lower() if char.isalnum())
                feed = Feed(url=f"https://{slug}.example/rss", name=item.outlet, country=item.country, language="en")
                session.add(feed)
                session.flush()
                feeds[item.outlet] = feed
            row = Article(
                canonical_url=item.url,
                guid=item.url,
                content_hash=hashlib.sha256(item.text.encode()).hexdigest(),
                title=item.title,
                outlet=item.outlet,
                feed_id=feed.id,
                published_at=item.published,
                fetched_at=item.published + timedelta(minutes=5),
                text=item.text,
                language="en",
                text_kind=TextKind(item.kind),
            )
            session.add(row)
            session.flush()
            ids[item.key] = row.id
    return ids


def store_pending(database: Database, *, processing: int = 0, pages: int = 0) -> None:
    """Store copies of a test article that questions cannot see yet: ``processing`` not processed, ``pages``
    backlog teasers waiting for their page."""
    base = article("opec-riyadh")
    copies = [
        replace(base, key=f"pending-{n}", url=f"https://pending.example/{n}", text=f"{base.text} Pending copy {n}.")
        for n in range(processing + pages)
    ]
    ids = store_articles(database, copies)
    with database.session() as session:
        for key in list(ids)[processing:]:
            row = session.get_one(Article, ids[key])
            row.is_backlog = row.page_pending = True
