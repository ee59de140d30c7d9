"""The `/news` slash command: parse the text, acknowledge at once, call the service, respond in Block Kit.

Grammar (``/news <subcommand> …``; ``/news`` alone shows help)::

    brief [topic, country or region] [max=N]
    ask <question>
    story <number or words>
    summarize <url>
    subscribe [schedule="08:00, 18:00"] [tz=Europe/Berlin] [countries="Japan, Taiwan"] [regions=…] [topics=…]
              [keywords=…] [sources=…] [max=5] [style=short|detailed] [updates=on|off] [alerts=on|off]
              [alert_outlets=5] [alert_countries=3] [alert_window=2h] [alerts_per_day=3] [quiet=22:00-07:00]
    unsubscribe
    settings
    sources [add <url> | remove <url>]
    digest
    help

Slack wants an answer within 3 seconds, so every command is acknowledged before any slow work: slow ones with a
short "Working on it…", the rest with an empty ack. The reply then goes to the command's response_url.
"""

from __future__ import annotations

import html
import logging
import re
import shlex
import time
from dataclasses import dataclass, field
from typing import Any, Literal

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond

from bot.digests.model import ChannelRef
from bot.digests.subscriptions import Actor, SubscriptionRequest, split_list
from bot.errors import BotError, PermissionDeniedError, UserInputError
from bot.ops.metrics import observe_command
from bot.platforms.slack import render
from bot.platforms.slack.permissions import ManagerCheck
from bot.platforms.slack.render import Message
from bot.service import NewsService
from bot.storage import DeliveryStatus

log = logging.getLogger(__name__)

PLATFORM = "slack"
COMMAND = "/news"
WORKING = "Working on it…"
APOLOGY = "Sorry, something went wrong on my side. Please try again in a minute."
PERMISSION_DETAIL = (
    "In Slack, workspace admins and owners can change subscriptions and sources, and so can people the bot's "
    "operator lists in SLACK_SUBSCRIPTION_MANAGERS."
)
MAX_BRIEF_ITEMS = 10
DEFAULT_BRIEF_ITEMS = 5
MAX_RESPONSES = 5  # Slack accepts at most five posts to one response_url

Visibility = Literal["in_channel", "ephemeral"]

USAGE = {
    "brief": "`/news brief [topic, country or region] [max=N]` — the top stories, e.g. `/news brief Taiwan max=3`",
    "ask": "`/news ask &lt;question&gt;` — an answer quoted from stored articles, e.g. `/news ask What did Japan say?`",
    "summarize": "`/news summarize &lt;url&gt;` — a summary of one article page",
    "story": (
        "`/news story &lt;number or words&gt;` — one story in full: its timeline, related storylines and how each "
        "outlet tells it, e.g. `/news story 42` (a digest item shows its number)"
    ),
    "subscribe": (
        "`/news subscribe key=value …` — post a digest here on a schedule (managers only). Keys: "
        '`schedule="08:00, 18:00"` or `schedule="every 6h"`, `tz=Europe/Berlin`, `countries="Japan, Taiwan"`, '
        "`regions=…`, `topics=nuclear`, `keywords=…`, `sources=…`, `max=5` (1–10), `style=short|detailed`, "
        "`updates=on|off` (new coverage in the story's thread, on by default), `alerts=on|off` (breaking stories at "
        "once, off by default) with `alert_outlets=5`, `alert_countries=3`, `alert_window=2h`, `alerts_per_day=3`, "
        '`quiet="22:00-07:00"`'
    ),
    "unsubscribe": "`/news unsubscribe` — stop this channel's digest (managers only)",
    "settings": "`/news settings` — this channel's digest: schedule, filters, next time, or why it is paused",
    "sources": (
        "`/news sources` — the feeds and their health; `/news sources add &lt;url&gt;` or "
        "`/news sources remove &lt;url&gt;` (managers only)"
    ),
    "digest": "`/news digest` — post this channel's digest now (or show the top stories if it has none)",
    "help": "`/news help` — this help",
}
ALIASES = {"summarise": "summarize", "source": "sources", "setting": "settings", "status": "settings"}
SLOW = frozenset({"brief", "ask", "summarize", "digest", "story"})  # model or network work: say "Working on it…" first

