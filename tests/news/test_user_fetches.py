"""User-driven fetches (`/news summarize`) have their own budget, so people cannot starve feed polling."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from bot.config import Settings
from bot.errors import UserInputError
from bot.news.http import HttpClient
from bot.service import NewsService
from bot.storage import Database
from tests.news.conftest import fast_policy
from tests.news.server import FeedServer, RoutedNetwork

FEED_IP = "93.184.217.1"


def _slow_ip(index: int) -> str:
    return f"93.184.216.{index + 1}"


async def _resolver(host: str, _port: int) -> list[str]:
    if host == "feed.example":
        return [FEED_IP]
    return [_slow_ip(int(host.removeprefix("slow").split(".")[0]))]


async def test_many_slow_summaries_leave_feed_polling_working(server: FeedServer, sqlite_database: Database):
    """Twenty summaries of pages that trickle for seconds hold at most USER_FETCH_CONCURRENCY connections; a feed
    fetch through the same guarded pool (a feed a chat user added) still gets one and succeeds."""
    server.serve_trickle("/slow", 0.1)
    feed = server.serve_bytes("/feed", b"<rss version='2.0'><channel><title>t</title></channel></rss>")
    routes = {_slow_ip(index): ("127.0.0.1", server.port) for index in range(20)} | {
        FEED_IP: ("127.0.0.1", server.port)
    }
    policy = fast_policy(max_connections=10, deadline=3.0, max_retries=0)
    async with HttpClient(policy, resolver=_resolver, network=RoutedNetwork(routes)) as http:
        settings = Settings(_env_file=None, user_fetch_concurrency=4, user_fetches_per_minute=5)
        service = NewsService(settings, sqlite_database, http)
        summaries = [
            asyncio.create_task(service.summarize_url(f"http://slow{index}.example/slow", requester=f"user{index}"))
            for index in range(20)
        ]
        await asyncio.sleep(0.3)
        try:
            response = await http.get(f"http://feed.example{feed.removeprefix(server.url(''))}")
            assert response.content.startswith(b"<rss")
        finally:
            for task in summaries:
                task.cancel()
            for task in summaries:
                with contextlib.suppress(asyncio.CancelledError, UserInputError):
                    await task
    assert server.count("/slow") <= 4


async def test_one_person_may_fetch_a_few_pages_a_minute(server: FeedServer, sqlite_database: Database):
    """The sixth summary a person asks for within a minute is refused politely, without fetching anything."""
    server.serve_html("/page", "<html><body><p>Too short to summarise.</p></body></html>")
    routes = {_slow_ip(0): ("127.0.0.1", server.port)}
    async with HttpClient(fast_policy(), resolver=_resolver, network=RoutedNetwork(routes)) as http:
        service = NewsService(Settings(_env_file=None, user_fetches_per_minute=5), sqlite_database, http)
        for _ in range(5):
            with pytest.raises(UserInputError, match="no article text"):
                await service.summarize_url("http://slow0.example/page", requester="slack:T1:U1")
        with pytest.raises(UserInputError, match=r"5 pages in the last minute; try again in \d+ s"):
            await service.summarize_url("http://slow0.example/page", requester="slack:T1:U1")
        with pytest.raises(UserInputError, match="no article text"):  # someone else still may
            await service.summarize_url("http://slow0.example/page", requester="slack:T1:U2")
    assert server.count("/page") == 6
