"""The `/news` slash commands: check permission, defer, call the service, render, follow up.

Discord allows 3 seconds for the first response and a model or a page fetch can take longer, so every command that
calls the service defers first ("thinking…") and sends its result as follow-ups. Permission is checked before that,
so a refusal is a plain private reply and nothing is started. Errors all reach `NewsTree.on_error`: a `BotError`
becomes its own message, privately; anything else is logged with the ids and answered with a short apology.
"""

from __future__ import annotations

import logging
import time
import zoneinfo
from collections.abc import Sequence
from functools import cache
from typing import Literal

import discord
from discord import app_commands
from discord.app_commands import Choice

from bot.digests.model import ChannelRef
from bot.digests.subscriptions import (
    MAX_ITEMS_LIMIT,
    Actor,
    FilterKind,
    SubscriptionRequest,
    require_manager,
    split_list,
)
from bot.errors import BotError, UserInputError
from bot.ops.metrics import observe_command
from bot.platforms.discord.render import (
    DiscordMessage,
    clean,
    notice,
    render_answer,
    render_digest,
    render_link_summary,
    render_sources,
    render_story,
    render_subscription,
)
from bot.service import AUTOCOMPLETE_CHOICES, NewsService
from bot.storage import DeliveryStatus

log = logging.getLogger(__name__)

NO_MENTIONS = discord.AllowedMentions.none()
CHOICE_CHARS = 100  # Discord's limit for an autocomplete choice's name and value
PUBLIC_DEFER = "public_defer"  # Interaction.extras key: the "thinking…" message everyone sees is still pending
SCHEDULE_EXAMPLES = ("08:00", "07:30, 18:00", "every 6h", "every 12h", "every 24h")
COMMON_TIMEZONES = (
    "UTC",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Paris",
    "Europe/Kyiv",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Africa/Lagos",
    "Africa/Nairobi",
    "Asia/Dubai",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Australia/Sydney",
)
INTERNAL_ERROR = "Something went wrong on my side; it has been logged. Please try again in a moment."


# -- who and where ---------------------------------------------------------------------------------------------------
def channel_ref(interaction: discord.Interaction) -> ChannelRef:
    """The channel the command was run in, as the service names it."""
    if interaction.guild_id is None or interaction.channel_id is None:
        raise UserInputError("Use this command in a server channel.")
    return ChannelRef("discord", str(interaction.guild_id), str(interaction.channel_id))


def actor_of(interaction: discord.Interaction, admin_role: int | None = None) -> Actor:
    """Who runs the command: a manager if they have Manage Channels here, or the configured admin role.

    The role is matched by id only: anyone allowed to create roles could make one with the same name.
    """
    user = interaction.user
    # Discord resolves these for the member in this channel, channel overwrites included.
    permissions = interaction.permissions
    can_manage = permissions.manage_channels or permissions.administrator
    if not can_manage and admin_role is not None and isinstance(user, discord.Member):
        can_manage = any(role.id == admin_role for role in user.roles)
    return Actor(str(user.id), can_manage, user.display_name)


# -- responding ------------------------------------------------------------------------------------------------------
async def defer(interaction: discord.Interaction, *, ephemeral: bool = False) -> None:
    """Acknowledge within Discord's 3 seconds with a "thinking…" message; the result follows up."""
    interaction.extras[PUBLIC_DEFER] = not ephemeral
    await interaction.response.defer(thinking=True, ephemeral=ephemeral)


async def reply(
    interaction: discord.Interaction, messages: Sequence[DiscordMessage], *, ephemeral: bool = False
) -> None:
    """Send rendered messages as follow-ups (the first fills in the "thinking…" message)."""
    for message in messages:
        await interaction.followup.send(
            content=message.content or discord.utils.MISSING,
            embeds=list(message.embeds),
            ephemeral=ephemeral,
            allowed_mentions=NO_MENTIONS,
        )
        interaction.extras[PUBLIC_DEFER] = False


async def send_error(interaction: discord.Interaction, text: str) -> None:
    """Tell the user what went wrong, privately, whatever state the interaction is in."""
    message = notice(text)
    try:
        if not interaction.response.is_done():
            await interaction.response.send_message(message.content, ephemeral=True, allowed_mentions=NO_MENTIONS)
            return
        if interaction.extras.get(PUBLIC_DEFER):
            # A follow-up would fill in the public "thinking…" message: remove it and answer privately instead.
            await interaction.delete_original_response()
            interaction.extras[PUBLIC_DEFER] = False
        await interaction.followup.send(message.content, ephemeral=True, allowed_mentions=NO_MENTIONS)
    except discord.HTTPException:
        log.warning("could not send an error to interaction %s in channel %s", interaction.id, interaction.channel_id)


