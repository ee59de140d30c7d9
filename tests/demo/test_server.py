"""The bundled sample news and the loopback site that serves it, and the two polling rounds the demo shows."""

from __future__ import annotations

import html
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from bot.config import Settings
from bot.demo.bundle import BUNDLE_PATH, load_bundle
from bot.demo.run import demo_policy
from bot.demo.server import DemoNewsServer
from bot.digests.dispatch import DIGEST_WINDOW
from bot.news.feeds import add_feed
from bot.news.http import HttpClient
from bot.news.ingest import IngestOptions, run_ingest_pass
from bot.news.parse import parse_feed
from bot.storage import Article, Database, TextKind

BUNDLE = load_bundle()


@pytest.fixture
async def site() -> AsyncIterator[DemoNewsServer]:
    async with DemoNewsServer(BUNDLE) as server:
        yield server


def test_bundle_is_small_real_and_dated_for_the_demo():
    """The bundle stays under 2 MB, names its sources, and its backlog is older than a digest looks back."""
    assert BUNDLE_PATH.stat().st_size < 2_000_000
    assert len(BUNDLE.articles) >= 24
    outlets = {outlet.path for outlet in BUNDLE.outlets}
    max_age = IngestOptions().max_article_age
    for article in BUNDLE.articles:
        assert article.outlet in outlets and article.title and article.teaser and article.source
        assert article.round in (1, 2, 3)  # 3: more coverage of a story the first digest had
        assert timedelta(hours=article.hours_ago) < max_age - timedelta(hours=1), article.title
        if article.round == 1:
            # So the backlog never reaches a digest, whatever the ranking does with it.
            assert timedelta(hours=article.hours_ago) > DIGEST_WINDOW, article.title
    assert any(article.text is None for article in BUNDLE.articles), "a teaser-only outlet"
    assert {outlet.path for outlet in BUNDLE.outlets} == {article.outlet for article in BUNDLE.articles}


async def test_round_one_serves_only_the_oldest_items_and_round_two_all(site: DemoNewsServer):
    """Each feed first carries its backlog items only; in round 2 it carries every item, newest first."""
    async with httpx.AsyncClient() as client:
        for round_number in (1, 2, 3):
            site.round = round_number
            for outlet in BUNDLE.outlets:
                response = await client.get(site.feed_url(outlet))
                assert response.headers["content-type"].startswith("application/rss+xml")
                feed = parse_feed(response.content, url=str(response.url), http_charset="utf-8", max_items=100)
                expected = [a for a in BUNDLE.articles_of(outlet) if a.round <= round_number]
                assert [item.link for item in feed.items] == [site.article_url(a) for a in expected]
                assert [item.title for item in feed.items] == [a.title for a in expected]


async def test_pages_exist_once_published_and_only_for_outlets_with_pages(site: DemoNewsServer):
    """A page answers 200 with the article text once its item is out; teaser-only outlets answer 404."""
    news = next(a for a in BUNDLE.articles if a.round == 2 and a.text is not None)
    teaser_only = next(a for a in BUNDLE.articles if a.text is None)
    async with httpx.AsyncClient() as client:
        assert (await client.get(site.article_url(news))).status_code == 404  # not published in round 1
        site.round = 2
        page = await client.get(site.article_url(news))
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert news.text is not None and html.escape(news.text.split("\n\n")[-1]) in page.text
        assert (await client.get(site.article_url(teaser_only))).status_code == 404
    assert site.page_requests == 3


async def test_first_poll_stores_backlog_without_pages_then_news_gets_full_text(
    site: DemoNewsServer, sqlite_database: Database
):
    """Round 1 is stored as backlog with no page fetched; round 2's new items get pages, Guardian keeps teasers."""
    for outlet in BUNDLE.outlets:
        add_feed(sqlite_database, site.feed_url(outlet), name=outlet.name, country=outlet.country, allow_private=True)
    async with HttpClient(demo_policy(Settings(_env_file=None))) as http:
        first = await run_ingest_pass(sqlite_database, http, IngestOptions())
        assert (first.total("backlog"), first.total("new"), site.page_requests) == (
            sum(a.round == 1 for a in BUNDLE.articles),
            0,
            0,
        )
        site.round = 2
        second = await run_ingest_pass(sqlite_database, http, IngestOptions())
    news = [a for a in BUNDLE.articles if a.round == 2]
    assert second.total("new") == len(news)
    assert second.total("duplicate") == first.total("backlog")
    with sqlite_database.session() as session:
        stored = {article.title: article for article in session.scalars(select(Article))}
        for item in (a for a in BUNDLE.articles if a.round <= 2):
            article = stored[item.title]
            assert article.is_backlog is (item.round == 1)
            assert article.published_at.replace(tzinfo=site.now.tzinfo) == pytest.approx(
                site.published_at(item), abs=timedelta(seconds=1)
            )
            if item.round == 1:
                assert article.text_kind is TextKind.TEASER  # a poll fetches no backlog page (the backfill does)
            else:
                assert article.text_kind is (TextKind.TEASER if item.text is None else TextKind.FULL_TEXT)
