"""The `/news` slash command: parse the text, acknowledge at once, call the service, respond in Block Kit.

Grammar (``/news <subcommand> …``; ``/news`` alone shows help), from the command spec (`bot.platforms.spec`)::

    brief [topic, country or region] [max=N] [languages=…]
    ask <question>
    story <number or words>
    summarize <url>
    subscribe [schedule="08:00, 18:00"] [tz=Europe/Berlin] [countries="Japan, Taiwan"] [regions=…] [topics=…]
              [keywords=…] [sources=…] [languages=…] [max=5] [style=short|detailed] [updates=on|off]
              [alerts=on|off] [alert_outlets=5] [alert_countries=3] [alert_window=2h] [alerts_per_day=3]
              [quiet=22:00-07:00]
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
from collections.abc import Awaitable, Callable
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
from bot.platforms.spec import ALIASES, BY_NAME, COMMANDS, CommandSpec, command, usage
from bot.replies import source_change
from bot.service import NewsService

log = logging.getLogger(__name__)

PLATFORM = "slack"
COMMAND = "/news"
WORKING = "Working on it…"
APOLOGY = "Sorry, something went wrong on my side. Please try again in a minute."
PERMISSION_DETAIL = (
    "In Slack, workspace admins and owners can change subscriptions and sources, and so can people the bot's "
    "operator lists in SLACK_SUBSCRIPTION_MANAGERS."
)
MAX_RESPONSES = 5  # Slack accepts at most five posts to one response_url

Visibility = Literal["in_channel", "ephemeral"]
BRIEF_LIMIT = command("brief").option("limit")
BRIEF_LANGUAGES = command("brief").option("languages")
SUBSCRIBE = command("subscribe")
SOURCES = command("sources")
SLOW = frozenset(spec.name for spec in COMMANDS if spec.slow)  # model or network work: say "Working on it…" first
# subscribe's `key=value` spellings -> SubscriptionRequest fields (the option names)
OPTION_KEYS = {key: option.name for option in SUBSCRIBE.options for key in option.keys}
LIST_FIELDS = frozenset(option.name for option in SUBSCRIBE.options if option.kind == "list")
NUMBER_FIELDS = frozenset(option.name for option in SUBSCRIBE.options if option.kind == "number")
SWITCH_FIELDS = frozenset(option.name for option in SUBSCRIBE.options if option.kind == "switch")
SWITCHES = {"on": True, "yes": True, "true": True, "off": False, "no": False, "false": False}


def _usage_mrkdwn(spec: CommandSpec) -> str:
    """The spec's help line in mrkdwn: the syntax in code, what it does, an example, the keys."""
    line = usage(spec, "slack")
    text = f"`{render.escape(line.syntax)}` — {render.escape(line.summary)}"
    if line.example:
        text += f", e.g. `{render.escape(line.example)}`"
    if line.keys:
        text += ". Keys: " + ", ".join(f"`{render.escape(key)}`" for key in line.keys)
    return text


USAGE = {spec.name: _usage_mrkdwn(spec) for spec in COMMANDS}
QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "«": '"', "»": '"', "‘": "'", "’": "'"})
SLACK_LINK = re.compile(r"<((?:https?|mailto):[^|>]*)(?:\|[^>]*)?>")
MAX_OPTION = re.compile(rf"(?:^|\s)(?:{'|'.join(BRIEF_LIMIT.keys)})=(\S*)", re.IGNORECASE)
LANGUAGES_OPTION = re.compile(rf"(?:^|\s)(?:{'|'.join(BRIEF_LANGUAGES.keys)})=(?:\"([^\"]*)\"|(\S*))", re.IGNORECASE)


@dataclass(frozen=True)
class NewsCommand:
    """A parsed `/news` command."""

    name: str
    text: str = ""  # the query, question or URL
    action: str = ""  # `sources add|remove`
    limit: int = int(BRIEF_LIMIT.default or 5)
    languages: tuple[str, ...] = ()  # `brief languages=…`
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
    if name not in BY_NAME:
        raise UserInputError(f"I don't know `{render.escape_clipped(name, 50)}`. {help_text()}")
    if name == "brief":
        return _parse_brief(rest)
    if name == "ask":
        if not rest:
            raise UserInputError(f"What is your question? {USAGE['ask']}")
        return NewsCommand("ask", text=_within(rest, "ask", "question"))
    if name == "summarize":
        if not rest or len(rest.split()) != 1:
            raise UserInputError(f"Give one link. {USAGE['summarize']}")
        return NewsCommand("summarize", text=_within(rest, "summarize", "url"))
    if name == "story":
        if not rest:
            raise UserInputError(f"Which story? {USAGE['story']}")
        return NewsCommand("story", text=_within(rest, "story", "story"))
    if name == "subscribe":
        return NewsCommand("subscribe", subscription=_parse_subscription(rest))
    if name == "sources":
        return _parse_sources(rest)
    if rest:
        raise UserInputError(f"`/news {name}` takes no arguments. {USAGE[name]}")
    return NewsCommand(name)


def _within(text: str, name: str, option: str) -> str:
    """`text` if its length is within the option's limits (the same as Discord's), else a usage error."""
    spec = command(name).option(option)
    if not spec.low <= len(text) <= spec.high:
        raise UserInputError(f"The {option} must be {spec.low} to {spec.high} characters. {USAGE[name]}")
    return text


