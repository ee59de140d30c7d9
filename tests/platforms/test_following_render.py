"""Updates, alerts and the story view on every platform, at their worst: long and hostile text, many outlets.

Each payload goes through the same checkers as the fakes use (Block Kit limits and mrkdwn escaping; Discord embed
limits and mention safety); the outbox's JSON round trip keeps an update's follow-up."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import discord

from bot.digests.model import Digest, FollowUp
from bot.intelligence.storyview import PartialFact, Report, StoryView, Telling
from bot.platforms.console import render as console
from bot.platforms.discord import render as discord_render
from bot.platforms.slack import commands as slack_commands
from bot.platforms.slack import render as slack_render
from bot.storage import TextKind
from tests.platforms.discord.limits import message_problems as discord_problems
from tests.platforms.slack.blockkit import message_problems as slack_problems
from tests.platforms.slack.test_render import EVIL, WHEN, make_item

LONG = "Officials said the talks & the <terms> would resume @everyone. " * 30


def _update(*, sources: int = 8) -> Digest:
    item = make_item(7, title=EVIL + LONG, text=LONG, sources=sources, lines=3)
    follow_up = FollowUp(
        since=WHEN - timedelta(hours=2),
        first_posted_at=WHEN - timedelta(hours=2),
        since_label="09:00",
        reply_to="1764158400.000001",
        new_outlets=tuple(source.outlet for source in item.sources),
        new_countries=("NL", "FR"),
    )
    return Digest(heading=f"Update: {item.title}", generated_at=WHEN, items=(item,), kind="update", follow_up=follow_up)


def _view(outlets: int = 15) -> StoryView:
    reports = tuple(
        Report(f"{EVIL} outlet {n}", "GB", EVIL + LONG, f"https://o{n}.example/{'a' * 300}", WHEN, TextKind.FULL_TEXT)
        for n in range(outlets)
    )
    return StoryView(
        item=replace(make_item(3, title=EVIL + LONG, text=LONG, sources=8, lines=3)),
        timeline=reports,
        more_outlets=4,
        tellings=tuple(Telling(report, LONG, report) for report in reports[:10]),
        partial_facts=tuple(PartialFact(LONG, report, (report.outlet, EVIL)) for report in reports[:5]),
        outlet_count=outlets + 4,
        country_count=3,
        as_of=WHEN,
        merged_from=2,
    )


def test_update_round_trips_through_the_outbox_json():
    """What the outbox stores is what the publisher gets: the follow-up (thread, new outlets) included."""
    update = _update()
    assert Digest.from_json(update.to_json()) == update


def test_updates_and_story_views_stay_within_slack_limits_and_escape_everything():
    """Thread replies, stand-alone updates and the story view pass the Block Kit checker."""
    for message in (
        slack_render.render_update(_update()),
        slack_render.render_update(_update(), standalone=True),
        slack_render.render_story(_view()),
        slack_render.render_story(_view(outlets=1)),
    ):
        assert slack_problems(message.payload()) == []
        mrkdwn = [block for block in message.blocks if block["type"] != "header"]  # a header is plain text
        assert "<!everyone>" not in str(mrkdwn)


def test_updates_and_story_views_stay_within_discord_limits_and_never_ping():
    """Each message's embeds stay within Discord's limits, with no live mention."""
    messages = [
        *discord_render.render_update(_update()),
        *discord_render.render_update(_update(), standalone=True),
        *discord_render.render_story(_view()),
        *discord_render.render_story(_view(outlets=1)),
    ]
    for message in messages:
        payload = {
            "content": message.content,
            "embeds": [embed.to_dict() for embed in message.embeds],
            "allowed_mentions": discord.AllowedMentions.none().to_dict(),
        }
        assert discord_problems(payload) == []


def test_console_update_says_what_is_new_and_cites_it():
    """The console shows the update under its story: "New since", each new line with its number, the sources."""
    text = console.render_update(_update(sources=2))
    assert text.startswith("  ↳ Update to: ") and "New since 09:00:" in text
    assert "Now also reported by Outlet 0 [1], Outlet 1 [2]" in text and "First coverage from NL, FR" in text
    assert "[1] Outlet 0: https://outlet0.example/news/7" in text
    standalone = console.render_update(_update(sources=2), standalone=True)
    assert standalone.startswith("Update: ") and "(first posted " in standalone


def test_slack_subscribe_takes_update_and_alert_options():
    """`updates=off alerts=on alert_outlets=4 alert_window=3h quiet=off` become the request's fields."""
    command = slack_commands.parse_command(
        "subscribe updates=off alerts=on alert_outlets=4 alert_countries=2 alert_window=3h alerts_per_day=5 quiet=off"
    )
    request = command.subscription
    assert (request.updates, request.alerts, request.alert_outlets, request.alert_countries) == (False, True, 4, 2)
    assert (request.alert_window, request.alerts_per_day, request.quiet_hours) == (3, 5, "off")
    assert slack_commands.parse_command("story 42").text == "42"
