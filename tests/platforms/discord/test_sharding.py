"""Sharding from settings: workers split the guilds by shard over the real gateway protocol; any of them can post.

The bots connect to the fake gateway exactly as in production (login, /gateway/bot, IDENTIFY with their shard, READY,
GUILD_CREATE), so what a guild's shard is and which process hears it is discord.py's own behaviour.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from discord.gateway import DiscordWebSocket

from bot.config import Settings
from bot.digests.model import ChannelRef, Digest, DigestItem, SourceLink, SummaryLine
from bot.platforms.discord.client import DiscordPlatform, build_discord
from bot.service import NewsService
from bot.storage import TextKind
from tests.platforms.discord.fake_discord import GUILD_ID, FakeDiscord

# Four guilds, two on each of two shards ((id >> 22) % 2): the test server and three more.
GUILDS = [GUILD_ID, GUILD_ID + (1 << 22), GUILD_ID + (2 << 22), GUILD_ID + (3 << 22)]
CHANNEL_ID = 900000000000000099


@pytest.fixture(autouse=True)
def _restore_gateway(monkeypatch: pytest.MonkeyPatch) -> None:
    """A bot on a configured API server points discord.py's default gateway at it; put it back afterwards."""
    monkeypatch.setattr(DiscordWebSocket, "DEFAULT_GATEWAY", DiscordWebSocket.DEFAULT_GATEWAY)


def _settings(fake: FakeDiscord, **shards: object) -> Settings:
    return Settings(
        _env_file=None,
        encoder_threads=2,
        encoder_bf16=False,
        discord_token="test-token",
        discord_api_url=fake.base,
        **shards,  # type: ignore[arg-type]
    )


@pytest.fixture
async def started(fake_discord: FakeDiscord) -> AsyncIterator[list[tuple[DiscordPlatform, asyncio.Task[None]]]]:
    """Platforms started by the test; each is closed (and its run task ended) afterwards."""
    running: list[tuple[DiscordPlatform, asyncio.Task[None]]] = []
    yield running
    for platform, task in running:
        await platform.close()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def _start(platform: DiscordPlatform, running: list[tuple[DiscordPlatform, asyncio.Task[None]]]) -> None:
    running.append((platform, asyncio.create_task(platform.run())))
    await asyncio.wait_for(platform.bot.wait_until_ready(), timeout=30)


def _digest() -> Digest:
    now = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    source = SourceLink("Example News", "Talks resume", "https://example.org/1", now, TextKind.FULL_TEXT)
    item = DigestItem(1, "Talks resume", (SummaryLine("Negotiators met.", 0),), (source,), now)
    return Digest(heading="Geopolitics briefing", generated_at=now, items=(item,))


async def test_workers_split_the_guilds_by_shard_and_either_can_post_a_digest(
    service: NewsService, fake_discord, started
):
    """Two workers with DISCORD_SHARD_COUNT=2 and ids 0 and 1 each hear only their shard's guilds; one registers
    the commands; a digest for a guild on shard 1 is posted by the worker on shard 0 (REST needs no shard)."""
    fake_discord.guilds = GUILDS
    workers = [
        build_discord(_settings(fake_discord, discord_shard_count=2, discord_shard_ids=str(i)), service) for i in (0, 1)
    ]
    for worker in workers:
        await _start(worker, started)

    assert sorted(tuple(identify["shard"]) for identify in fake_discord.identifies) == [(0, 2), (1, 2)]
    heard = [sorted(guild.id for guild in worker.bot.guilds) for worker in workers]
    assert heard == [fake_discord.shard_guilds(0, 2), fake_discord.shard_guilds(1, 2)]
    assert sorted(heard[0] + heard[1]) == sorted(GUILDS) and all(len(guilds) == 2 for guilds in heard)
    syncs = [r for r in fake_discord.requests if r.method == "PUT" and r.path.endswith("/commands")]
    assert len(syncs) == 1 and workers[0].bot.registers_commands and not workers[1].bot.registers_commands

    other_shard_guild = fake_discord.shard_guilds(1, 2)[0]
    channel = ChannelRef("discord", str(other_shard_guild), str(CHANNEL_ID))
    message_id = (await workers[0].publisher.publish(channel, _digest(), idempotency_key="delivery-1")).message_id
    [posted] = fake_discord.posted[CHANNEL_ID]
    assert posted["id"] == message_id


async def test_without_shard_settings_one_process_runs_every_recommended_shard(service, fake_discord, started):
    """No DISCORD_SHARD_COUNT: discord.py asks for the recommended count (2 here) and runs both shards itself."""
    fake_discord.guilds = GUILDS
    fake_discord.gateway_shards = 2
    platform = build_discord(_settings(fake_discord), service)
    await _start(platform, started)
    assert [tuple(identify["shard"]) for identify in fake_discord.identifies] == [(0, 2), (1, 2)]
    assert sorted(guild.id for guild in platform.bot.guilds) == sorted(GUILDS)
    assert platform.bot.shard_count == 2 and platform.bot.registers_commands