# -- autocomplete ----------------------------------------------------------------------------------------------------
def complete_list(typed: str, names: Sequence[str]) -> list[Choice[str]]:
    """Choices for a comma-separated option: what was typed before the last comma, then each suggested name."""
    head, _, _last = typed.rpartition(",")
    chosen = {part.lower() for part in split_list(head)}
    prefix = ", ".join(split_list(head))
    prefix = f"{prefix}, " if prefix else ""
    values = [prefix + name for name in names if name.lower() not in chosen]
    return [Choice(name=value, value=value) for value in values if len(value) <= CHOICE_CHARS][:AUTOCOMPLETE_CHOICES]


@cache
def _timezones() -> tuple[str, ...]:
    return tuple(sorted(zoneinfo.available_timezones()))


def suggest_timezones(typed: str) -> list[str]:
    """IANA timezone names that start with, then contain, what was typed (common ones when nothing is)."""
    folded = typed.strip().lower()
    if not folded:
        return list(COMMON_TIMEZONES)
    starts = [name for name in _timezones() if name.lower().startswith(folded)]
    contains = [name for name in _timezones() if folded in name.lower() and name not in starts]
    return (starts + contains)[:AUTOCOMPLETE_CHOICES]


def _choices(values: Sequence[str]) -> list[Choice[str]]:
    fitting = [value for value in values if 0 < len(value) <= CHOICE_CHARS]
    return [Choice(name=value, value=value) for value in fitting[:AUTOCOMPLETE_CHOICES]]


