"""The Discord bot: a gateway client that serves `/news` and a publisher that posts digests.

At start it logs in, registers the `/news` commands (globally, or to DISCORD_DEV_GUILD_ID, where changes show at once
instead of within the hour) and logs the invite URL with exactly the permissions the bot needs.
"""

from __future__ import annotations

import logging

import discord
from pydantic import SecretStr

from bot.config import Settings
from bot.errors import ConfigError
from bot.platforms.discord.commands import NewsCommands, NewsTree
from bot.platforms.discord.publisher import DiscordPublisher
from bot.service import NewsService

log = logging.getLogger(__name__)

SCOPES = ("bot", "applications.commands")
# Longest rate-limit wait a digest post sits through; longer ones fail the send and the outbox retries later,
# so one busy channel does not hold up the others. discord.py refuses values under 30 s.
MAX_RATELIMIT_WAIT = 60.0


def bot_permissions() -> discord.Permissions:
    """Exactly what the bot needs in a channel it posts digests to (slash-command replies need none).

    - View Channel: to see the channel it posts scheduled digests in.
    - Send Messages: to post them.
    - Embed Links: digests, answers and summaries are embeds; without it Discord drops them.
    - Send Messages in Threads: to post digests to a channel that is a thread or forum post.
    """
    return discord.Permissions(view_channel=True, send_messages=True, embed_links=True, send_messages_in_threads=True)


def invite_url(application_id: int) -> str:
    """The URL that adds the bot to a server with its commands and exactly its permissions."""
    return discord.utils.oauth_url(application_id, permissions=bot_permissions(), scopes=SCOPES)


def intents() -> discord.Intents:
    """Only the guilds intent (not privileged): servers, channels and roles, for the admin-role check."""
    chosen = discord.Intents.none()
    chosen.guilds = True
    return chosen


class NewsBot(discord.Client):
    """A gateway client whose only job is the `/news` command group; it reads no messages."""

    def __init__(self, service: NewsService, *, admin_role: int | None = None, dev_guild_id: int | None = None) -> None:
        super().__init__(
            intents=intents(),
            allowed_mentions=discord.AllowedMentions.none(),  # the default for every message: nothing ever pings
            max_ratelimit_timeout=MAX_RATELIMIT_WAIT,
        )
        self.tree = NewsTree(self)
        self.tree.add_command(NewsCommands(service, admin_role=admin_role))
        self.dev_guild_id = dev_guild_id

    async def setup_hook(self) -> None:
        """Register the commands with Discord and log the invite URL (runs once, after login)."""
        await self.sync_commands()
        if self.application_id is not None:
            log.info("invite the bot with %s", invite_url(self.application_id))

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
        if not self.bot.is_closed():
            await self.bot.close()


def build_discord(settings: Settings, service: NewsService) -> DiscordPlatform:
    """The Discord platform for these settings; it needs DISCORD_TOKEN."""
    if settings.discord_token is None or not settings.discord_token.get_secret_value():
        raise ConfigError("DISCORD_TOKEN is not set.")
    bot = NewsBot(service, admin_role=settings.discord_admin_role, dev_guild_id=settings.discord_dev_guild_id)
    return DiscordPlatform(bot, settings.discord_token)
