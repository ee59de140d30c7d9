"""The `/news` commands, written once for every platform: names, options, limits, who may run them, usage text.

Discord registers its slash commands from these specs (command and option names, descriptions, limits, choices;
tests/platforms/test_command_parity.py compares the registered tree with them), and Slack parses `/news …` text
against them (names, aliases, `key=value` spellings, limits). Both build their help from `usage`. A command
added here and answered on one platform only fails that test, so a new command (say `/news story`) is added here
first, then handled by each adapter.

Options are written as Discord names them (`about`, `limit`, `timezone`); on Slack a positional option is typed
as is (`/news brief Japan`) and a keyed one as `key=value` with any of its `keys` (`max=3`, `tz=Europe/Berlin`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.digests.subscriptions import MAX_ALERT_WINDOW_HOURS, MAX_ALERTS_PER_DAY, MAX_ITEMS_LIMIT, STYLES

COMMAND = "/news"
DESCRIPTION_CHARS = 100  # Discord's limit for command and option descriptions

OptionKind = Literal["text", "link", "number", "list", "choice", "switch"]


@dataclass(frozen=True)
class OptionSpec:
    """One option of a command.

    Attributes:
        name: the option's name (Discord's option, and what the service is given).
        description: one line, at most 100 characters.
        kind: free text; one link (a single token); a whole number; a comma-separated list; one of ``choices``;
            or a switch (on/off; a boolean option on Discord).
        required: whether the command needs it.
        low, high: the length of text (characters) or the range of a number.
        default: the value when not given (None: nothing).
        choices: the allowed values of a choice.
        keys: Slack's `key=value` spellings, the first shown in help; empty for a positional option.
        placeholder: how usage text shows a positional option ("question", "url").
    """

    name: str
    description: str
    kind: OptionKind = "text"
    required: bool = False
    low: int = 1
    high: int = 100
    default: str | int | bool | None = None
    choices: tuple[str, ...] = ()
    keys: tuple[str, ...] = ()
    placeholder: str = ""

    @property
    def positional(self) -> bool:
        """Whether Slack takes it without a key (the command's free text)."""
        return not self.keys


@dataclass(frozen=True)
class CommandSpec:
    """One `/news` subcommand.

    Attributes:
        name: the subcommand (`/news brief`).
        summary: what it does, one line of at most 100 characters (Discord's description, the help line).
        options: its options, in the order Discord lists them.
        managers_only: only channel managers may run it.
        manager_actions: values of its ``action`` option that only managers may run (`sources add|remove`).
        slow: it waits on a model or the network, so platforms acknowledge first and follow up.
        private: the reply is shown only to the person who asked.
        example: the arguments of an example, as typed on Slack ("Taiwan max=3").
        aliases: other names Slack accepts ("summarise").
    """

    name: str
    summary: str
    options: tuple[OptionSpec, ...] = ()
    managers_only: bool = False
    manager_actions: tuple[str, ...] = ()
    slow: bool = False
    private: bool = False
    example: str = ""
    aliases: tuple[str, ...] = ()

    def option(self, name: str) -> OptionSpec:
        """The option called `name`."""
        return next(option for option in self.options if option.name == name)

    def descriptions(self) -> dict[str, str]:
        """Option name -> description, for registering the command."""
        return {option.name: option.description for option in self.options}


def _filter(name: str, what: str, keys: tuple[str, ...]) -> OptionSpec:
    return OptionSpec(name, f"Only stories {what}, comma-separated", kind="list", high=1000, keys=keys)


LANGUAGES = OptionSpec(
    "languages",
    "Only stories in these languages, comma-separated: English, pt, German (default: all)",
    kind="list",
    high=200,
    keys=("languages", "language"),
)


COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec(
        "brief",
        "The top stories now, or those on a topic, country or region",
        (
            OptionSpec(
                "about",
                "A topic, country or region, e.g. Japan, Sahel, sanctions (empty for everything)",
                default="",
                placeholder="topic, country or region",
            ),
            OptionSpec(
                "limit",
                f"How many stories, 1 to {MAX_ITEMS_LIMIT}",
                kind="number",
                high=MAX_ITEMS_LIMIT,
                default=5,
                keys=("max", "limit"),
            ),
            LANGUAGES,
        ),
        slow=True,
        example="Taiwan max=3",
    ),
    CommandSpec(
        "ask",
        "Ask a question; the answer quotes stored articles and cites them",
        (
            OptionSpec(
                "question",
                "For example: How many tankers did the EU blacklist?",
                required=True,
                low=3,
                high=300,
                placeholder="question",
            ),
        ),
        slow=True,
        example="What did Japan say?",
    ),
    CommandSpec(
        "summarize",
        "Summarise a news article from its link",
        (
            OptionSpec(
                "url", "The article's full https:// link", kind="link", required=True, high=2048, placeholder="url"
            ),
        ),
        slow=True,
        aliases=("summarise",),
    ),
    CommandSpec(
        "story",
        "One story in full: its timeline, related storylines, how each outlet tells it",
        (
            OptionSpec(
                "story",
                "The story's number (a digest item shows it) or words from its headline",
                required=True,
                high=200,
                placeholder="number or words",
            ),
        ),
        slow=True,
        example="26",
    ),
    CommandSpec(
        "subscribe",
        "Post a news digest in this channel on a schedule (replaces any earlier one)",
        (
            OptionSpec(
                "schedule",
                'Times of day like "08:00" or "07:30, 18:00", or "every 6h"',
                default="08:00",
                keys=("schedule", "time", "times", "at"),
            ),
            OptionSpec(
                "timezone",
                "IANA timezone for the times, e.g. Europe/Berlin (default: the bot's)",
                high=64,
                keys=("tz", "timezone"),
            ),
            _filter("countries", "about these countries", ("countries", "country")),
            _filter("regions", "about these regions or blocs", ("regions", "region")),
            _filter("topics", "on these topics", ("topics", "topic")),
            _filter("keywords", "mentioning these words", ("keywords", "keyword")),
            OptionSpec(
                "sources",
                "Only stories from these outlets, comma-separated (see /news sources)",
                kind="list",
                high=1000,
                keys=("sources", "source"),
            ),
            LANGUAGES,
            OptionSpec(
                "max_items",
                f"Most stories per digest, 1 to {MAX_ITEMS_LIMIT}",
                kind="number",
                high=MAX_ITEMS_LIMIT,
                default=5,
                keys=("max", "items", "max_items"),
            ),
            OptionSpec(
                "style",
                "short: two lines per story; detailed: the whole summary and every source",
                kind="choice",
                default="short",
                choices=STYLES,
                keys=("style",),
            ),
            OptionSpec(
                "updates",
                "Post new coverage of stories this channel has in their thread (default: on)",
                kind="switch",
                default=True,
                keys=("updates",),
            ),
            OptionSpec(
                "alerts",
                "Post breaking stories at once instead of waiting for the schedule (default: off)",
                kind="switch",
                default=False,
                keys=("alerts",),
            ),
            OptionSpec(
                "alert_outlets",
                "Breaking when this many independent outlets report it (default 5)",
                kind="number",
                low=2,
                keys=("alert_outlets", "outlets"),
            ),
            OptionSpec(
                "alert_countries",
                "...or this many publisher countries (default 3)",
                kind="number",
                low=2,
                keys=("alert_countries",),
            ),
            OptionSpec(
                "alert_window",
                "...within this many hours (default 2)",
                kind="number",
                high=MAX_ALERT_WINDOW_HOURS,
                keys=("alert_window", "window"),
            ),
            OptionSpec(
                "alerts_per_day",
                "At most this many alerts a day (default 3)",
                kind="number",
                high=MAX_ALERTS_PER_DAY,
                keys=("alerts_per_day", "per_day"),
            ),
            OptionSpec(
                "quiet_hours",
                'No alerts in these hours, e.g. "22:00-07:00" (the default), or "off"',
                high=20,
                keys=("quiet", "quiet_hours"),
            ),
        ),
        managers_only=True,
        example='schedule="08:00, 18:00" tz=Europe/Berlin countries="Japan, Taiwan"',
    ),
    CommandSpec("unsubscribe", "Stop this channel's news digest", managers_only=True),
    CommandSpec(
        "settings",
        "Show this channel's digest settings, next digest, and why it is paused if it is",
        private=True,
        aliases=("setting", "status"),
    ),
    CommandSpec(
        "sources",
        "List the news sources and whether they are working; managers add or remove feeds",
        (
            OptionSpec(
                "action",
                "list (the default), or add or remove a feed (managers only)",
                kind="choice",
                default="list",
                choices=("list", "add", "remove"),
                placeholder="add|remove",
            ),
            OptionSpec("url", "The feed's http(s) link, to add or remove", kind="link", high=2048, placeholder="url"),
        ),
        manager_actions=("add", "remove"),
        private=True,
        aliases=("source",),
    ),
    CommandSpec("digest", "Post this channel's digest now (or the top stories if it has none)", slow=True),
    CommandSpec("help", "How to use /news: every command, with examples", private=True),
)

