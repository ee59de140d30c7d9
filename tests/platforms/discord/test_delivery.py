"""Digests posted to channels through the outbox: nonces, failures that keep the delivery, pauses shown in settings,
rate limits, and article text that cannot ping anyone.

`/news digest` goes through the real service, dispatcher, outbox and DiscordPublisher to the fake Discord API.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.digests.model import ChannelRef, Digest, DigestItem, SourceLink, SummaryLine
from bot.digests.outbox import PublishError
from bot.platforms.discord.client import NewsBot
from bot.platforms.discord.publisher import DiscordPublisher, message_nonce
from bot.service import NewsService
from bot.storage import Delivery, DeliveryStatus, TextKind
from tests.conftest import Clock
from tests.platforms.discord.fake_discord import (
    CHANNEL_ID,
    GUILD_ID,
    MANAGE_CHANNELS,
    Failure,
    FakeDiscord,
    dispatch,
    interaction_payload,
    option,
)

EPHEMERAL = 64
CHANNEL = ChannelRef("discord", str(GUILD_ID), str(CHANNEL_ID))


async def _subscribe(bot: NewsBot, *options: dict[str, Any]) -> None:
    await dispatch(bot, interaction_payload("subscribe", list(options), permissions=MANAGE_CHANNELS))


async def _digest_reply(bot: NewsBot, fake: FakeDiscord) -> dict[str, Any]:
    interaction = await dispatch(bot, interaction_payload("digest"))
    requests = fake.for_interaction(interaction)
    assert requests[0].body["type"] == 5 and requests[0].body["data"]["flags"] & EPHEMERAL
    body: dict[str, Any] = requests[-1].body
    return body


async def _settings_text(bot: NewsBot, fake: FakeDiscord) -> str:
    interaction = await dispatch(bot, interaction_payload("settings"))
    (embed,) = fake.for_interaction(interaction)[-1].body["embeds"]
    return str(embed.get("description", "")) + " " + " ".join(field["value"] for field in embed["fields"])


def _deliveries(service: NewsService) -> list[Delivery]:
    with service.database.session() as session:
        return list(session.scalars(select(Delivery).order_by(Delivery.id)))


async def test_digest_is_posted_through_the_outbox_with_an_enforced_nonce(
    bot: NewsBot, fake_discord: FakeDiscord, service: NewsService
):
    """/news digest posts the channel's digest as a normal message and the outbox marks the delivery sent."""
    await _subscribe(bot, option("max_items", 10), option("style", "detailed"))
    reply = await _digest_reply(bot, fake_discord)
    assert reply["content"] == "Posted this channel's digest."
    (delivery,) = _deliveries(service)
    (post,) = fake_discord.channel_posts()
    assert post.body["nonce"] == f"delivery-{delivery.id}.0" and post.body["enforce_nonce"] is True
    assert post.body["allowed_mentions"] == {"parse": []}
    assert post.body["content"].startswith("**Geopolitics briefing")
    assert len(post.body["embeds"]) == len(delivery.story_ids) > 0
    assert delivery.status is DeliveryStatus.SENT
    assert delivery.platform_message_id == fake_discord.posted[CHANNEL_ID][0]["id"]


