"""`/news` through the real CommandTree: interactions in as the gateway delivers them, real REST payloads out.

Each test sends INTERACTION_CREATE through discord.py's own parser; the bot answers through the fake Discord API on
127.0.0.1, and the test reads what reached it. The `fake_discord` fixture checks every message payload against
Discord's limits and mention safety.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from prometheus_client import REGISTRY
from sqlalchemy import select, text

from bot.platforms.discord.client import NewsBot
from bot.service import NewsService
from bot.storage import Subscription
from tests.intelligence.shared import store_pending
from tests.platforms.discord.conftest import ARTICLE_URL
from tests.platforms.discord.fake_discord import (
    ADMIN_ROLE_ID,
    APP_ID,
    CHANNEL_ID,
    GUILD_ID,
    IMPOSTOR_ROLE_ID,
    MANAGE_CHANNELS,
    FakeDiscord,
    dispatch,
    interaction_payload,
    option,
)

EPHEMERAL = 64


def _subscriptions(service: NewsService) -> list[Subscription]:
    with service.database.session() as session:
        return list(session.scalars(select(Subscription)))


def _followups(fake: FakeDiscord, interaction_id: int) -> list[dict[str, Any]]:
    return [r.body for r in fake.for_interaction(interaction_id) if r.method == "POST" and "/webhooks/" in r.path]


def _callback(fake: FakeDiscord, interaction_id: int) -> dict[str, Any]:
    (first, *_) = fake.for_interaction(interaction_id)
    assert first.path.endswith("/callback"), first.path
    body: dict[str, Any] = first.body
    return body


def _all_text(payload: dict[str, Any]) -> str:
    parts = [payload.get("content") or ""]
    for embed in payload.get("embeds", []):
        parts += [embed.get("title", ""), embed.get("description", ""), embed.get("footer", {}).get("text", "")]
        parts += [f"{field['name']} {field['value']}" for field in embed.get("fields", [])]
    return "\n".join(parts)


# -- start-up --------------------------------------------------------------------------------------------------------
async def test_login_registers_the_news_group_for_servers_only(bot: NewsBot, fake_discord: FakeDiscord):
    """At start the /news group with its nine commands is registered, usable in servers only."""
    (sync,) = [r for r in fake_discord.requests if r.method == "PUT"]
    assert sync.path == f"/applications/{APP_ID}/commands"
    (group,) = sync.body
    assert group["name"] == "news"
    assert group["contexts"] == [0] and group["integration_types"] == [0]
    assert [command["name"] for command in group["options"]] == [
        "brief",
        "ask",
        "summarize",
        "story",
        "subscribe",
        "unsubscribe",
        "settings",
        "sources",
        "digest",
        "help",
    ]
    subscribe = next(command for command in group["options"] if command["name"] == "subscribe")
    autocompleted = {option["name"] for option in subscribe["options"] if option.get("autocomplete")}
    assert {"timezone", "countries", "regions", "topics"} <= autocompleted
    style = next(option for option in subscribe["options"] if option["name"] == "style")
    assert [choice["value"] for choice in style["choices"]] == ["short", "detailed"]


# -- reading the news ------------------------------------------------------------------------------------------------
async def test_brief_defers_first_then_posts_story_cards(bot: NewsBot, fake_discord: FakeDiscord):
    """A brief is deferred (type 5, public) before any work, then followed up with one card per story."""
    interaction = await dispatch(bot, interaction_payload("brief", [option("about", "Japan"), option("limit", 3)]))
    callback = _callback(fake_discord, interaction)
    assert callback["type"] == 5
    assert not (callback.get("data") or {}).get("flags", 0) & EPHEMERAL
    (message,) = _followups(fake_discord, interaction)
    assert message["content"].startswith("**Brief:")
    assert 1 <= len(message["embeds"]) <= 3
    story = message["embeds"][0]
    assert story["title"].startswith("1. ")
    assert story["url"].startswith("https://")
    sources = next(field for field in story["fields"] if field["name"] == "Sources")["value"]
    assert "](https://" in sources and ("full text" in sources or "teaser" in sources)
    assert "Japan" in story["footer"]["text"]


async def test_ask_answers_with_quoted_sentences_and_their_sources(bot: NewsBot, fake_discord: FakeDiscord):
    """An answer quotes the archive, cites each sentence, and lists the cited articles with links."""
    question = "How many tankers did the EU blacklist in its new sanctions?"
    interaction = await dispatch(bot, interaction_payload("ask", [option("question", question)]))
    assert _callback(fake_discord, interaction)["type"] == 5
    (message,) = _followups(fake_discord, interaction)
    (answer,) = message["embeds"]
    assert answer["title"] == question
    assert "117" in answer["description"] and "[1]" in answer["description"]
    assert "](https://" in answer["fields"][0]["value"]


async def test_ask_while_articles_are_pending_says_so_in_one_line(
    bot: NewsBot, service: NewsService, fake_discord: FakeDiscord
):
    """A question asked while stored articles are not searchable yet gets the answer and one line saying so."""
    store_pending(service.database, processing=2)
    question = "How many tankers did the EU blacklist in its new sanctions?"
    interaction = await dispatch(bot, interaction_payload("ask", [option("question", question)]))
    (message,) = _followups(fake_discord, interaction)
    (answer,) = message["embeds"]
    assert "117" in answer["description"]
    assert answer["description"].count("not searched yet") == 1
    assert "2 articles stored in the last minutes are not searched yet (processing)." in answer["description"]


async def test_summarize_labels_what_the_summary_is_based_on(bot: NewsBot, fake_discord: FakeDiscord):
    """A link summary is a card titled and linked like the page, saying it came from the full text."""
    interaction = await dispatch(bot, interaction_payload("summarize", [option("url", ARTICLE_URL)]))
    assert _callback(fake_discord, interaction)["type"] == 5
    (message,) = _followups(fake_discord, interaction)
    (card,) = message["embeds"]
    assert card["title"].startswith("Leaders agree to resume talks")
    assert card["url"] == ARTICLE_URL
    assert card["description"].startswith("• ")
    assert "based on full text" in card["footer"]["text"]


async def test_error_after_a_public_defer_is_answered_privately(bot: NewsBot, fake_discord: FakeDiscord):
    """A bad link: the public "thinking…" message is removed and the error goes to the user alone."""
    interaction = await dispatch(bot, interaction_payload("summarize", [option("url", "not a link")]))
    requests = fake_discord.for_interaction(interaction)
    assert [r.method for r in requests] == ["POST", "DELETE", "POST"]
    assert requests[0].body["type"] == 5
    assert requests[1].path.endswith("/messages/@original")
    error = requests[2].body
    assert error["flags"] & EPHEMERAL
    assert error["content"] == "Give a full http:// or https:// link to a news article."


async def test_unexpected_failure_is_logged_and_gets_a_short_apology(
    bot: NewsBot, fake_discord: FakeDiscord, service: NewsService, caplog
):
    """A broken database: the user gets a private apology, the log gets the traceback with the ids."""
    with service.database.engine.begin() as connection:
        connection.execute(text("DROP TABLE feeds"))
    with caplog.at_level(logging.ERROR, logger="bot.platforms.discord"):
        interaction = await dispatch(bot, interaction_payload("sources"))
    (reply,) = _followups(fake_discord, interaction)
    assert reply["content"].startswith("Something went wrong on my side")
    (record,) = [r for r in caplog.records if r.name == "bot.platforms.discord.commands"]
    assert f"channel {CHANNEL_ID}" in record.getMessage() and f"guild {GUILD_ID}" in record.getMessage()
    assert record.exc_info is not None


# -- permission ------------------------------------------------------------------------------------------------------
async def test_member_without_manage_channels_is_refused_politely_and_nothing_changes(
    bot: NewsBot, fake_discord: FakeDiscord, service: NewsService
):
    """No Manage Channels and no admin role: a private refusal as the first response, no defer, no subscription."""
    for command in ("subscribe", "unsubscribe"):
        interaction = await dispatch(bot, interaction_payload(command, permissions=0))
        (request,) = fake_discord.for_interaction(interaction)
        assert request.body["type"] == 4
        assert request.body["data"]["flags"] & EPHEMERAL
        assert request.body["data"]["content"].startswith("Only people who can manage this channel")
    assert _subscriptions(service) == []


async def test_manager_subscribes_with_filters_and_settings_show_them(
    bot: NewsBot, fake_discord: FakeDiscord, service: NewsService
):
    """Manage Channels may subscribe; the reply and /news settings show schedule, filters and next digest."""
    options = [
        option("schedule", "07:30, 18:00"),
        option("timezone", "Asia/Tokyo"),
        option("countries", "Japan, South Korea"),
        option("topics", "Nuclear"),
        option("max_items", 3),
        option("style", "detailed"),
    ]
    interaction = await dispatch(bot, interaction_payload("subscribe", options, permissions=MANAGE_CHANNELS))
    assert _callback(fake_discord, interaction)["type"] == 5
    (confirmation,) = _followups(fake_discord, interaction)
    assert "set up this channel's news digest" in confirmation["content"]
    (subscription,) = _subscriptions(service)
    assert subscription.channel_id == str(CHANNEL_ID) and subscription.workspace_id == str(GUILD_ID)
    assert subscription.filters["countries"] == ["JP", "KR"]
    assert subscription.max_items == 3 and subscription.style == "detailed"

    settings = await dispatch(bot, interaction_payload("settings"))
    assert _callback(fake_discord, settings)["data"]["flags"] & EPHEMERAL
    (shown,) = _followups(fake_discord, settings)
    fields = {field["name"]: field["value"] for field in shown["embeds"][0]["fields"]}
    assert fields["Schedule"] == "07:30, 18:00 (Asia/Tokyo)"
    assert "Japan" in fields["Filters"] and "South Korea" in fields["Filters"]
    assert fields["Next digest"].startswith("<t:")


async def test_configured_admin_role_may_subscribe(bot: NewsBot, fake_discord: FakeDiscord, service: NewsService):
    """A member without Manage Channels but with the DISCORD_ADMIN_ROLE role may subscribe and unsubscribe."""
    await dispatch(bot, interaction_payload("subscribe", roles=(ADMIN_ROLE_ID,)))
    assert len(_subscriptions(service)) == 1
    interaction = await dispatch(bot, interaction_payload("unsubscribe", roles=(ADMIN_ROLE_ID,)))
    (reply,) = _followups(fake_discord, interaction)
    assert "stopped this channel's news digest" in reply["content"]
    assert _subscriptions(service) == []


async def test_a_role_with_the_admin_role_name_but_another_id_does_not_count(
    bot: NewsBot, fake_discord: FakeDiscord, service: NewsService
):
    """Only the configured role id counts: a role someone created with the same name gets the plain refusal."""
    interaction = await dispatch(bot, interaction_payload("subscribe", roles=(IMPOSTOR_ROLE_ID,)))
    (request,) = fake_discord.for_interaction(interaction)
    assert request.body["data"]["content"].startswith("Only people who can manage this channel")
    assert _subscriptions(service) == []


async def test_invalid_subscription_is_explained_privately_and_changes_nothing(
    bot: NewsBot, fake_discord: FakeDiscord, service: NewsService
):
    """A misspelt country: the user alone gets the suggestion, and the channel keeps no subscription."""
    payload = interaction_payload("subscribe", [option("countries", "Japn")], permissions=MANAGE_CHANNELS)
    interaction = await dispatch(bot, payload)
    error = _followups(fake_discord, interaction)[-1]
    assert error["flags"] & EPHEMERAL
    assert 'Unknown country "Japn". Did you mean Japan' in error["content"]
    assert _subscriptions(service) == []


# -- autocomplete ----------------------------------------------------------------------------------------------------
async def test_country_autocomplete_completes_the_last_item(bot: NewsBot, fake_discord: FakeDiscord):
    """Typing "Japan, sou" offers "Japan, South Korea" and friends, keeping what was typed before the comma."""
    typed = option("countries", "Japan, sou", focused=True)
    interaction = await dispatch(bot, interaction_payload("subscribe", [typed], autocomplete=True))
    (request,) = fake_discord.for_interaction(interaction)
    assert request.body["type"] == 8
    values = [choice["value"] for choice in request.body["data"]["choices"]]
    assert "Japan, South Korea" in values and "Japan, South Africa" in values
    assert all(value.startswith("Japan, ") for value in values) and len(values) <= 25


async def test_timezone_autocomplete_offers_iana_names(bot: NewsBot, fake_discord: FakeDiscord):
    """Typing "berl" offers Europe/Berlin."""
    typed = option("timezone", "berl", focused=True)
    interaction = await dispatch(bot, interaction_payload("subscribe", [typed], autocomplete=True))
    (request,) = fake_discord.for_interaction(interaction)
    assert [choice["value"] for choice in request.body["data"]["choices"]] == ["Europe/Berlin"]


async def test_commands_are_timed_and_failures_counted_for_metrics(
    bot: NewsBot, fake_discord: FakeDiscord, service: NewsService
):
    """A finished command lands in the duration histogram; an unexpected failure is counted as failed."""

    def sample(name: str, **labels: str) -> float:
        return REGISTRY.get_sample_value(name, {"platform": "discord", "command": "sources", **labels}) or 0.0

    timed, failed = (
        sample("geobrief_command_duration_seconds_count"),
        sample("geobrief_command_errors_total", kind="failed"),
    )
    await dispatch(bot, interaction_payload("sources"))
    with service.database.engine.begin() as connection:
        connection.execute(text("DROP TABLE feeds"))
    await dispatch(bot, interaction_payload("sources"))
    for _ in range(100):  # the completion event runs as its own task, just after the command
        if sample("geobrief_command_duration_seconds_count") >= timed + 2:
            break
        await asyncio.sleep(0.02)
    assert sample("geobrief_command_duration_seconds_count") == timed + 2
    assert sample("geobrief_command_errors_total", kind="failed") == failed + 1


async def test_timezone_that_is_a_directory_is_refused_politely(
    bot: NewsBot, fake_discord: FakeDiscord, service: NewsService
):
    """`timezone: Etc` (a folder of the tz database) or an overlong name gets a private explanation, no error."""
    for name in ("Etc", "America", "A" * 64):
        payload = interaction_payload("subscribe", [option("timezone", name)], permissions=MANAGE_CHANNELS)
        interaction = await dispatch(bot, payload)
        error = _followups(fake_discord, interaction)[-1]
        assert error["flags"] & EPHEMERAL
        assert "Unknown timezone" in error["content"], name
    assert _subscriptions(service) == []


# -- sources and help ------------------------------------------------------------------------------------------------
async def test_manager_adds_and_removes_a_feed_and_others_are_refused(
    bot: NewsBot, fake_discord: FakeDiscord, service: NewsService
):
    """`/news sources action:add url:…` adds a feed for a manager, `action:remove` stops it; a member is refused
    before anything starts, as on Slack."""
    url = "https://feeds.example/world.rss"
    refused = await dispatch(bot, interaction_payload("sources", [option("action", "add"), option("url", url)]))
    (request,) = fake_discord.for_interaction(refused)
    assert request.body["type"] == 4 and request.body["data"]["flags"] & EPHEMERAL
    assert request.body["data"]["content"].startswith("Only people who can manage this channel")
    assert url not in {feed.url for feed in await service.sources()}

    added = await dispatch(
        bot,
        interaction_payload("sources", [option("action", "add"), option("url", url)], permissions=MANAGE_CHANNELS),
    )
    (reply,) = _followups(fake_discord, added)
    assert reply["content"].startswith("Added the feed") and reply["flags"] & EPHEMERAL
    assert url in {feed.url for feed in await service.sources() if feed.enabled}

    removed = await dispatch(
        bot,
        interaction_payload("sources", [option("action", "remove"), option("url", url)], permissions=MANAGE_CHANNELS),
    )
    (reply,) = _followups(fake_discord, removed)
    assert reply["content"].startswith("Stopped polling")
    assert url not in {feed.url for feed in await service.sources() if feed.enabled}


async def test_sources_add_without_a_link_says_what_is_missing(bot: NewsBot, fake_discord: FakeDiscord):
    """`action:add` with no url is a private usage reply."""
    interaction = await dispatch(
        bot, interaction_payload("sources", [option("action", "add")], permissions=MANAGE_CHANNELS)
    )
    (request,) = fake_discord.for_interaction(interaction)
    assert request.body["data"]["flags"] & EPHEMERAL and "Give the feed's link" in request.body["data"]["content"]


async def test_help_lists_every_command_privately(bot: NewsBot, fake_discord: FakeDiscord):
    """`/news help` answers at once, privately, with one line per command."""
    interaction = await dispatch(bot, interaction_payload("help"))
    (request,) = fake_discord.for_interaction(interaction)
    assert request.body["type"] == 4 and request.body["data"]["flags"] & EPHEMERAL
    (embed,) = request.body["data"]["embeds"]
    for name in ("brief", "ask", "summarize", "subscribe", "unsubscribe", "settings", "sources", "digest", "help"):
        assert f"`/news {name}" in embed["description"], name
