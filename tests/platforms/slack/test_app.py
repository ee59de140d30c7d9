"""The platform object: Socket Mode over a real WebSocket to the fake, HTTP mode on PORT, publish-only, settings."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import httpx
import pytest

from bot.errors import ConfigError
from bot.news.http import HttpClient, HttpPolicy
from bot.platforms.slack import SlackPlatform, build_slack
from bot.platforms.slack.commands import WORKING
from bot.service import NewsService
from tests.intelligence.conftest import NOW
from tests.platforms.slack.conftest import command_payload, slack_settings


def make_platform(settings, database, *, serve=True) -> SlackPlatform:
    service = NewsService(settings, database, HttpClient(HttpPolicy.from_settings(settings)), clock=lambda: NOW)
    platform = build_slack(settings, service, serve=serve)
    service.add_publisher(platform.name, platform.publisher)
    return platform


async def test_socket_mode_answers_commands_over_the_websocket(fake_slack, archive):
    """With SLACK_APP_TOKEN, run() opens Socket Mode via SLACK_API_URL; envelopes are acked, answers follow."""
    settings = slack_settings(fake_slack, slack_app_token="xapp-test-token", slack_signing_secret=None)
    platform = make_platform(settings, archive.database)
    assert platform.socket_mode
    task = asyncio.create_task(platform.run())
    try:
        await fake_slack.wait_for(lambda fake: fake.socket_connected)
        (opened,) = fake_slack.api("apps.connections.open")
        assert opened.headers["Authorization"] == "Bearer xapp-test-token"
        help_id = await fake_slack.send_envelope("slash_commands", command_payload(fake_slack, "help"))
        brief_id = await fake_slack.send_envelope("slash_commands", command_payload(fake_slack, "brief max=2"))
        await fake_slack.wait_for(lambda fake: len(fake.socket_acks) == 2 and len(fake.responses) == 1)
        acks = {ack["envelope_id"]: ack.get("payload") for ack in fake_slack.socket_acks}
        assert "/news subscribe" in str(acks[help_id])
        assert acks[brief_id] == {"text": WORKING, "response_type": "ephemeral"}
        (reply,) = fake_slack.responses
        assert "*2. " in reply.all_text and "*3. " not in reply.all_text
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await platform.close()


async def test_http_mode_serves_on_port(fake_slack, archive):
    """Without an app token, run() serves /slack/events and /healthz on PORT until cancelled."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    platform = make_platform(slack_settings(fake_slack, port=port), archive.database)
    assert not platform.socket_mode
    task = asyncio.create_task(platform.run())
    try:
        async with httpx.AsyncClient() as client:
            for _ in range(100):
                try:
                    response = await client.get(f"http://127.0.0.1:{port}/healthz")
                    break
                except httpx.ConnectError:
                    await asyncio.sleep(0.02)
            assert response.status_code == 200
            unsigned = await client.post(f"http://127.0.0.1:{port}/slack/events", content="command=/news")
            assert unsigned.status_code == 401
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await platform.close()


async def test_publish_only_process_returns_at_once(fake_slack, sqlite_database):
    """serve=False (e.g. a worker when Slack runs in HTTP mode elsewhere): run() returns; publishing still works."""
    settings = slack_settings(fake_slack, slack_signing_secret=None)
    platform = make_platform(settings, sqlite_database, serve=False)
    await asyncio.wait_for(platform.run(), timeout=1)
    assert platform.name == "slack"
    await platform.close()


def test_http_mode_needs_a_signing_secret(fake_slack, sqlite_database):
    """Serving HTTP without SLACK_SIGNING_SECRET would accept forged requests: start-up stops with a clear error."""
    settings = slack_settings(fake_slack, slack_signing_secret=None)
    with pytest.raises(ConfigError, match="SLACK_SIGNING_SECRET"):
        make_platform(settings, sqlite_database)
    with pytest.raises(ConfigError, match="SLACK_BOT_TOKEN"):
        make_platform(slack_settings(fake_slack, slack_bot_token=None), sqlite_database)


def test_manifest_creates_the_command_with_exactly_the_needed_scopes():
    """slack-manifest.yml: /news pointing at /slack/events; commands, chat:write, users:read and the history scopes."""
    yaml = pytest.importorskip("yaml")
    manifest = yaml.safe_load((Path(__file__).resolve().parents[3] / "slack-manifest.yml").read_text(encoding="utf-8"))
    assert manifest["oauth_config"]["scopes"]["bot"] == [
        "commands",
        "chat:write",
        "users:read",
        "channels:history",
        "groups:history",
    ]
    (command,) = manifest["features"]["slash_commands"]
    assert command["command"] == "/news"
    assert command["url"].startswith("https://") and command["url"].endswith("/slack/events")
    assert manifest["settings"]["socket_mode_enabled"] is False
    assert "event_subscriptions" not in manifest["settings"]