# subscribe option keys as users may type them -> SubscriptionRequest fields
OPTION_KEYS = {
    "schedule": "schedule",
    "time": "schedule",
    "times": "schedule",
    "at": "schedule",
    "tz": "timezone",
    "timezone": "timezone",
    "country": "countries",
    "countries": "countries",
    "region": "regions",
    "regions": "regions",
    "topic": "topics",
    "topics": "topics",
    "keyword": "keywords",
    "keywords": "keywords",
    "source": "sources",
    "sources": "sources",
    "max": "max_items",
    "items": "max_items",
    "max_items": "max_items",
    "style": "style",
    "updates": "updates",
    "alerts": "alerts",
    "alert_outlets": "alert_outlets",
    "outlets": "alert_outlets",
    "alert_countries": "alert_countries",
    "alert_window": "alert_window_hours",
    "window": "alert_window_hours",
    "alerts_per_day": "alerts_per_day",
    "per_day": "alerts_per_day",
    "quiet": "quiet_hours",
    "quiet_hours": "quiet_hours",
}
SWITCH_FIELDS = frozenset({"updates", "alerts"})
NUMBER_FIELDS = frozenset({"max_items", "alert_outlets", "alert_countries", "alert_window_hours", "alerts_per_day"})
SWITCHES = {"on": True, "yes": True, "true": True, "off": False, "no": False, "false": False}
LIST_FIELDS = frozenset({"countries", "regions", "topics", "keywords", "sources"})
QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "«": '"', "»": '"', "‘": "'", "’": "'"})
SLACK_LINK = re.compile(r"<((?:https?|mailto):[^|>]*)(?:\|[^>]*)?>")
MAX_OPTION = re.compile(r"(?:^|\s)(?:max|limit)=(\S*)", re.IGNORECASE)


@dataclass(frozen=True)
class NewsCommand:
    """A parsed `/news` command."""

    name: str
    text: str = ""  # the query, question or URL
    action: str = ""  # `sources add|remove`
    limit: int = DEFAULT_BRIEF_ITEMS
    subscription: SubscriptionRequest = field(default_factory=SubscriptionRequest)

    @property
    def slow(self) -> bool:
        """Whether the reply may take longer than Slack's 3 seconds."""
        return self.name in SLOW


def help_text() -> str:
    """Every subcommand with an example, as mrkdwn."""
    lines = "\n".join(f"• {line}" for line in USAGE.values())
    return f"*`/news` — geopolitical news briefings*\n{lines}"


def unslack(text: str) -> str:
    """Undo Slack's formatting of command text: `<url|label>` becomes the URL, entities become characters."""
    text = SLACK_LINK.sub(lambda match: match.group(1), text)
    return html.unescape(text).translate(QUOTES).strip()


def parse_command(text: str) -> NewsCommand:
    """Parse the text after `/news`; raise `UserInputError` with the usage line when it is malformed."""
    text = unslack(text)
    name, _, rest = text.partition(" ")
    name = ALIASES.get(name.lower(), name.lower()) or "help"
    rest = rest.strip()
    if name not in USAGE:
        raise UserInputError(f"I don't know `{render.escape_clipped(name, 50)}`. {help_text()}")
    if name == "brief":
        return _parse_brief(rest)
    if name == "ask":
        if not rest:
            raise UserInputError(f"What is your question? {USAGE['ask']}")
        return NewsCommand("ask", text=rest)
    if name == "summarize":
        if not rest or len(rest.split()) != 1:
            raise UserInputError(f"Give one link. {USAGE['summarize']}")
        return NewsCommand("summarize", text=rest)
    if name == "story":
        if not rest:
            raise UserInputError(f"Which story? {USAGE['story']}")
        return NewsCommand("story", text=rest)
    if name == "subscribe":
        return NewsCommand("subscribe", subscription=_parse_subscription(rest))
    if name == "sources":
        return _parse_sources(rest)
    if rest:
        raise UserInputError(f"`/news {name}` takes no arguments. {USAGE[name]}")
    return NewsCommand(name)


def _parse_brief(rest: str) -> NewsCommand:
    limit = DEFAULT_BRIEF_ITEMS
    if match := MAX_OPTION.search(rest):
        if not _is_number(match.group(1)) or not 1 <= int(match.group(1)) <= MAX_BRIEF_ITEMS:
            raise UserInputError(f"`max` must be a number from 1 to {MAX_BRIEF_ITEMS}. {USAGE['brief']}")
        limit = int(match.group(1))
        rest = (rest[: match.start()] + " " + rest[match.end() :]).strip()
    return NewsCommand("brief", text=" ".join(rest.split()), limit=limit)


