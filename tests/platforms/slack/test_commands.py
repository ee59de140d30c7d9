"""Parsing `/news` text: subcommands, key=value options, Slack's link formatting, and usage errors."""

from __future__ import annotations

import pytest

from bot.errors import UserInputError
from bot.platforms.slack.commands import SLOW, help_text, parse_command, unslack


def test_subscribe_options_from_the_issue():
    """The documented example parses into one SubscriptionRequest."""
    command = parse_command(
        'subscribe schedule="08:00, 18:00" tz=Europe/Berlin countries="Japan, Taiwan" topics=nuclear max=5 style=short'
    )
    request = command.subscription
    assert command.name == "subscribe"
    assert request.schedule == "08:00, 18:00"
    assert request.timezone == "Europe/Berlin"
    assert request.countries == ["Japan", "Taiwan"]
    assert request.topics == ["nuclear"]
    assert request.max_items == 5
    assert request.style == "short"


def test_subscribe_accepts_smart_quotes_aliases_and_repeated_lists():
    """Quotes that Slack clients "smarten", singular keys and repeated list keys all work."""
    request = parse_command(
        "subscribe time=“every 6h” country=Japan country=“South Korea” keyword=uranium"
    ).subscription
    assert request.schedule == "every 6h"
    assert request.countries == ["Japan", "South Korea"]
    assert request.keywords == ["uranium"]


def test_subscribe_without_options_takes_the_defaults():
    """`/news subscribe` alone subscribes with the service's defaults."""
    request = parse_command("subscribe").subscription
    assert (request.schedule, request.timezone, request.max_items, request.style) == ("08:00", None, 5, "short")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("frobnicate", "I don't know `frobnicate`"),
        ("ask", "What is your question?"),
        ("summarize", "Give one link"),
        ("summarize https://a.example/1 https://b.example/2", "Give one link"),
        ("subscribe topics", "I don't understand `topics`"),
        ("subscribe colour=red", "I don't understand `colour=red`"),
        ('subscribe schedule="08:00', "A quote is not closed"),
        ("subscribe max=five", "`max` must be a whole number"),
        ("brief max=99", "`max` must be a number from 1 to 10"),
        ("settings now", "`/news settings` takes no arguments"),
        ("sources delete https://a.example/rss", "Use `add &lt;url&gt;` or `remove &lt;url&gt;`"),
        ("frob <!everyone>", "I don't know `frob`"),
    ],
)
def test_malformed_input_raises_usage_help(text, message):
    """Each malformed command raises UserInputError that says what was wrong and shows the usage."""
    with pytest.raises(UserInputError) as caught:
        parse_command(text)
    assert message in str(caught.value)
    assert "`/news" in str(caught.value)


def test_empty_text_and_help_show_help():
    """`/news` alone and `/news help` both mean help."""
    assert parse_command("").name == "help"
    assert parse_command("  HELP ").name == "help"
    assert "/news subscribe" in help_text()


def test_brief_takes_a_query_and_an_optional_max():
    """`brief` keeps its query text and reads `max=N` wherever it is."""
    command = parse_command("brief  East Asia   max=3")
    assert (command.name, command.text, command.limit) == ("brief", "East Asia", 3)
    assert parse_command("brief").text == ""
    assert parse_command("brief").limit == 5


def test_summarize_unwraps_slack_links_and_entities():
    """Slack sends links as <url|label> with & escaped; the service gets the plain URL."""
    command = parse_command("summarise <https://news.example/a?x=1&amp;y=2|news.example/a>")
    assert (command.name, command.text) == ("summarize", "https://news.example/a?x=1&y=2")
    assert unslack("ask what about &lt;b&gt; &amp; c?") == "ask what about <b> & c?"


def test_sources_add_and_remove():
    """`sources` lists; `sources add|remove <url>` names the action and the URL."""
    assert parse_command("sources").action == ""
    command = parse_command("sources add <https://feeds.example/rss>")
    assert (command.action, command.text) == ("add", "https://feeds.example/rss")
    assert parse_command("source REMOVE https://feeds.example/rss").action == "remove"


def test_only_model_and_network_work_is_slow():
    """The slow subcommands are acknowledged with "Working on it…"; quick ones with an empty ack."""
    assert {"brief", "ask", "summarize", "digest", "story"} == SLOW
    assert parse_command("ask why?").slow
    assert not parse_command("settings").slow
