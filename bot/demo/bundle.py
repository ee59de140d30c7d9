"""The demo's sample news: real articles and feed teasers, stored once in bot/demo/data/articles.json.

The articles are real but old; the demo server re-dates them relative to the moment it starts (`hours_ago`), so
the age filter of ingestion and the digest window keep them. See bot/demo/data/README.md for their provenance.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

BUNDLE_PATH = Path(__file__).resolve().parent / "data" / "articles.json"


@dataclass(frozen=True)
class DemoOutlet:
    """One outlet of the bundle; the demo server gives it one RSS feed."""

    name: str
    path: str  # URL path segment of its feed and pages
    country: str | None  # ISO 3166-1 alpha-2 of the publisher, None when unknown
    language: str


@dataclass(frozen=True)
class DemoArticle:
    """One article of the bundle."""

    outlet: str  # the `DemoOutlet.path` it belongs to
    slug: str  # URL path segment of its page
    title: str
    hours_ago: float  # its publish time, counted back from when the server starts
    round: int  # the polling round whose feed first carries it: 1 (the backlog a new feed holds) or 2 (news)
    teaser: str  # what the feed item says
    text: str | None  # the article page's text, paragraphs separated by blank lines; None: no page (404)
    source: str  # where the text comes from (see the data README)


@dataclass(frozen=True)
class Bundle:
    """The outlets and their articles."""

    outlets: tuple[DemoOutlet, ...]
    articles: tuple[DemoArticle, ...]

    def articles_of(self, outlet: DemoOutlet) -> list[DemoArticle]:
        """The outlet's articles, newest first (the order of a feed)."""
        return sorted((a for a in self.articles if a.outlet == outlet.path), key=lambda a: a.hours_ago)


@cache
def load_bundle(path: Path = BUNDLE_PATH) -> Bundle:
    """Read the bundle (once per process)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return Bundle(
        outlets=tuple(DemoOutlet(**outlet) for outlet in data["outlets"]),
        articles=tuple(DemoArticle(**article) for article in data["articles"]),
    )
