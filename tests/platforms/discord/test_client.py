"""Start-up and shutdown: building the platform from settings, development-guild sync, the invite URL, a rejected
token, and SIGTERM closing the gateway cleanly."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from urllib.parse import parse_qs, urlsplit

import discord
import pytest
import yarl

from bot.app import run_bot
from bot.config import Settings
from bot.errors import ConfigError
from bot.platforms.discord import build_discord, invite_url
from bot.platforms.discord.client import bot_permissions
from bot.service import NewsService
from tests.platforms.discord.fake_discord import APP_ID, GUILD_ID, Failure, FakeDiscord

# View Channel (1 << 10) + Send Messages (1 << 11) + Embed Links (1 << 14) + Send Messages in Threads (1 << 38)
# + Create Public Threads (1 << 35)
EXPECTED_PERMISSIONS = (1 << 10) | (1 << 11) | (1 << 14) | (1 << 38) | (1 << 35)


def test_invite_url_asks_for_exactly_the_needed_scopes_and_permissions():
    """bot + applications.commands; View Channel, Send Messages, Embed Links, Send Messages in Threads and Create
    Public Threads only."""
    query = parse_qs(urlsplit(invite_url(APP_ID)).query)
    assert query["client_id"] == [str(APP_ID)]
    assert query["scope"] == ["bot applications.commands"]
    assert query["permissions"] == [str(EXPECTED_PERMISSIONS)] == ["309237664768"]
    assert bot_permissions().value == EXPECTED_PERMISSIONS


def test_the_documented_invite_permissions_match():
    """docs/discord.md shows the same permission integer the bot logs."""
    from pathlib import Path

    docs = (Path(__file__).resolve().parents[3] / "docs" / "discord.md").read_text(encoding="utf-8")
    assert f"permissions={EXPECTED_PERMISSIONS}" in docs
    assert "scope=bot+applications.commands" in docs


def test_building_without_a_token_is_a_config_error(service: NewsService):
    """No DISCORD_TOKEN: a readable configuration error, not a crash at connect time."""
    with pytest.raises(ConfigError, match="DISCORD_TOKEN"):
        build_discord(Settings(_env_file=None), service)


async def test_dev_guild_sync_and_invite_url_at_start(
    settings: Settings, service: NewsService, fake_discord: FakeDiscord, caplog
):
    """With DISCORD_DEV_GUILD_ID the commands are registered in that guild only, and the invite URL is logged."""
    platform = build_discord(settings.model_copy(update={"discord_dev_guild_id": GUILD_ID}), service)
    assert platform.name == "discord" and platform.publisher is not None
    with caplog.at_level(logging.INFO, logger="bot.platforms.discord"):
        await platform.bot.login("test-token")
    await platform.close()
    (sync,) = [r for r in fake_discord.requests if r.method == "PUT"]
    assert sync.path == f"/applications/{APP_ID}/guilds/{GUILD_ID}/commands"
    assert [command["name"] for command in sync.body] == ["news"]
    messages = [record.getMessage() for record in caplog.records]
    assert f"registered 1 slash commands in guild {GUILD_ID}" in messages
    assert f"invite the bot with {invite_url(APP_ID)}" in messages
    assert not any("test-token" in message for message in messages)


async def test_rejected_token_stops_with_a_config_error(
    settings: Settings, service: NewsService, fake_discord: FakeDiscord
):
    """Discord answers 401 to the login: the platform raises ConfigError naming DISCORD_TOKEN."""
    fake_discord.refuse["GET /users/@me"] = Failure(401, 0, "401: Unauthorized")
    platform = build_discord(settings, service)
    with pytest.raises(ConfigError, match="DISCORD_TOKEN was rejected"):
        await platform.run()
    await platform.close()


async def test_failed_command_sync_is_logged_and_the_bot_still_starts(
    settings: Settings, service: NewsService, fake_discord: FakeDiscord, caplog
):
    """Registering commands fails (the commands of the last start stay): logged, and the login completes."""
    fake_discord.refuse[r"PUT /applications/\d+/commands"] = Failure(400, 50035, "Invalid Form Body")
    platform = build_discord(settings, service)
    with caplog.at_level(logging.ERROR, logger="bot.platforms.discord"):
        await platform.bot.login("test-token")
    await platform.close()
    assert platform.bot.user is not None
    assert [r.getMessage() for r in caplog.records] == ["could not register the slash commands (guild global)"]


async def test_sigterm_closes_the_gateway_cleanly(
    settings: Settings, fake_discord: FakeDiscord, sqlite_database, monkeypatch: pytest.MonkeyPatch, tmp_path
):
    """The runner, logged in over the fake gateway, gets SIGTERM: it returns normally and closes the gateway with
    1000 (a clean close), where the default action would kill the process and leave Discord to see 1006."""
    monkeypatch.setattr(discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(fake_discord.gateway))
    (tmp_path / "feeds.toml").write_text("feeds = []\n")
    config = settings.model_copy(update={"feeds": str(tmp_path / "feeds.toml")})
    runner = asyncio.create_task(run_bot(config, sqlite_database, "worker"))
    deadline = asyncio.get_running_loop().time() + 60
    while not fake_discord.identified and not runner.done():
        assert asyncio.get_running_loop().time() < deadline, "the bot never identified"
        await asyncio.sleep(0.05)
    os.kill(os.getpid(), signal.SIGTERM)
    await asyncio.wait_for(runner, timeout=30)  # returns: SIGTERM is a clean stop, not an error
    await asyncio.sleep(0.1)
    assert fake_discord.gateway_close_codes == [1000]