def _parse_sources(rest: str) -> NewsCommand:
    if not rest:
        return NewsCommand("sources")
    action, _, url = rest.partition(" ")
    action, url = action.lower(), url.strip()
    if action not in {"add", "remove"} or not url or len(url.split()) != 1:
        raise UserInputError(f"Use `add &lt;url&gt;` or `remove &lt;url&gt;`. {USAGE['sources']}")
    return NewsCommand("sources", text=url, action=action)


def _parse_subscription(rest: str) -> SubscriptionRequest:
    """Turn `key=value` pairs into a request; values with spaces or commas go in quotes."""
    try:
        tokens = shlex.split(rest)
    except ValueError:
        raise UserInputError(f"A quote is not closed. {USAGE['subscribe']}") from None
    values: dict[str, Any] = {}
    for token in tokens:
        key, equals, value = token.partition("=")
        target = OPTION_KEYS.get(key.strip().lower())
        if not equals or target is None:
            raise UserInputError(f"I don't understand `{render.escape_clipped(token, 60)}`. {USAGE['subscribe']}")
        if target in LIST_FIELDS:
            values[target] = [*values.get(target, []), *split_list(value)]
        elif target in NUMBER_FIELDS:
            number = value.strip().lower().removesuffix("h") if target == "alert_window_hours" else value.strip()
            if not _is_number(number):
                raise UserInputError(f"`{key.strip()}` must be a whole number. {USAGE['subscribe']}")
            values[target] = int(number)
        elif target in SWITCH_FIELDS:
            if value.strip().lower() not in SWITCHES:
                raise UserInputError(f"`{key.strip()}` is `on` or `off`. {USAGE['subscribe']}")
            values[target] = SWITCHES[value.strip().lower()]
        else:
            values[target] = value.strip()
    return SubscriptionRequest(**values)


