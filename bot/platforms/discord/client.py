"""The Discord bot: a gateway client that serves `/news` and a publisher that posts digests.

At start it logs in, registers the `/news` commands (globally, or to DISCORD_DEV_GUILD_ID, where changes show at once
instead of within the hour) and logs the invite URL with exactly the permissions the bot needs.

Sharding: the client is discord.py's `AutoShardedClient`. With no DISCORD_SHARD_COUNT it asks Discord for the
recommended number of shards and runs them all in this process. With DISCORD_SHARD_COUNT (and DISCORD_SHARD_IDS) it
runs only its shards, so several worker processes split the guilds: Discord sends a guild's events, slash commands
included, to shard ``(guild_id >> 22) % shard_count``, and that process answers them. Digests do not depend on shards:
they are posted over REST, which any logged-in process can do, and they are posted by the one process that runs the
scheduler (so one rate limiter sees every digest post). The commands are registered by the process that runs shard 0.
"""

from __future__ import annotations

import logging
from typing import Any

import discord
import yarl
from discord import app_commands
from discord.gateway import DiscordWebSocket
from pydantic import SecretStr

from bot.config import Settings
from bot.errors import ConfigError
from bot.platforms.discord.commands import NewsCommands, NewsTree, observe_interaction
from bot.platforms.discord.publisher import DiscordPublisher
from bot.service import NewsService

log = logging.getLogger(__name__)

SCOPES = ("bot", "applications.commands")
DISCORD_API_URL = Settings.model_fields["discord_api_url"].default  # Discord's own; anything else is a test server
# Longest rate-limit wait a digest post sits through; longer ones fail the send and the outbox retries later,
# so one busy channel does not hold up the others. discord.py refuses values under 30 s.
MAX_RATELIMIT_WAIT = 60.0


def bot_permissions() -> discord.Permissions:
    """Exactly what the bot needs in a channel it posts digests to (slash-command replies need none).

    - View Channel: to see the channel it posts scheduled digests in.
    - Send Messages: to post them.
    - Embed Links: digests, answers and summaries are embeds; without it Discord drops them.
    - Send Messages in Threads: to post digests to a channel that is a thread or forum post, and story updates.
    - Create Public Threads: to start a thread on the message that carried a story, for its updates (without it
      an update is a reply to that message).
    """
    return discord.Permissions(
        view_channel=True,
        send_messages=True,
        embed_links=True,
        send_messages_in_threads=True,
        create_public_threads=True,
    )


def invite_url(application_id: int) -> str:
    """The URL that adds the bot to a server with its commands and exactly its permissions."""
    return discord.utils.oauth_url(application_id, permissions=bot_permissions(), scopes=SCOPES)


def intents() -> discord.Intents:
    """Only the guilds intent (not privileged): servers, channels and roles, for the admin-role check."""
    chosen = discord.Intents.none()
    chosen.guilds = True
    return chosen


class NewsBot(discord.AutoShardedClient):
    """A gateway client whose only job is the `/news` command group; it reads no messages."""

    def __init__(
        self,
        service: NewsService,
        *,
        admin_role: int | None = None,
        dev_guild_id: int | None = None,
        shard_count: int | None = None,
        shard_ids: list[int] | None = None,
        gateway_from_api: bool = False,
    ) -> None:
        options: dict[str, Any] = {"shard_count": shard_count}
        if shard_ids is not None:
            options["shard_ids"] = shard_ids  # discord.py wants it absent, not None, for "all shards"
        super().__init__(
            intents=intents(),
            allowed_mentions=discord.AllowedMentions.none(),  # the default for every message: nothing ever pings
            max_ratelimit_timeout=MAX_RATELIMIT_WAIT,
            **options,
        )
        self.tree = NewsTree(self)
        self.tree.add_command(NewsCommands(service, admin_role=admin_role))
        self.dev_guild_id = dev_guild_id
        self.gateway_from_api = gateway_from_api

    @property
    def registers_commands(self) -> bool:
        """Whether this process registers the commands: the one that runs shard 0 (once per deployment)."""
        return self.shard_ids is None or 0 in self.shard_ids

    async def setup_hook(self) -> None:
        """Register the commands with Discord and log the invite URL (runs once, after login)."""
        if self.gateway_from_api:
            # A configured API server (a test double) names its own gateway; discord.py assumes Discord's when
            # the shard count is given, so take the address from the server.
            _count, url, _limit = await self.http.get_bot_gateway()
            DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(url)
        if self.registers_commands:
            await self.sync_commands()
        if self.application_id is not None:
            log.info("invite the bot with %s", invite_url(self.application_id))

    async def on_app_command_completion(
        self, interaction: discord.Interaction, command: app_commands.Command[Any, Any, Any] | app_commands.ContextMenu
    ) -> None:
        """A command finished without error: count its duration (the tree's error hook counts the others)."""
        observe_interaction(interaction)

    async def sync_commands(self) -> None:
        """Register `/news` globally, or only in the development guild, where it shows at once."""
        guild = discord.Object(id=self.dev_guild_id) if self.dev_guild_id else None
        if guild is not None:
            self.tree.copy_global_to(guild=guild)
        try:
            synced = await self.tree.sync(guild=guild)
        except discord.HTTPException:
            # Commands registered by an earlier start keep working; the next start tries again.
            log.exception("could not register the slash commands (guild %s)", self.dev_guild_id or "global")
            return
        log.info("registered %d slash commands %s", len(synced), f"in guild {guild.id}" if guild else "globally")


class DiscordPlatform:
    """The Discord adapter as the application runs it: commands over the gateway, digests over REST."""

    name = "discord"

    def __init__(self, bot: NewsBot, token: SecretStr) -> None:
        self.bot = bot
        self.publisher = DiscordPublisher(bot)
        self._token = token

    async def run(self) -> None:
        """Log in, register the commands and serve them until cancelled (discord.py reconnects by itself)."""
        try:
            await self.bot.start(self._token.get_secret_value())
        except discord.LoginFailure:
            raise ConfigError("DISCORD_TOKEN was rejected by Discord; copy the bot token again.") from None

    async def close(self) -> None:
        """Disconnect from the gateway and close the HTTP session."""
        if self.bot.is_closed():
            return
        if self.bot.http.token is None:  # never logged in: only the HTTP session may be open
            await self.bot.http.close()
            return
        await self.bot.close()


def build_discord(settings: Settings, service: NewsService) -> DiscordPlatform:
    """The Discord platform for these settings; it needs DISCORD_TOKEN."""
    if settings.discord_token is None or not settings.discord_token.get_secret_value():
        raise ConfigError("DISCORD_TOKEN is not set.")
    custom_api = settings.discord_api_url != DISCORD_API_URL
    if custom_api:
        discord.http.Route.BASE = settings.discord_api_url.rstrip("/")  # discord.py reads it from the class
    bot = NewsBot(
        service,
        admin_role=settings.discord_admin_role,
        dev_guild_id=settings.discord_dev_guild_id,
        shard_count=settings.discord_shard_count,
        shard_ids=settings.shard_ids,
        gateway_from_api=custom_api,
    )
    return DiscordPlatform(bot, settings.discord_token)
