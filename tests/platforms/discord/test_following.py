"""Following a story on Discord, end to end against the fake REST API: the digest, then new coverage posted in a
thread started on the message that carried the story (or as a reply where the bot may not start threads, or as a
new post naming the earlier one when that message is gone), and `/news story`. The `fake_discord` fixture checks
every payload against Discord's embed limits and mention safety."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.config import Settings
from bot.digests.model import ChannelRef
from bot.digests.subscriptions import Actor, SubscriptionRequest, subscribe
from bot.news.http import HttpClient, HttpPolicy
from bot.platforms.discord.client import DiscordPlatform, build_discord
from bot.service import NewsService
from bot.storage import Database, DeliveredStory, DeliveryStatus, utcnow
from tests.conftest import Clock
from tests.digests.developing import store_first_reports, store_later_reports
from tests.platforms.discord.fake_discord import (
    CHANNEL_ID,
    GUILD_ID,
    Failure,
    FakeDiscord,
    dispatch,
    guild_payload,
    interaction_payload,
    option,
)

CHANNEL = ChannelRef("discord", str(GUILD_ID), str(CHANNEL_ID))
ADMIN = Actor("U1", can_manage=True)
THREADS = r"POST /channels/\d+/messages/\d+/threads"


@pytest.fixture
def clock() -> Clock:
    return Clock(utcnow().replace(minute=0, second=30, microsecond=0))


@pytest.fixture
async def service(settings: Settings, sqlite_database: Database, clock: Clock) -> AsyncIterator[NewsService]:
    """The real service over a fresh database (the archive of the other Discord tests is not needed)."""
    async with HttpClient(HttpPolicy.from_settings(settings)) as http:
        yield NewsService(settings, sqlite_database, http, clock=clock)


@pytest.fixture
async def platform(
    settings: Settings, service: NewsService, fake_discord: FakeDiscord
) -> AsyncIterator[DiscordPlatform]:
    platform = build_discord(settings, service)
    service.add_publisher(platform.name, platform.publisher)
    await platform.bot.login("test-token")
    platform.bot._connection.parse_guild_create(guild_payload())
    yield platform
    await platform.close()


def _subscribe(service: NewsService, clock: Clock, **request: Any) -> int:
    values = {"schedule": "every 1h", "quiet_hours": "off", **request}
    return subscribe(
        service.database, CHANNEL, SubscriptionRequest(**values), ADMIN, now=clock.now - timedelta(days=1)
    ).id


async def _digest_then_coverage(
    service: NewsService, clock: Clock, paths: tuple[str, ...] = ("bbc", "rnw", "nytimes")
) -> int:
    store_first_reports(service.database, clock.now - timedelta(hours=3))
    subscription_id = _subscribe(service, clock)
    result = await service.dispatcher.serve_occurrence(subscription_id)
    assert result is not None and result.status is DeliveryStatus.SENT
    clock.advance(timedelta(hours=1))
    store_later_reports(service.database, clock.now - timedelta(minutes=50), paths=paths)
    return subscription_id


def _story_message(service: NewsService) -> int:
    """The message that carried the developing story (the digest card citing Reuters)."""
    with service.database.session() as session:
        rows = session.execute(select(DeliveredStory.story_id, DeliveredStory.message_id)).all()
    assert all(message for _story, message in rows), rows
    return int(next(message for _story, message in rows if message))


async def test_update_goes_to_a_thread_on_the_story_message_with_only_the_new_lines(
    platform: DiscordPlatform, service: NewsService, fake_discord: FakeDiscord, clock: Clock
):
    """The update starts a thread on the digest message carrying the story and posts the new facts there; the
    story's next update goes to the same thread."""
    subscription_id = await _digest_then_coverage(service, clock, paths=("bbc", "rnw"))
    (digest,) = fake_discord.posted[CHANNEL_ID]
    assert "more: /news story " in digest["embeds"][0]["footer"]["text"]
    story_message = _story_message(service)
    assert story_message == int(digest["id"])
    result = await service.dispatcher.serve_occurrence(subscription_id)
    assert result is not None and result.status is DeliveryStatus.SENT
    assert fake_discord.threads == {story_message: CHANNEL_ID}
    (update,) = fake_discord.posted[story_message]
    assert update["content"].startswith("**New since ")
    (card,) = update["embeds"]
    assert "bbc.example" in card["fields"][0]["value"] and "reuters.example" not in str(card)
    assert "Now also reported by" in card["description"] and "First coverage from NL" in card["description"]
    assert len(fake_discord.posted[CHANNEL_ID]) == 1  # nothing new in the channel itself

    clock.advance(timedelta(hours=1))
    store_later_reports(service.database, clock.now - timedelta(minutes=20), paths=("nytimes",))
    await service.dispatcher.serve_occurrence(subscription_id)
    assert len(fake_discord.posted[story_message]) == 2  # the thread existed: the same thread
    assert "nytimes.example" in str(fake_discord.posted[story_message][1]) and "bbc.example" not in str(
        fake_discord.posted[story_message][1]
    )