def _parse_brief(rest: str) -> NewsCommand:
    limit = int(BRIEF_LIMIT.default or 5)
    if match := MAX_OPTION.search(rest):
        if not _is_number(match.group(1)) or not BRIEF_LIMIT.low <= int(match.group(1)) <= BRIEF_LIMIT.high:
            raise UserInputError(
                f"`max` must be a number from {BRIEF_LIMIT.low} to {BRIEF_LIMIT.high}. {USAGE['brief']}"
            )
        limit = int(match.group(1))
        rest = (rest[: match.start()] + " " + rest[match.end() :]).strip()
    languages: tuple[str, ...] = ()
    if match := LANGUAGES_OPTION.search(rest):
        languages = tuple(split_list(match.group(1) or match.group(2)))
        rest = (rest[: match.start()] + " " + rest[match.end() :]).strip()
    about = " ".join(rest.split())
    text = _within(about, "brief", "about") if about else ""
    return NewsCommand("brief", text=text, limit=limit, languages=languages)


def _parse_sources(rest: str) -> NewsCommand:
    if not rest:
        return NewsCommand("sources")
    action, _, url = rest.partition(" ")
    action, url = action.lower(), url.strip()
    if action not in SOURCES.manager_actions or not url or len(url.split()) != 1:
        raise UserInputError(f"Use `add &lt;url&gt;` or `remove &lt;url&gt;`. {USAGE['sources']}")
    return NewsCommand("sources", text=_within(url, "sources", "url"), action=action)


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
            number = value.strip().lower().removesuffix("h")  # "alert_window=2h"
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


Handler = Callable[[NewsCommand, dict[str, Any], AsyncRespond], Awaitable[None]]


class NewsCommands:
    """Answers `/news` through the service layer; the only code that turns Slack commands into service calls."""

    def __init__(self, service: NewsService, managers: ManagerCheck) -> None:
        self.service = service
        self.managers = managers
        # One handler per spec command; `help` is answered in the ack itself.
        self.handlers: dict[str, Handler] = {
            "brief": self._brief,
            "ask": self._ask,
            "summarize": self._summarize,
            "story": self._story,
            "subscribe": self._subscribe,
            "unsubscribe": self._unsubscribe,
            "settings": self._settings,
            "sources": self._sources,
            "digest": self._digest,
        }

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
        await self.handlers[request.name](request, command, respond)

    async def _brief(self, request: NewsCommand, command: dict[str, Any], respond: AsyncRespond) -> None:
        digest = await self.service.brief(request.text, limit=request.limit, languages=request.languages)
        for message in render.render_digest(digest)[:MAX_RESPONSES]:
            await _send(respond, message, "in_channel")

    async def _ask(self, request: NewsCommand, command: dict[str, Any], respond: AsyncRespond) -> None:
        answer = await self.service.ask(request.text)
        await _send(respond, render.render_answer(answer), "in_channel" if answer.found else "ephemeral")

    async def _story(self, request: NewsCommand, command: dict[str, Any], respond: AsyncRespond) -> None:
        view = await self.service.story(request.text)
        await _send(respond, render.render_story(view), "in_channel")

    async def _summarize(self, request: NewsCommand, command: dict[str, Any], respond: AsyncRespond) -> None:
        requester = f"slack:{command.get('team_id', '')}:{command.get('user_id', '')}"
        summary = await self.service.summarize_url(request.text, requester=requester)
        await _send(respond, render.render_link_summary(summary), "in_channel")

    async def _subscribe(self, request: NewsCommand, command: dict[str, Any], respond: AsyncRespond) -> None:
        info = await self.service.subscribe(_channel(command), request.subscription, await self._actor(command))
        lead = f"<@{_user_id(str(command.get('user_id', '')))}> set this channel's news digest."
        await _send(respond, render.render_subscription(info, lead=lead), "in_channel")

    async def _unsubscribe(self, request: NewsCommand, command: dict[str, Any], respond: AsyncRespond) -> None:
        if await self.service.unsubscribe(_channel(command), await self._actor(command)):
            text = f"<@{_user_id(str(command.get('user_id', '')))}> stopped this channel's news digest."
            await _send(respond, render.render_mrkdwn(text, fallback="News digest stopped"), "in_channel")
        else:
            await _send(respond, render.render_note("This channel has no news subscription."))

    async def _settings(self, request: NewsCommand, command: dict[str, Any], respond: AsyncRespond) -> None:
        await _send(respond, render.render_subscription(await self.service.subscription(_channel(command))))

    async def _sources(self, request: NewsCommand, command: dict[str, Any], respond: AsyncRespond) -> None:
        if not request.action:
            await _send(respond, render.render_sources(await self.service.sources()))
            return
        actor = await self._actor(command)
        if request.action == "add":
            feed = await self.service.add_source(request.text, actor)
        else:
            feed = await self.service.remove_source(request.text, actor)
        await _send(respond, render.render_note(source_change(request.action, feed.name, feed.url)))

    async def _digest(self, request: NewsCommand, command: dict[str, Any], respond: AsyncRespond) -> None:
        result = await self.service.digest_now(_channel(command))
        if result.digest is not None:  # no subscription: the top stories, in the channel, with the reason
            for message in render.render_digest(result.digest, note=result.message)[:MAX_RESPONSES]:
                await _send(respond, message, "in_channel")
            return
        await _send(respond, render.render_note(result.message, detail=result.detail))

    async def _actor(self, command: dict[str, Any]) -> Actor:
        team, user = str(command.get("team_id", "")), str(command.get("user_id", ""))
        can_manage = await self.managers.can_manage(team, user)
        return Actor(user_id=user, can_manage=can_manage, name=str(command.get("user_name", "")))


def _channel(command: dict[str, Any]) -> ChannelRef:
    return ChannelRef(PLATFORM, str(command.get("team_id", "")), str(command.get("channel_id", "")))


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
