"""Fixtures for the news tests: the loopback server and a fast, strict HTTP client."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.news.http import HttpClient, HttpPolicy
from tests.news.server import FeedServer, start_server

USER_AGENT = "geobrief-tests/1.0 (+https://example.org/geobrief)"


def fast_policy(**overrides: object) -> HttpPolicy:
    """A policy with small timeouts and no politeness delay, so the suite stays fast."""
    values: dict[str, object] = {
        "user_agent": USER_AGENT,
        "timeout": 0.5,
        "deadline": 2.0,
        "max_bytes": 1_000_000,
        "max_retries": 2,
        "max_redirects": 3,
        "per_host_concurrency": 4,
        "politeness_delay": 0.0,
        "backoff_base": 0.01,
        "backoff_max": 0.05,
        "retry_after_max": 5.0,
    }
    values.update(overrides)
    return HttpPolicy(**values)  # type: ignore[arg-type]


@pytest.fixture
async def server() -> AsyncIterator[FeedServer]:
    """A fresh HTTP server on 127.0.0.1 with no routes."""
    feed_server, runner = await start_server()
    try:
        yield feed_server
    finally:
        await runner.cleanup()


@pytest.fixture
async def http() -> AsyncIterator[HttpClient]:
    """An HTTP client with the fast test policy."""
    async with HttpClient(fast_policy()) as client:
        yield client