async def test_large_digest_is_posted_as_several_messages_each_with_its_own_nonce(
    bot: NewsBot, fake_discord: FakeDiscord
):
    """Ten long detailed stories do not fit one message: they go out in order, split, each message idempotent."""
    when = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
    sources = tuple(
        SourceLink(f"Outlet {n}", "t", f"https://outlet{n}.example/{'a' * 150}", when, TextKind.FULL_TEXT)
        for n in range(8)
    )
    summary = tuple(SummaryLine("A long sentence about the talks. " * 12, n % 8) for n in range(6))
    items = tuple(DigestItem(n, f"Story {n} " + "x" * 300, summary, sources, when) for n in range(1, 11))
    digest = Digest(heading="Morning briefing", generated_at=when, items=items, style="detailed")
    posted = await DiscordPublisher(bot).publish(CHANNEL, digest, idempotency_key="delivery-5")
    posts = fake_discord.channel_posts()
    assert len(posts) >= 2
    assert [post.body["nonce"] for post in posts] == [f"delivery-5.{n}" for n in range(len(posts))]
    titles = [embed["title"] for post in posts for embed in post.body["embeds"]]
    assert [title.split(".")[0] for title in titles] == [str(n) for n in range(1, 11)]
    assert posted.message_id == fake_discord.posted[CHANNEL_ID][0]["id"]
    # Each story's updates will reply to the message that carries its card.
    carried = {
        int(embed["title"].split(".")[0]): m["id"] for m in fake_discord.posted[CHANNEL_ID] for embed in m["embeds"]
    }
    assert dict(posted.story_messages) == carried
    # The fake_discord fixture checks each of these payloads against every limit when the test ends.


async def test_failed_send_stays_in_the_outbox_and_is_sent_once_later(
    bot: NewsBot, fake_discord: FakeDiscord, service: NewsService, clock: Clock
):
    """Discord answers 503: the user hears it is queued, the delivery stays pending; the retry posts it once."""
    await _subscribe(bot)
    fake_discord.fail(CHANNEL_ID, Failure(503, 0, "Service Unavailable"))
    reply = await _digest_reply(bot, fake_discord)
    assert "stays queued" in reply["content"]
    (delivery,) = _deliveries(service)
    assert delivery.status is DeliveryStatus.PENDING and delivery.attempts == 1
    assert "503" in (delivery.last_error or "")
    assert fake_discord.posted.get(CHANNEL_ID) is None

    clock.advance(timedelta(minutes=1))  # past the outbox's first backoff
    (result,) = await service.outbox.resume()
    assert result.status is DeliveryStatus.SENT
    assert len(fake_discord.posted[CHANNEL_ID]) == 1
    first, retry = fake_discord.channel_posts()
    assert first.body["nonce"] == retry.body["nonce"] == f"delivery-{delivery.id}.0"


async def test_a_repeated_send_after_a_lost_confirmation_does_not_duplicate(bot: NewsBot, fake_discord: FakeDiscord):
    """Sending the same delivery twice (a crash between Discord's answer and the outbox's mark) posts once."""
    publisher = DiscordPublisher(bot)
    digest = _digest(title="Talks resume", summary="Negotiators met in Geneva.")
    first = await publisher.publish(CHANNEL, digest, idempotency_key="delivery-41")
    second = await publisher.publish(CHANNEL, digest, idempotency_key="delivery-41")
    assert first == second
    assert len(fake_discord.channel_posts()) == 2 and len(fake_discord.posted[CHANNEL_ID]) == 1


@pytest.mark.parametrize(
    ("failure", "reason"),
    [
        (Failure(404, 10003, "Unknown Channel"), "Unknown Channel"),
        (Failure(403, 50013, "Missing Permissions"), "Send Messages and Embed Links"),
        (Failure(403, 50001, "Missing Access"), "View Channel"),
    ],
)
async def test_gone_or_forbidden_channel_pauses_the_subscription_and_settings_say_why(
    bot: NewsBot, fake_discord: FakeDiscord, service: NewsService, failure: Failure, reason: str
):
    """A deleted channel or a missing permission pauses the subscription; /news settings shows the reason."""
    await _subscribe(bot)
    fake_discord.fail(CHANNEL_ID, failure)
    reply = await _digest_reply(bot, fake_discord)
    assert "paused" in reply["content"] and reason in reply["content"]
    (delivery,) = _deliveries(service)
    assert delivery.status is DeliveryStatus.FAILED
    settings = await _settings_text(bot, fake_discord)
    assert "Paused" in settings and reason in settings and "/news subscribe" in settings
    again = await _digest_reply(bot, fake_discord)
    assert again["content"].startswith("Digests to this channel are paused")
    assert len(fake_discord.channel_posts()) == 1  # nothing more was tried