# -- the commands ----------------------------------------------------------------------------------------------------
class NewsCommands(app_commands.Group):
    """`/news …`: briefs, answers, link summaries, and the channel's digest subscription."""

    def __init__(self, service: NewsService, *, admin_role: int | None = None) -> None:
        # Servers only, installed to servers only: subscriptions belong to server channels, and who manages them
        # is decided by server permissions. Not default_permissions: everyone may read; only changes are checked.
        super().__init__(
            name="news",
            description="Geopolitics briefings, answers and channel digests",
            guild_only=True,
            allowed_contexts=app_commands.AppCommandContext(guild=True),
            allowed_installs=app_commands.AppInstallationType(guild=True),
        )
        self.service = service
        self.admin_role = admin_role

    def _manager(self, interaction: discord.Interaction) -> Actor:
        actor = actor_of(interaction, self.admin_role)
        require_manager(actor)  # refuse before deferring: the refusal is then a plain private reply
        return actor

    # -- reading the news ------------------------------------------------------------------------------------------
    @app_commands.command(description="The top stories now, or those on a topic, country or region")
    @app_commands.describe(
        about="A topic, country or region, e.g. Japan, Sahel, sanctions (empty for everything)",
        limit=f"How many stories, 1 to {MAX_ITEMS_LIMIT}",
    )
    async def brief(
        self,
        interaction: discord.Interaction,
        about: app_commands.Range[str, 1, 100] = "",
        limit: app_commands.Range[int, 1, MAX_ITEMS_LIMIT] = 5,
    ) -> None:
        """Post a brief of the top stories."""
        await defer(interaction)
        digest = await self.service.brief(about, limit=limit)
        await reply(interaction, render_digest(digest))

    @brief.autocomplete("about")
    async def _brief_about(self, interaction: discord.Interaction, current: str) -> list[Choice[str]]:
        return _choices(self.service.suggest("any", current))

    @app_commands.command(description="One story in full: its timeline, related storylines, how each outlet tells it")
    @app_commands.describe(story="The story's number (a digest item's footer shows it) or words from its headline")
    async def story(self, interaction: discord.Interaction, story: app_commands.Range[str, 1, 200]) -> None:
        """Show a story's timeline, storylines and how each outlet tells it."""
        await defer(interaction)
        view = await self.service.story(story)
        await reply(interaction, render_story(view))

    @app_commands.command(description="Ask a question; the answer quotes stored articles and cites them")
    @app_commands.describe(question="For example: How many tankers did the EU blacklist?")
    async def ask(self, interaction: discord.Interaction, question: app_commands.Range[str, 3, 300]) -> None:
        """Answer from the archive with citations."""
        await defer(interaction)
        answer = await self.service.ask(question)
        await reply(interaction, render_answer(answer))

    @app_commands.command(description="Summarise a news article from its link")
    @app_commands.describe(url="The article's full https:// link")
    async def summarize(self, interaction: discord.Interaction, url: app_commands.Range[str, 1, 2048]) -> None:
        """Fetch a page and summarise it."""
        await defer(interaction)
        summary = await self.service.summarize_url(url, requester=f"discord:{interaction.user.id}")
        await reply(interaction, render_link_summary(summary))

    # -- the channel's subscription --------------------------------------------------------------------------------
    @app_commands.command(description="Post a news digest in this channel on a schedule (replaces any earlier one)")
    @app_commands.describe(
        schedule='Times of day like "08:00" or "07:30, 18:00", or "every 6h"',
        timezone="IANA timezone for the times, e.g. Europe/Berlin (default: the bot's)",
        countries="Only stories about these countries, comma-separated",
        regions="Only stories about these regions or blocs, comma-separated",
        topics="Only stories on these topics, comma-separated",
        keywords="Only stories mentioning these words, comma-separated",
        sources="Only stories from these outlets, comma-separated (see /news sources)",
        max_items=f"Most stories per digest, 1 to {MAX_ITEMS_LIMIT}",
        style="short: two lines per story; detailed: the whole summary and every source",
        updates="Post new coverage of stories this channel has in their thread (default: on)",
        alerts="Post breaking stories at once instead of waiting for the schedule (default: off)",
        alert_outlets="Breaking when this many independent outlets report it (default 5)",
        alert_countries="...or this many publisher countries (default 3)",
        alert_window="...within this many hours (default 2)",
        alerts_per_day="At most this many alerts a day (default 3)",
        quiet_hours='No alerts in these hours, e.g. "22:00-07:00" (the default), or "off"',
    )
    async def subscribe(
        self,
        interaction: discord.Interaction,
        schedule: app_commands.Range[str, 1, 100] = "08:00",
        timezone: app_commands.Range[str, 1, 64] | None = None,
        countries: app_commands.Range[str, 1, 1000] | None = None,
        regions: app_commands.Range[str, 1, 1000] | None = None,
        topics: app_commands.Range[str, 1, 1000] | None = None,
        keywords: app_commands.Range[str, 1, 1000] | None = None,
        sources: app_commands.Range[str, 1, 1000] | None = None,
        max_items: app_commands.Range[int, 1, MAX_ITEMS_LIMIT] = 5,
        style: Literal["short", "detailed"] = "short",
        updates: bool = True,
        alerts: bool = False,
        alert_outlets: app_commands.Range[int, 2, 100] | None = None,
        alert_countries: app_commands.Range[int, 2, 100] | None = None,
        alert_window: app_commands.Range[int, 1, 24] | None = None,
        alerts_per_day: app_commands.Range[int, 1, 24] | None = None,
        quiet_hours: app_commands.Range[str, 1, 20] | None = None,
    ) -> None:
        """Create or replace the channel's digest subscription (managers only)."""
        actor = self._manager(interaction)
        channel = channel_ref(interaction)
        await defer(interaction)
        request = SubscriptionRequest(
            schedule=schedule,
            timezone=timezone,
            countries=split_list(countries),
            regions=split_list(regions),
            topics=split_list(topics),
            keywords=split_list(keywords),
            sources=split_list(sources),
            max_items=max_items,
            style=style,
            updates=updates,
            alerts=alerts,
            alert_outlets=alert_outlets,
            alert_countries=alert_countries,
            alert_window_hours=alert_window,
            alerts_per_day=alerts_per_day,
            quiet_hours=quiet_hours,
        )
        info = await self.service.subscribe(channel, request, actor)
        log.info("subscription %s set for %s by user %s", info.id, channel, actor.user_id)
        heading = f"{clean(actor.name)} set up this channel's news digest."
        await reply(interaction, render_subscription(info, heading=heading))

    @subscribe.autocomplete("schedule")
    async def _schedule(self, interaction: discord.Interaction, current: str) -> list[Choice[str]]:
        typed = current.strip()
        return _choices([typed, *(example for example in SCHEDULE_EXAMPLES if example != typed)])

    @subscribe.autocomplete("timezone")
    async def _timezone(self, interaction: discord.Interaction, current: str) -> list[Choice[str]]:
        return _choices(suggest_timezones(current))

    def _filter_names(self, kind: FilterKind, current: str) -> list[Choice[str]]:
        return complete_list(current, self.service.suggest(kind, current.rpartition(",")[2]))

    @subscribe.autocomplete("countries")
    async def _countries(self, interaction: discord.Interaction, current: str) -> list[Choice[str]]:
        return self._filter_names("country", current)

    @subscribe.autocomplete("regions")
    async def _regions(self, interaction: discord.Interaction, current: str) -> list[Choice[str]]:
        return self._filter_names("region", current)

    @subscribe.autocomplete("topics")
    async def _topics(self, interaction: discord.Interaction, current: str) -> list[Choice[str]]:
        return self._filter_names("topic", current)

    @subscribe.autocomplete("sources")
    async def _sources(self, interaction: discord.Interaction, current: str) -> list[Choice[str]]:
        last = current.rpartition(",")[2].strip().lower()
        names = sorted({feed.name for feed in await self.service.sources() if feed.enabled})
        return complete_list(current, [name for name in names if last in name.lower()])

    @app_commands.command(description="Stop this channel's news digest")
    async def unsubscribe(self, interaction: discord.Interaction) -> None:
        """Remove the channel's subscription (managers only)."""
        actor = self._manager(interaction)
        channel = channel_ref(interaction)
        await defer(interaction)
        removed = await self.service.unsubscribe(channel, actor)
        log.info("subscription for %s removed by user %s: %s", channel, actor.user_id, removed)
        text = (
            f"{clean(actor.name)} stopped this channel's news digest."
            if removed
            else "This channel had no news digest; nothing changed."
        )
        await reply(interaction, [notice(text)])

    @app_commands.command(description="Show this channel's digest settings, next digest, and why it is paused if it is")
    async def settings(self, interaction: discord.Interaction) -> None:
        """Show the channel's subscription, privately."""
        channel = channel_ref(interaction)
        await defer(interaction, ephemeral=True)
        info = await self.service.subscription(channel)
        await reply(interaction, render_subscription(info), ephemeral=True)

    @app_commands.command(description="List the news sources and whether they are working")
    async def sources(self, interaction: discord.Interaction) -> None:
        """Show the feeds with their health, privately."""
        await defer(interaction, ephemeral=True)
        feeds = await self.service.sources()
        await reply(interaction, render_sources(feeds), ephemeral=True)

    @app_commands.command(description="Post this channel's digest now (or the top stories if it has none)")
    async def digest(self, interaction: discord.Interaction) -> None:
        """Post the channel's digest now through the outbox."""
        channel = channel_ref(interaction)
        await defer(interaction, ephemeral=True)
        result = await self.service.digest_now(channel)
        if result.digest is not None:
            # No subscription: say so privately, then show the top stories to everyone.
            await reply(interaction, [notice(result.message)], ephemeral=True)
            await reply(interaction, render_digest(result.digest))
            return
        if result.posted is None:
            await reply(interaction, [notice(result.message)], ephemeral=True)
            return
        if result.posted.status is DeliveryStatus.SENT:
            text = "Posted this channel's digest."
        elif result.posted.status is DeliveryStatus.FAILED:
            text = f"I could not post here, so digests to this channel are paused: {result.posted.error}"
        else:
            text = f"Discord did not take the digest yet ({result.posted.error}); it stays queued and I will retry."
        await reply(interaction, [notice(text)], ephemeral=True)


