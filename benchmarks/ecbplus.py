"""An archive of the ECB+ dev articles, built the way the bot builds one on day one.

The articles (``../shared/data/stories-dev/ecbplus.jsonl``: 982 real news articles about 86 events) are served from
a loopback web server as one RSS feed per outlet whose items carry only a teaser (the first line), and one HTML page
per article that carries the text (a paragraph per line; its ``rel=canonical`` names the article's own URL where
the corpus knows it, which the bot ignores since it is on another site). Each item's GUID is the article's line
number in the corpus. Then the production code runs: the feeds are added, the first poll stores every item as
backlog (`run_ingest_pass`), the backfill fetches and extracts every page (`run_backfill_pass`, trafilatura), and
`process_new_articles` tags, embeds, indexes and clusters them. Articles without an outlet in the corpus (about
half) are spread over 12 stand-in outlets, so that "other outlets" means something for them too.

Dates follow the corpus's evaluation protocol: every event at a random time within the last 6 days (seeded), its
articles within 18 hours after it.
"""

from __future__ import annotations

import asyncio
import html
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from bot.news.backfill import BackfillReport, run_backfill_pass
from bot.news.feeds import add_feed
from bot.news.http import HttpClient, HttpPolicy
from bot.news.ingest import IngestOptions, IngestReport, run_ingest_pass
from bot.storage import Database
from tests.news.feeds import Item, rss
from tests.news.server import FeedServer, start_server

STAND_IN_OUTLETS = 12
SEED = 2014  # the corpus's year; any fixed seed will do


@dataclass(frozen=True)
class CorpusArticle:
    """One line of ecbplus.jsonl, with the outlet and time it is served under."""

    index: int
    event: str
    outlet: str
    url: str | None  # the article's own URL, when the corpus has it
    title: str
    text: str
    published: datetime


def load_corpus(path: Path, now: datetime) -> list[CorpusArticle]:
    """The articles of ``path`` with stand-in outlets and dates (see the module docstring)."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    rng = random.Random(SEED)
    events = sorted({row["event_id"] for row in rows})
    starts = {
        event: now - timedelta(days=6) + timedelta(seconds=rng.uniform(0, 6 * 86400 - 18 * 3600)) for event in events
    }
    articles = []
    for index, row in enumerate(rows):
        text = row["text"].strip()
        first_line = text.splitlines()[0] if text else ""
        published = starts[row["event_id"]] + timedelta(seconds=rng.uniform(0, 18 * 3600))
        articles.append(
            CorpusArticle(
                index=index,
                event=row["event_id"],
                outlet=row["outlet"] or f"wire-{index % STAND_IN_OUTLETS + 1:02d}.example",
                url=row["url"],
                title=(row["title"] or first_line)[:200],
                text=text,
                published=min(published, now - timedelta(minutes=1)),
            )
        )
    return articles


def _page(article: CorpusArticle) -> str:
    canonical = f'<link rel="canonical" href="{html.escape(article.url)}">' if article.url else ""
    paragraphs = "".join(f"<p>{html.escape(line.strip())}</p>" for line in article.text.splitlines() if line.strip())
    title = html.escape(article.title)
    return (
        f"<!DOCTYPE html><html><head><title>{title}</title>{canonical}</head><body>"
        "<nav><a href='/'>Home</a> <a href='/news'>News</a></nav>"
        f"<article><h1>{title}</h1>{paragraphs}</article>"
        "<footer>Contact us. Privacy policy.</footer></body></html>"
    )


def serve(server: FeedServer, articles: Sequence[CorpusArticle]) -> dict[str, str]:
    """Serve a teaser feed per outlet and a page per article; returns feed URL by outlet."""
    by_outlet: dict[str, list[CorpusArticle]] = {}
    for article in articles:
        server.serve_html(f"/a/{article.index}", _page(article))
        by_outlet.setdefault(article.outlet, []).append(article)
    feeds = {}
    for number, (outlet, items) in enumerate(sorted(by_outlet.items())):
        entries = [
            Item(a.title, server.url(f"/a/{a.index}"), guid=str(a.index), description=a.text.splitlines()[0][:300],
                 published=a.published)
            for a in sorted(items, key=lambda a: a.published, reverse=True)
        ]  # fmt: skip
        feeds[outlet] = server.serve_bytes(f"/feeds/{number}.rss", rss(entries, title=outlet))
    return feeds


@dataclass(frozen=True)
class BuildReport:
    """What building the archive did."""

    ingest: IngestReport
    backfill: tuple[BackfillReport, ...]


async def build_archive(database: Database, articles: Sequence[CorpusArticle], now: datetime) -> BuildReport:
    """Serve the articles, add their feeds, poll once, then run backfill passes until no page waits."""
    server, runner = await start_server()
    try:
        feeds = serve(server, articles)
        for outlet, url in feeds.items():
            add_feed(database, url, name=outlet, allow_private=True)
        options = IngestOptions(max_article_age=timedelta(days=7), feed_concurrency=16)
        # Every feed and page is on this one loopback host: no politeness delay, 16 requests at a time.
        policy = HttpPolicy(user_agent="geobrief-eval", max_retries=1, per_host_concurrency=16, politeness_delay=0.0)
        async with HttpClient(policy) as http:
            ingest = await run_ingest_pass(database, http, options, now=now)
            passes: list[BackfillReport] = []
            while not passes or passes[-1].waiting:
                passes.append(await run_backfill_pass(database, http, options))
                if passes[-1].pages == 0:
                    break
    finally:
        await runner.cleanup()
    return BuildReport(ingest, tuple(passes))


def build(database: Database, articles: Sequence[CorpusArticle], now: datetime) -> BuildReport:
    """`build_archive`, from synchronous code."""
    return asyncio.run(build_archive(database, articles, now))
