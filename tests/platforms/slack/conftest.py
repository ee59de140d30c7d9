"""Fixtures for the Slack adapter: a fake Slack, a real NewsService, and the real aiohttp endpoint on 127.0.0.1.

Requests reach the bot as Slack sends them: form-encoded, signed with the signing secret, over HTTP.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from slack_sdk.signature import SignatureVerifier

from bot.config import Settings
from bot.digests.model import ChannelRef
from bot.news.http import HttpClient, HttpPolicy
from bot.platforms.slack import SlackPlatform
from bot.service import NewsService
from bot.storage import Database
from tests.intelligence.conftest import NOW
from tests.platforms.slack.fake_slack import Call, FakeSlack

SECRET = "test-signing-secret"
TEAM = "T1"
CHANNEL = "C1"
ADMIN = "UADMIN"  # a workspace admin (users.info says so)
MANAGER = "UMANAGER"  # listed in SLACK_SUBSCRIPTION_MANAGERS
MEMBER = "UMEMBER"  # neither
_response_ids = itertools.count(1)


def slack_settings(fake: FakeSlack, **overrides: Any) -> Settings:
    """Settings for a bot that talks to the fake (and uses the tests' shared encoder settings)."""
    values: dict[str, Any] = {
        "slack_bot_token": "xoxb-test-token",
        "slack_signing_secret": SECRET,
        "slack_api_url": f"{fake.base}/api/",
        "slack_subscription_managers": MANAGER,
        "encoder_threads": 2,
        "encoder_bf16": False,
        **overrides,
    }
    return Settings(_env_file=None, **values)


def signed_headers(body: str, *, timestamp: int | None = None, secret: str = SECRET) -> dict[str, str]:
    """Headers Slack sends: the timestamp and the v0 HMAC signature of `v0:<timestamp>:<body>`."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    return {
        "content-type": "application/x-www-form-urlencoded",
        "x-slack-request-timestamp": stamp,
        "x-slack-signature": str(SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body)),
    }


def command_payload(fake: FakeSlack, text: str, *, user: str = MEMBER, channel: str = CHANNEL) -> dict[str, str]:
    """A `/news` slash-command payload, with a response_url on the fake."""
    return {
        "token": "deprecated-verification-token",
        "team_id": TEAM,
        "team_domain": "test",
        "channel_id": channel,
        "channel_name": "news",
        "user_id": user,
        "user_name": user.lower(),
        "command": "/news",
        "text": text,
        "api_app_id": "A1",
        "response_url": f"{fake.base}/respond/{next(_response_ids)}",
        "trigger_id": "1.2.3",
    }


def command_body(fake: FakeSlack, text: str, *, user: str = MEMBER, channel: str = CHANNEL) -> str:
    """The payload form-encoded, as Slack posts it over HTTP."""
    return urlencode(command_payload(fake, text, user=user, channel=channel))


@dataclass
class SlackBot:
    """A running Slack adapter over a real service, and a client that talks to its HTTP endpoint."""

    fake: FakeSlack
    service: NewsService
    platform: SlackPlatform
    base: str
    client: httpx.AsyncClient
    http: HttpClient

    @property
    def channel(self) -> ChannelRef:
        return ChannelRef("slack", TEAM, CHANNEL)

    async def post(self, body: str, headers: dict[str, str]) -> httpx.Response:
        return await self.client.post(f"{self.base}/slack/events", content=body, headers=headers)

    async def command(self, text: str, *, user: str = MEMBER, channel: str = CHANNEL) -> httpx.Response:
        """Send `/news <text>` signed; return the HTTP response (the ack), checked against Block Kit limits."""
        body = command_body(self.fake, text, user=user, channel=channel)
        response = await self.post(body, signed_headers(body))
        assert response.status_code == 200, response.text
        if response.content:
            self.fake.check(response.json(), f"ack of /news {text}")
        return response

    async def ask(self, text: str, *, user: str = MEMBER, replies: int = 1) -> list[Call]:
        """Send a command and wait for its replies at the response_url (the work runs after the ack)."""
        before = len(self.fake.responses)
        await self.command(text, user=user)
        await self.fake.wait_for(lambda fake: len(fake.responses) >= before + replies)
        return self.fake.responses[before:]

    async def close(self) -> None:
        await self.client.aclose()
        await self.platform.close()
        await self.http.aclose()


BotFactory = Callable[..., Awaitable[SlackBot]]


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    """The fake Slack; after the test, every message payload it saw must be within Block Kit limits."""
    fake = FakeSlack(admins={ADMIN})
    await fake.start()
    yield fake
    await fake.stop()
    assert not fake.problems, "\n".join(fake.problems)


@pytest.fixture
async def make_bot(fake_slack: FakeSlack) -> AsyncIterator[BotFactory]:
    """Start the adapter over `database` on 127.0.0.1 (any free port), registered as the service's publisher."""
    bots: list[SlackBot] = []

    async def make(database: Database, *, http: HttpClient | None = None, **overrides: Any) -> SlackBot:
        settings = slack_settings(fake_slack, **overrides)
        http = http or HttpClient(HttpPolicy.from_settings(settings))
        service = NewsService(settings, database, http, clock=lambda: NOW)
        platform = SlackPlatform(settings, service, serve=True)
        service.add_publisher(platform.name, platform.publisher)  # as bot.app does
        port = await platform.start_http("127.0.0.1", 0)
        bot = SlackBot(fake_slack, service, platform, f"http://127.0.0.1:{port}", httpx.AsyncClient(), http)
        bots.append(bot)
        return bot

    yield make
    for bot in bots:
        await bot.close()
