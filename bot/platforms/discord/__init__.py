"""The Discord adapter: `/news` slash commands and scheduled digests as embeds within Discord's limits."""

from bot.platforms.discord.client import DiscordPlatform, build_discord, invite_url

__all__ = ["DiscordPlatform", "build_discord", "invite_url"]