class NewsCommands:
    """Answers `/news` through the service layer; the only code that turns Slack commands into service calls."""

    def __init__(self, service: NewsService, managers: ManagerCheck) -> None:
        self.service = service
        self.managers = managers

    async def handle(self, ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond) -> None:
        """Acknowledge, run the subcommand, respond; errors become an ephemeral message (the one error hook)."""
        started = time.perf_counter()  # the command's duration for /metrics, from its arrival to its last reply
        team, channel, user = command.get("team_id", ""), command.get("channel_id", ""), command.get("user_id", "")
        ids = {"platform": PLATFORM, "workspace": team, "channel": channel, "user": user}
        try:
            request = parse_command(str(command.get("text", "")))
        except UserInputError as error:
            log.info("/news usage help for user %s in %s/%s", user, team, channel, extra=ids)
            await ack(**render.render_mrkdwn(str(error), fallback="How to use /news").payload())
            return
        if request.name == "help":
            await ack(**render.render_mrkdwn(help_text(), fallback="How to use /news").payload())
            return
        if request.slow:
            await ack(text=WORKING, response_type="ephemeral")
        else:
            await ack()
        log.info("/news %s from user %s in %s/%s", request.name, user, team, channel, extra=ids)
        error_kind = None
        try:
            await self._run(request, command, respond)
        except BotError as error:
            error_kind = "refused"
            log.info("/news %s refused for user %s in %s/%s: %s", request.name, user, team, channel, error, extra=ids)
            detail = PERMISSION_DETAIL if isinstance(error, PermissionDeniedError) else ""
            await _send(respond, render.render_note(str(error), detail=detail))
        except Exception:
            error_kind = "failed"
            log.exception("/news %s failed for user %s in %s/%s", request.name, user, team, channel, extra=ids)
            await _send(respond, render.render_note(APOLOGY))
        finally:
            observe_command(PLATFORM, request.name, time.perf_counter() - started, error_kind)

    async def _run(self, request: NewsCommand, command: dict[str, Any], respond: AsyncRespond) -> None:
        channel = ChannelRef(PLATFORM, str(command.get("team_id", "")), str(command.get("channel_id", "")))
        user = str(command.get("user_id", ""))
        if request.name == "brief":
            digest = await self.service.brief(request.text, limit=request.limit)
            for message in render.render_digest(digest)[:MAX_RESPONSES]:
                await _send(respond, message, "in_channel")
        elif request.name == "story":
            view = await self.service.story(request.text)
            await _send(respond, render.render_story(view), "in_channel")
        elif request.name == "ask":
            answer = await self.service.ask(request.text)
            await _send(respond, render.render_answer(answer), "in_channel" if answer.found else "ephemeral")
        elif request.name == "summarize":
            requester = f"slack:{command.get('team_id', '')}:{user}"
            summary = await self.service.summarize_url(request.text, requester=requester)
            await _send(respond, render.render_link_summary(summary), "in_channel")
        elif request.name == "subscribe":
            info = await self.service.subscribe(channel, request.subscription, await self._actor(command))
            lead = f"<@{_user_id(user)}> set this channel's news digest."
            await _send(respond, render.render_subscription(info, lead=lead), "in_channel")
        elif request.name == "unsubscribe":
            if await self.service.unsubscribe(channel, await self._actor(command)):
                await _send(
                    respond,
                    render.render_mrkdwn(
                        f"<@{_user_id(user)}> stopped this channel's news digest.", fallback="News digest stopped"
                    ),
                    "in_channel",
                )
            else:
                await _send(respond, render.render_note("This channel has no news subscription."))
        elif request.name == "settings":
            await _send(respond, render.render_subscription(await self.service.subscription(channel)))
        elif request.name == "sources":
            await self._sources(request, command, respond)
        elif request.name == "digest":
            await self._digest(channel, respond)

    async def _sources(self, request: NewsCommand, command: dict[str, Any], respond: AsyncRespond) -> None:
        if not request.action:
            await _send(respond, render.render_sources(await self.service.sources()))
            return
        actor = await self._actor(command)
        if request.action == "add":
            feed = await self.service.add_source(request.text, actor)
            text = f"Added the feed {feed.name} ({feed.url}); it is polled from the next sync on."
        else:
            feed = await self.service.remove_source(request.text, actor)
            text = f"Stopped polling {feed.name} ({feed.url}); its articles stay in the archive."
        await _send(respond, render.render_note(text))

    async def _digest(self, channel: ChannelRef, respond: AsyncRespond) -> None:
        result = await self.service.digest_now(channel)
        if result.digest is not None:
            for message in render.render_digest(result.digest, note=result.message)[:MAX_RESPONSES]:
                await _send(respond, message, "in_channel")
            return
        if result.posted is None:
            await _send(respond, render.render_note(result.message))
        elif result.posted.status is DeliveryStatus.SENT:
            await _send(respond, render.render_note("Posted this channel's digest."))
        elif result.posted.status is DeliveryStatus.PENDING:
            text = "Slack did not take the digest yet; it stays queued and will be retried."
            await _send(respond, render.render_note(text, detail=result.posted.error or ""))
        else:
            text = f"I could not post the digest, so digests here are paused: {result.posted.error}"
            await _send(respond, render.render_note(text, detail="Fix that, then run `/news subscribe` again."))

    async def _actor(self, command: dict[str, Any]) -> Actor:
        team, user = str(command.get("team_id", "")), str(command.get("user_id", ""))
        can_manage = await self.managers.can_manage(team, user)
        return Actor(user_id=user, can_manage=can_manage, name=str(command.get("user_name", "")))


def _is_number(text: str) -> bool:
    """Whether `text` is a plain whole number in ASCII digits (str.isdigit() alone accepts "³", which int() refuses,
    and digits of other scripts)."""
    return text.isascii() and text.isdigit() and len(text) <= 6


def _user_id(user: str) -> str:
    """A user id fit to put in a mention (Slack ids are letters and digits; anything else is dropped)."""
    return re.sub(r"[^A-Za-z0-9]", "", user)


async def _send(respond: AsyncRespond, message: Message, visibility: Visibility = "ephemeral") -> None:
    """Post to the command's response_url; a failure is logged (there is nowhere else to tell the user)."""
    try:
        response = await respond(**message.payload(), response_type=visibility, unfurl_links=False, unfurl_media=False)
    except Exception:
        log.exception("posting to a response_url failed")
        return
    if response.status_code != 200:
        log.warning("response_url answered %s", response.status_code)