BY_NAME = {spec.name: spec for spec in COMMANDS}
ALIASES = {alias: spec.name for spec in COMMANDS for alias in spec.aliases}


def command(name: str) -> CommandSpec:
    """The spec of the subcommand `name`."""
    return BY_NAME[name]


def _value_hint(option: OptionSpec) -> str:
    if option.kind == "choice":
        return "|".join(option.choices)
    if option.kind == "number":
        return f"{option.default or option.low} ({option.low}–{option.high})"
    if option.kind == "switch":
        return "on|off"
    return "…"


@dataclass(frozen=True)
class Usage:
    """A command's help as a platform types it; plain text (each platform formats and escapes it).

    Attributes:
        syntax: "/news brief [topic, country or region] [max=N]" (Slack) or "/news brief [about] [limit]" (Discord).
        summary: what it does, with "(managers only)" where that applies.
        example: a whole example command ("" when the command has none).
        keys: Slack's `key=value` options with their values ("tz=…", "style=short|detailed"); none on Discord.
    """

    syntax: str
    summary: str
    example: str = ""
    keys: tuple[str, ...] = ()


def usage(spec: CommandSpec, platform: Literal["slack", "discord"]) -> Usage:
    """How `spec` is typed on `platform`: positional options by placeholder and keyed ones as `key=…` on Slack, the
    option names as the slash command prompts for them on Discord."""
    who = " (managers only)" if spec.managers_only else ""
    if platform == "discord":
        args = [f"<{option.name}>" if option.required else f"[{option.name}]" for option in spec.options]
        return Usage(" ".join([COMMAND, spec.name, *args]), spec.summary + who)
    keyed = [option for option in spec.options if option.keys]
    if spec.manager_actions:
        args = [f"[{' | '.join(f'{action} <url>' for action in spec.manager_actions)}]"]
    elif len(keyed) > 2:
        args = ["key=value …"]
    else:
        args = [
            f"<{option.placeholder}>" if option.required else f"[{option.placeholder or option.name}]"
            for option in spec.options
            if option.positional
        ]
        args += [f"[{option.keys[0]}=N]" for option in keyed if option.kind == "number"]
    example = f"{COMMAND} {spec.name} {spec.example}" if spec.example else ""
    keys = tuple(f"{option.keys[0]}={_value_hint(option)}" for option in keyed) if len(keyed) > 2 else ()
    return Usage(" ".join([COMMAND, spec.name, *args]), spec.summary + who, example, keys)