async def test_where_threads_are_not_allowed_the_update_replies_to_the_story_message(
    platform: DiscordPlatform, service: NewsService, fake_discord: FakeDiscord, clock: Clock
):
    """No Create Public Threads permission: the update is a reply that references the message, pinging no one."""
    subscription_id = await _digest_then_coverage(service, clock)
    fake_discord.refuse[THREADS] = Failure(403, 50013, "Missing Permissions")
    await service.dispatcher.serve_occurrence(subscription_id)
    story_message = _story_message(service)
    reply = fake_discord.channel_posts()[-1].body
    assert reply["message_reference"]["message_id"] == story_message
    assert reply["allowed_mentions"] == {"parse": [], "replied_user": False}
    assert reply["content"].startswith("**New since ")
    assert len(fake_discord.posted[CHANNEL_ID]) == 2


async def test_when_the_story_message_is_gone_the_update_is_a_new_post_naming_it(
    platform: DiscordPlatform, service: NewsService, fake_discord: FakeDiscord, clock: Clock
):
    """The digest was deleted: the update is posted in the channel on its own, saying when the story was first
    posted, and the story's next updates thread on that post."""
    subscription_id = await _digest_then_coverage(service, clock, paths=("bbc",))
    original = _story_message(service)
    fake_discord.deleted.add(original)
    await service.dispatcher.serve_occurrence(subscription_id)
    standalone = fake_discord.posted[CHANNEL_ID][-1]
    assert standalone["content"].startswith("**Update: ") and "that message is gone" in standalone["content"]
    assert _story_message(service) == int(standalone["id"])
    clock.advance(timedelta(hours=1))
    store_later_reports(service.database, clock.now - timedelta(minutes=20), paths=("rnw", "nytimes"))
    await service.dispatcher.serve_occurrence(subscription_id)
    assert int(standalone["id"]) in fake_discord.threads


async def test_story_command_shows_the_timeline_and_how_each_outlet_tells_it(
    platform: DiscordPlatform, service: NewsService, fake_discord: FakeDiscord, clock: Clock
):
    """`/news story <words>` answers with the story's cards: timeline of first reports, then each outlet's
    headline and distinctive sentence, each linked to its article."""
    store_first_reports(service.database, clock.now - timedelta(hours=3))
    store_later_reports(service.database, clock.now - timedelta(hours=1))
    interaction = await dispatch(
        platform.bot, interaction_payload("story", [option("story", "Sudan refugee camp bombed")])
    )
    body = fake_discord.for_interaction(interaction)[-1].body
    cards = {embed["title"].split(":")[0]: embed for embed in body["embeds"]}
    summary = next(embed for title, embed in cards.items() if title.startswith("Story "))
    timeline = next(field["value"] for field in summary["fields"] if field["name"] == "Timeline")
    assert timeline.index("Reuters") < timeline.index("USA Today") < timeline.index("BBC News")
    assert timeline.count("first from") == 4 and "first report" in timeline
    told = cards["How it is told"]
    assert [field["name"] for field in told["fields"]] == [
        "Reuters (GB)",
        "USA Today (US)",
        "BBC News (GB)",
        "Radio Netherlands Worldwide (NL)",
        "The New York Times (US)",
    ]
    assert all("\n> " in field["value"] and "[source](https://" in field["value"] for field in told["fields"]), told
