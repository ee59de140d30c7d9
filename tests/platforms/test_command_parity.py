"""One command spec for every platform: Discord registers exactly the spec's commands, options and limits, and
Slack answers exactly the spec's commands with the same limits. A command on one platform only fails here."""

from __future__ import annotations

from typing import Any

import discord
import pytest

from bot.errors import UserInputError
from bot.platforms.discord.commands import NewsCommands as DiscordCommands
from bot.platforms.discord.commands import NewsTree
from bot.platforms.discord.render import render_help
from bot.platforms.slack.commands import SLOW, help_text, parse_command
from bot.platforms.slack.commands import NewsCommands as SlackCommands
from bot.platforms.spec import BY_NAME, COMMANDS, OptionSpec, usage

STRING, INTEGER, BOOLEAN = 3, 4, 5  # Discord's option types
# Slack text that runs each command with nothing optional given.
MINIMAL = {"ask": "ask why?", "summarize": "summarize https://news.example/a", "story": "story 26"}


def _registered() -> list[dict[str, Any]]:
    """The /news subcommands as Discord receives them at sync (registering needs no service)."""
    tree = NewsTree(discord.Client(intents=discord.Intents.none()))
    group = DiscordCommands(service=None)  # type: ignore[arg-type]
    tree.add_command(group)
    options: list[dict[str, Any]] = group.to_dict(tree)["options"]
    return options


def _as_registered(option: dict[str, Any]) -> tuple[Any, ...]:
    bounds = (option.get("min_length"), option.get("max_length"), option.get("min_value"), option.get("max_value"))
    choices = tuple(choice["value"] for choice in option.get("choices", ()))
    return option["name"], option["description"], option["type"], option["required"], choices, bounds


def _as_specified(option: OptionSpec) -> tuple[Any, ...]:
    if option.kind == "choice":
        return option.name, option.description, STRING, option.required, option.choices, (None, None, None, None)
    if option.kind == "number":
        bounds = (None, None, option.low, option.high)
        return option.name, option.description, INTEGER, option.required, (), bounds
    if option.kind == "switch":
        return option.name, option.description, BOOLEAN, option.required, (), (None, None, None, None)
    return option.name, option.description, STRING, option.required, (), (option.low, option.high, None, None)


def test_discord_registers_the_spec_commands_in_order():
    """The registered subcommands are the spec's, in its order, with its descriptions."""
    registered = _registered()
    assert [command["name"] for command in registered] == [spec.name for spec in COMMANDS]
    assert [command["description"] for command in registered] == [spec.summary for spec in COMMANDS]


@pytest.mark.parametrize("spec", COMMANDS, ids=[spec.name for spec in COMMANDS])
def test_discord_options_are_the_spec_options_with_its_limits(spec):
    """Each option: name, description, type, required, choices and limits as the spec says."""
    (registered,) = [command for command in _registered() if command["name"] == spec.name]
    assert [_as_registered(option) for option in registered.get("options", [])] == [
        _as_specified(option) for option in spec.options
    ]


def test_slack_answers_exactly_the_spec_commands():
    """Slack parses every spec command (and its aliases) and has a handler for each (help is answered in the ack)."""
    handlers = set(SlackCommands(service=None, managers=None).handlers)  # type: ignore[arg-type]
    assert handlers | {"help"} == set(BY_NAME)
    for spec in COMMANDS:
        for name in (spec.name, *spec.aliases):
            text = MINIMAL.get(spec.name, spec.name).replace(spec.name, name, 1)
            assert parse_command(text).name == spec.name, name
    assert {spec.name for spec in COMMANDS if spec.slow} == SLOW


@pytest.mark.parametrize(
    ("text", "limit"),
    [("ask " + "why " * 80, "3 to 300"), ("ask no", "3 to 300"), ("brief " + "x" * 101, "1 to 100")],
)
def test_slack_applies_the_limits_discord_registers(text, limit):
    """Text options too long or too short for Discord are refused on Slack too, with the usage line."""
    with pytest.raises(UserInputError, match=limit):
        parse_command(text)


def test_both_help_texts_list_every_command():
    """Slack's help and Discord's `/news help` each have a line for every spec command."""
    slack = help_text()
    discord_help = render_help([usage(spec, "discord") for spec in COMMANDS]).description or ""
    for spec in COMMANDS:
        assert f"`/news {spec.name}" in slack and f"`/news {spec.name}" in discord_help, spec.name
    assert "(managers only)" in slack and "(managers only)" in discord_help