def observe_interaction(interaction: discord.Interaction, error: str | None = None) -> None:
    """Record a finished command's duration (measured from `NewsTree.interaction_check`) for /metrics."""
    started = interaction.extras.get("started")
    if isinstance(started, float) and interaction.command is not None:
        observe_command("discord", interaction.command.name, time.perf_counter() - started, error)


def _ids(interaction: discord.Interaction) -> dict[str, object]:
    """The interaction's identifiers as log fields (the JSON log format writes them out)."""
    return {
        "platform": "discord",
        "workspace": interaction.guild_id,
        "channel": interaction.channel_id,
        "user": interaction.user.id,
        "interaction": interaction.id,
    }


class NewsTree(app_commands.CommandTree[discord.Client]):
    """The command tree, with one place that logs commands and turns errors into short private replies."""

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        """Log each command with its ids (never its text); every interaction is processed."""
        if interaction.type is discord.InteractionType.application_command:
            interaction.extras["started"] = time.perf_counter()  # for the command's duration metric
            command = interaction.command.qualified_name if interaction.command else "?"
            log.info(
                "/%s by user %s in guild %s channel %s (interaction %s)",
                command,
                interaction.user.id,
                interaction.guild_id,
                interaction.channel_id,
                interaction.id,
                extra=_ids(interaction),
            )
        return True

    async def on_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError, /) -> None:
        """A `BotError`'s message goes to the user as is; anything unexpected is logged and gets an apology."""
        original = error.original if isinstance(error, app_commands.CommandInvokeError) else error
        command = interaction.command.qualified_name if interaction.command else "?"
        refused = isinstance(original, BotError | app_commands.TransformerError | app_commands.CheckFailure)
        observe_interaction(interaction, "refused" if refused else "failed")
        if isinstance(original, BotError):
            log.info(
                "/%s in channel %s refused: %s",
                command,
                interaction.channel_id,
                type(original).__name__,
                extra=_ids(interaction),
            )
            text = str(original)
        elif isinstance(original, app_commands.NoPrivateMessage):
            text = "Use this command in a server channel."
        elif isinstance(original, app_commands.TransformerError | app_commands.CheckFailure):
            text = str(original)
        else:
            log.error(
                "/%s failed in guild %s channel %s (interaction %s)",
                command,
                interaction.guild_id,
                interaction.channel_id,
                interaction.id,
                exc_info=original,
                extra=_ids(interaction),
            )
            text = INTERNAL_ERROR
        await send_error(interaction, text)
