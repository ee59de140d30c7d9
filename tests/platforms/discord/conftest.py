"""Fixtures for the Discord adapter: a real NewsService over a copy of the processed archive, a fake Discord API on
127.0.0.1 that every REST call goes to, and the real bot logged in to it (commands synced, test server cached).

Every message payload a test causes is checked against Discord's limits and mention safety when the test ends.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import discord
import httpx
import pytest

from bot.config import Settings
from bot.news.http import HttpClient, HttpPolicy
from bot.platforms.discord.client import NewsBot, build_discord
from bot.service import NewsService
from bot.storage import Database
from tests.conftest import Clock
from tests.intelligence.conftest import NOW
from tests.platforms.discord.fake_discord import ADMIN_ROLE_ID, GUILD_ID, FakeDiscord, guild_payload
from tests.platforms.discord.limits import assert_within_limits

ARTICLE_URL = "https://news.example/world/summit-talks"
ARTICLE_HTML = """<!doctype html><html><head><title>Leaders agree to resume talks | Example News</title></head>
<body><article><h1>Leaders agree to resume talks</h1>
<p>The leaders of Japan and South Korea agreed on Tuesday to resume regular security talks that were suspended two
years ago, officials in both capitals said.</p>
<p>The agreement came after a two-hour meeting in Tokyo in which the two sides discussed North Korea's missile
launches and the security of shipping lanes in the East China Sea.</p>
<p>Officials said the first round of the renewed talks would take place in Seoul next month, with defence and foreign
ministry officials from both countries taking part.</p>
<p>Analysts said the move reflected growing concern in both capitals about regional tensions and the reliability of
existing alliances, and that it could pave the way for a wider trilateral framework.</p>
<p>Critics at home warned that the talks must address historical disputes, which have repeatedly derailed earlier
efforts at cooperation between the two neighbours.</p>
</article></body></html>"""


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


def _page(request: httpx.Request) -> httpx.Response:
    if str(request.url) == ARTICLE_URL:
        return httpx.Response(200, html=ARTICLE_HTML)
    return httpx.Response(404, text="not found")


async def _public_address(host: str, port: int) -> list[str]:
    return ["93.184.216.34"]


@pytest.fixture
def settings() -> Settings:
    # The encoder settings of the archive fixture, so the service reuses the encoder already loaded.
    return Settings(
        _env_file=None,
        encoder_threads=2,
        encoder_bf16=False,
        discord_token="test-token",
        discord_admin_role=ADMIN_ROLE_ID,
    )


@pytest.fixture
async def service(settings: Settings, archive_copy: Database, clock: Clock) -> AsyncIterator[NewsService]:
    """The real service over the archive copy; web pages come from an in-memory site."""
    policy = HttpPolicy(user_agent="geobrief-test", max_retries=0, politeness_delay=0)
    async with HttpClient(policy, transport=httpx.MockTransport(_page), resolver=_public_address) as http:
        yield NewsService(settings, archive_copy, http, clock=clock)


@pytest.fixture
async def fake_discord(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeDiscord]:
    """The fake API, with discord.py pointed at it; afterwards every message payload is checked against the limits."""
    fake = FakeDiscord()
    await fake.start()
    monkeypatch.setattr(discord.http.Route, "BASE", fake.base)
    yield fake
    await fake.stop()
    payloads = fake.message_payloads()
    for payload in payloads:
        assert_within_limits(payload)


@pytest.fixture
async def bot(settings: Settings, service: NewsService, fake_discord: FakeDiscord) -> AsyncIterator[NewsBot]:
    """The bot as the app builds it, logged in to the fake API, publishing for the service, with the server cached."""
    platform = build_discord(settings, service)
    service.add_publisher(platform.name, platform.publisher)
    await platform.bot.login("test-token")
    platform.bot._connection.parse_guild_create(guild_payload())
    assert platform.bot.get_guild(GUILD_ID) is not None
    yield platform.bot
    await platform.close()
