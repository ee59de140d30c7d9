"""Fixtures for the operators' view: a small archive with feeds, stories and deliveries, and the web app on loopback."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from aiohttp import web

from bot.ops.web import StatusSite, build_web_app
from bot.storage import Article, Database, Delivery, DeliveryStatus, Feed, Story, Subscription, TextKind
from bot.storage.models import ArticleAnalysis

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
BODY_MARKER = "BODY-TEXT-NEVER-ON-THE-PAGE"  # in every article's text: the page must never show it
TOKEN = "status-token-for-tests-0123456789"


def fill(database: Database) -> None:
    """Two feeds (one failing), three articles (one unprocessed, one awaiting its page), a story, two channels."""
    with database.session() as session:
        good = Feed(url="https://good.example/rss", name="Good News", last_success_at=NOW - timedelta(minutes=5))
        bad = Feed(
            url="https://bad.example/rss",
            name="Bad Feed",
            consecutive_failures=4,
            last_error="HTTP 503 Service Unavailable",
            retry_after=NOW + timedelta(hours=2),
        )
        session.add_all([good, bad])
        session.flush()
        story = Story(
            title="Leaders agree to resume talks",
            outlets=["Good News", "Other Wire"],
            countries=["JP", "KR"],
            article_count=2,
            last_published_at=NOW - timedelta(hours=1),
        )
        session.add(story)
        session.flush()
        for number, kind in enumerate([TextKind.FULL_TEXT, TextKind.TEASER, TextKind.BLOCKED], start=1):
            text = f"Article {number}. {BODY_MARKER}"
            article = Article(
                canonical_url=f"https://good.example/{number}",
                content_hash=hashlib.sha256(text.encode()).hexdigest(),
                title=f"Article {number}",
                outlet="Good News",
                feed_id=good.id,
                published_at=NOW - timedelta(hours=number),
                fetched_at=NOW - timedelta(minutes=10 * number),
                text=text,
                text_kind=kind,
                page_pending=kind is TextKind.TEASER,  # a backlog item whose page the backfill has yet to fetch
                story_id=story.id if number < 3 else None,
            )
            session.add(article)
            session.flush()
            if number < 3:  # the third waits to be processed
                session.add(ArticleAnalysis(article_id=article.id, encoder="test", vector=b"", sentence_vectors=b""))
        active = Subscription(platform="slack", workspace_id="T1", channel_id="CACTIVE", schedule="08:00")
        paused = Subscription(
            platform="discord",
            workspace_id="G1",
            channel_id="CPAUSED",
            schedule="every 6h",
            paused_reason="Missing Access",
        )
        session.add_all([active, paused])
        session.flush()
        session.add_all(
            [
                Delivery(subscription_id=active.id, occurrence_key="a", status=DeliveryStatus.SENT, sent_at=NOW),
                Delivery(subscription_id=active.id, occurrence_key="b", status=DeliveryStatus.SENT, sent_at=NOW),
                Delivery(
                    subscription_id=active.id, occurrence_key="c", status=DeliveryStatus.PENDING, last_error="HTTP 503"
                ),
                Delivery(
                    subscription_id=paused.id,
                    occurrence_key="d",
                    status=DeliveryStatus.FAILED,
                    last_error="Missing Access",
                ),
            ]
        )


@pytest.fixture
def filled(database: Database) -> Database:
    """The migrated database (each backend) with `fill`'s rows."""
    fill(database)
    return database


@dataclass
class Served:
    """The web app on 127.0.0.1 and a client for it."""

    base: str
    client: httpx.AsyncClient
    site: StatusSite

    async def get(self, path: str, **kwargs: object) -> httpx.Response:
        return await self.client.get(self.base + path, **kwargs)  # type: ignore[arg-type]


ServeFactory = Callable[..., Awaitable[Served]]


@pytest.fixture
async def serve() -> AsyncIterator[ServeFactory]:
    """Start `build_web_app` for a database (optionally with a token) on a free loopback port."""
    runners: list[web.AppRunner] = []
    clients: list[httpx.AsyncClient] = []

    async def start(database: Database, *, token: str | None = None) -> Served:
        site = StatusSite(database, token=token, clock=lambda: NOW)
        runner = web.AppRunner(build_web_app(site), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        runners.append(runner)
        client = httpx.AsyncClient(follow_redirects=False)
        clients.append(client)
        return Served(f"http://127.0.0.1:{runner.addresses[0][1]}", client, site)

    yield start
    for client in clients:
        await client.aclose()
    for runner in runners:
        await runner.cleanup()