async def test_rate_limit_is_waited_out_by_discord_py(bot: NewsBot, fake_discord: FakeDiscord, service: NewsService):
    """A 429 with retry_after is slept through and retried by discord.py; the digest is posted once."""
    await _subscribe(bot)
    fake_discord.fail(CHANNEL_ID, Failure(429, 0, "You are being rate limited.", retry_after=0.05))
    reply = await _digest_reply(bot, fake_discord)
    assert reply["content"] == "Posted this channel's digest."
    assert len(fake_discord.channel_posts()) == 2 and len(fake_discord.posted[CHANNEL_ID]) == 1
    assert _deliveries(service)[0].status is DeliveryStatus.SENT


async def test_channel_without_subscription_gets_the_top_stories(bot: NewsBot, fake_discord: FakeDiscord):
    """/news digest with no subscription: a private note, then the top stories for everyone; no outbox post."""
    interaction = await dispatch(bot, interaction_payload("digest"))
    note, stories = [r.body for r in fake_discord.for_interaction(interaction)[1:]]
    assert note["content"].startswith("This channel has no subscription")
    assert not stories.get("flags", 0) & EPHEMERAL
    assert stories["content"].startswith("**Brief: top stories**") and stories["embeds"]
    assert fake_discord.channel_posts() == []


# -- mention safety --------------------------------------------------------------------------------------------------
def _digest(*, title: str, summary: str, outlet: str = "Example News") -> Digest:
    when = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
    source = SourceLink(outlet, title, "https://example.org/a", when, TextKind.FULL_TEXT)
    item = DigestItem(1, title, (SummaryLine(summary, 0),), (source,), when, countries=("Japan",))
    return Digest(heading="Morning briefing", generated_at=when, items=(item,))


async def test_article_text_can_never_ping(bot: NewsBot, fake_discord: FakeDiscord):
    """@everyone, @here and user or role mentions in article text render as text, and no payload allows mentions."""
    hostile = "@everyone look <@123456789012345678> <@!123456789012345678> <@&123456789012345678> @here"
    digest = _digest(title=f"Alert {hostile}", summary=f"**Breaking** {hostile}", outlet="@here News")
    await DiscordPublisher(bot).publish(CHANNEL, digest, idempotency_key="delivery-7")
    (post,) = fake_discord.channel_posts()
    assert post.body["allowed_mentions"] == {"parse": []}
    (embed,) = post.body["embeds"]
    assert "@\u200beveryone" in embed["title"] and "<@\u200b123456789012345678>" in embed["description"]
    assert "\\*\\*Breaking\\*\\*" in embed["description"]
    # The fake_discord fixture also checks every payload for live mentions when the test ends.


async def test_publisher_before_login_keeps_the_delivery(service: NewsService):
    """A digest due before the bot has logged in fails as transient, so the outbox keeps and retries it."""
    bot = NewsBot(service)
    with pytest.raises(PublishError, match="not logged in"):
        await DiscordPublisher(bot).publish(CHANNEL, _digest(title="t", summary="s"), "delivery-1")


def test_message_nonces_are_stable_and_within_discords_limit():
    """Each message of a delivery has its own nonce, the same on every retry, never over 25 characters."""
    assert message_nonce("delivery-12", 0) == "delivery-12.0"
    assert message_nonce("delivery-12", 1) != message_nonce("delivery-12", 0)
    long_key = "delivery-" + "9" * 30
    # Pinned: a retry after a restart or an upgrade must send the nonce the first attempt sent.
    assert message_nonce(long_key, 3) == "8025935df597dedb1cef7b50c"
    assert message_nonce(long_key, 2) != message_nonce(long_key, 3)
    assert len(message_nonce(long_key, 3)) == 25
