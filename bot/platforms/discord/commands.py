"""The `/news` slash commands: check permission, defer, call the service, render, follow up.

Discord allows 3 seconds for the first response and a model or a page fetch can take longer, so every command that
calls the service defers first ("thinking…") and sends its result as follow-ups. Permission is checked before that,
so a refusal is a plain private reply and nothing is started. Errors all reach `NewsTree.on_error`: a `BotError`
becomes its own message, privately; anything else is logged with the ids and answered with a short apology.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Literal

import discord
from discord import app_commands
from discord.app_commands import Choice

from bot.digests.model import ChannelRef
from bot.digests.subscriptions import (
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
    render_help,
    render_link_summary,
    render_sources,
    render_story,
    render_subscription,
)
from bot.platforms.spec import COMMANDS, command, usage
from bot.replies import source_change
from bot.service import AUTOCOMPLETE_CHOICES, NewsService

log = logging.getLogger(__name__)

NO_MENTIONS = discord.AllowedMentions.none()
CHOICE_CHARS = 100  # Discord's limit for an autocomplete choice's name and value
PUBLIC_DEFER = "public_defer"  # Interaction.extras key: the "thinking…" message everyone sees is still pending
SCHEDULE_EXAMPLES = ("08:00", "07:30, 18:00", "every 6h", "every 12h", "every 24h")
# The commands as the spec (bot.platforms.spec) defines them; names, descriptions and limits all come from there.
BRIEF, ASK, SUMMARIZE, SUBSCRIBE = command("brief"), command("ask"), command("summarize"), command("subscribe")
UNSUBSCRIBE, SETTINGS, SOURCES, DIGEST = (
    command("unsubscribe"),
    command("settings"),
    command("sources"),
    command("digest"),
)
HELP, STORY = command("help"), command("story")
ABOUT, LIMIT, LANGUAGES, QUESTION, URL = (
    BRIEF.option("about"),
    BRIEF.option("limit"),
    BRIEF.option("languages"),
    ASK.option("question"),
    SUMMARIZE.option("url"),
)
SCHEDULE, TIMEZONE, MAX_ITEMS = (
    SUBSCRIBE.option("schedule"),
    SUBSCRIBE.option("timezone"),
    SUBSCRIBE.option("max_items"),
)
FILTER_CHARS = SUBSCRIBE.option("countries").high
STORY_QUERY = STORY.option("story")
ALERT_OUTLETS, ALERT_COUNTRIES, ALERT_WINDOW, ALERTS_PER_DAY, QUIET_HOURS = (
    SUBSCRIBE.option("alert_outlets"),
    SUBSCRIBE.option("alert_countries"),
    SUBSCRIBE.option("alert_window"),
    SUBSCRIBE.option("alerts_per_day"),
    SUBSCRIBE.option("quiet_hours"),
)
FEED_URL = SOURCES.option("url")
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
    @app_commands.command(name=BRIEF.name, description=BRIEF.summary)
    @app_commands.describe(**BRIEF.descriptions())
    async def brief(
        self,
        interaction: discord.Interaction,
        about: app_commands.Range[str, ABOUT.low, ABOUT.high] = "",
        limit: app_commands.Range[int, LIMIT.low, LIMIT.high] = 5,
        languages: app_commands.Range[str, LANGUAGES.low, LANGUAGES.high] | None = None,
    ) -> None:
        """Post a brief of the top stories."""
        await defer(interaction)
        digest = await self.service.brief(about, limit=limit, languages=split_list(languages))
        await reply(interaction, render_digest(digest))

    @brief.autocomplete("about")
    async def _brief_about(self, interaction: discord.Interaction, current: str) -> list[Choice[str]]:
        return _choices(self.service.suggest("any", current))

    @app_commands.command(name=ASK.name, description=ASK.summary)
    @app_commands.describe(**ASK.descriptions())
    async def ask(
        self, interaction: discord.Interaction, question: app_commands.Range[str, QUESTION.low, QUESTION.high]
    ) -> None:
        """Answer from the archive with citations."""
        await defer(interaction)
        answer = await self.service.ask(question)
        await reply(interaction, render_answer(answer))

    @app_commands.command(name=SUMMARIZE.name, description=SUMMARIZE.summary)
    @app_commands.describe(**SUMMARIZE.descriptions())
    async def summarize(
        self, interaction: discord.Interaction, url: app_commands.Range[str, URL.low, URL.high]
    ) -> None:
        """Fetch a page and summarise it."""
        await defer(interaction)
        summary = await self.service.summarize_url(url, requester=f"discord:{interaction.user.id}")
        await reply(interaction, render_link_summary(summary))

    @app_commands.command(name=STORY.name, description=STORY.summary)
    @app_commands.describe(**STORY.descriptions())
    async def story(
        self, interaction: discord.Interaction, story: app_commands.Range[str, STORY_QUERY.low, STORY_QUERY.high]
    ) -> None:
        """Show a story's timeline, storylines and how each outlet tells it."""
        await defer(interaction)
        view = await self.service.story(story)
        await reply(interaction, render_story(view))

    # -- the channel's subscription --------------------------------------------------------------------------------
    @app_commands.command(name=SUBSCRIBE.name, description=SUBSCRIBE.summary)
    @app_commands.describe(**SUBSCRIBE.descriptions())
    async def subscribe(
        self,
        interaction: discord.Interaction,
        schedule: app_commands.Range[str, SCHEDULE.low, SCHEDULE.high] = "08:00",
        timezone: app_commands.Range[str, TIMEZONE.low, TIMEZONE.high] | None = None,
        countries: app_commands.Range[str, 1, FILTER_CHARS] | None = None,
        regions: app_commands.Range[str, 1, FILTER_CHARS] | None = None,
        topics: app_commands.Range[str, 1, FILTER_CHARS] | None = None,
        keywords: app_commands.Range[str, 1, FILTER_CHARS] | None = None,
        sources: app_commands.Range[str, 1, FILTER_CHARS] | None = None,
        languages: app_commands.Range[str, LANGUAGES.low, LANGUAGES.high] | None = None,
        max_items: app_commands.Range[int, MAX_ITEMS.low, MAX_ITEMS.high] = 5,
        style: Literal["short", "detailed"] = "short",
        updates: bool = True,
        alerts: bool = False,
        alert_outlets: app_commands.Range[int, ALERT_OUTLETS.low, ALERT_OUTLETS.high] | None = None,
        alert_countries: app_commands.Range[int, ALERT_COUNTRIES.low, ALERT_COUNTRIES.high] | None = None,
        alert_window: app_commands.Range[int, ALERT_WINDOW.low, ALERT_WINDOW.high] | None = None,
        alerts_per_day: app_commands.Range[int, ALERTS_PER_DAY.low, ALERTS_PER_DAY.high] | None = None,
        quiet_hours: app_commands.Range[str, QUIET_HOURS.low, QUIET_HOURS.high] | None = None,
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
            languages=split_list(languages),
            max_items=max_items,
            style=style,
            updates=updates,
            alerts=alerts,
            alert_outlets=alert_outlets,
            alert_countries=alert_countries,
            alert_window=alert_window,
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
        return _choices(self.service.suggest_timezones(current))

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

    @app_commands.command(name=UNSUBSCRIBE.name, description=UNSUBSCRIBE.summary)
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

    @app_commands.command(name=SETTINGS.name, description=SETTINGS.summary)
    async def settings(self, interaction: discord.Interaction) -> None:
        """Show the channel's subscription, privately."""
        channel = channel_ref(interaction)
        await defer(interaction, ephemeral=True)
        info = await self.service.subscription(channel)
        await reply(interaction, render_subscription(info), ephemeral=True)

    @app_commands.command(name=SOURCES.name, description=SOURCES.summary)
    @app_commands.describe(**SOURCES.descriptions())
    async def sources(
        self,
        interaction: discord.Interaction,
        action: Literal["list", "add", "remove"] = "list",
        url: app_commands.Range[str, FEED_URL.low, FEED_URL.high] | None = None,
    ) -> None:
        """Show the feeds with their health, privately; managers add or remove one."""
        if action == "list":
            await defer(interaction, ephemeral=True)
            feeds = await self.service.sources()
            await reply(interaction, render_sources(feeds), ephemeral=True)
            return
        actor = self._manager(interaction)
        if not url:
            raise UserInputError(f"Give the feed's link: `/news sources action:{action} url:<link>`.")
        await defer(interaction, ephemeral=True)
        if action == "add":
            feed = await self.service.add_source(url, actor)
        else:
            feed = await self.service.remove_source(url, actor)
        log.info("feed %s: %s by user %s", feed.url, action, actor.user_id)
        await reply(interaction, [notice(source_change(action, feed.name, feed.url))], ephemeral=True)

    @app_commands.command(name=DIGEST.name, description=DIGEST.summary)
    async def digest(self, interaction: discord.Interaction) -> None:
        """Post the channel's digest now through the outbox."""
        channel = channel_ref(interaction)
        await defer(interaction, ephemeral=True)
        result = await self.service.digest_now(channel)
        text = f"{result.message}\n-# {result.detail}" if result.detail else result.message
        await reply(interaction, [notice(text)], ephemeral=True)
        if result.digest is not None:  # no subscription: the top stories, for everyone to see
            await reply(interaction, render_digest(result.digest))

    @app_commands.command(name=HELP.name, description=HELP.summary)
    async def help(self, interaction: discord.Interaction) -> None:
        """Every command with its options, privately."""
        lines = [usage(spec, "discord") for spec in COMMANDS]
        await interaction.response.send_message(
            embeds=[render_help(lines)], ephemeral=True, allowed_mentions=NO_MENTIONS
        )


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
