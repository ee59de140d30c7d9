"""SlackPublisher against the fake Web API: threads for long digests, escaping, rate limits, error mapping, and
no second post when an answer was lost."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.digests.model import ChannelRef, Digest, FollowUp, SummaryLine
from bot.digests.outbox import ChannelUnavailableError, Outbox, PublishError
from bot.platforms.slack.publisher import HISTORY_PAGE, METADATA_EVENT, SlackPublisher, build_client
from bot.storage import Database, Delivery, DeliveryStatus, Story, Subscription
from tests.platforms.slack.fake_slack import FakeSlack
from tests.platforms.slack.test_render import EVIL, WHEN, make_item

CHANNEL = ChannelRef("slack", "T1", "C42")


@pytest.fixture
def publisher(fake_slack) -> SlackPublisher:
    return SlackPublisher(build_client("xoxb-test-token", f"{fake_slack.base}/api"))


def small_digest() -> Digest:
    return Digest(heading="Evening digest", generated_at=WHEN, items=(make_item(1), make_item(2)))


async def test_long_digest_is_continued_in_a_thread(publisher, fake_slack):
    """A digest too big for one message: the first part is posted, the rest are replies in its thread."""
    long_text = "Officials met again & talked about <terms>. " * 40
    items = tuple(make_item(n, text=long_text, sources=12, lines=6) for n in range(40))
    digest = Digest(heading="Weekly digest", generated_at=WHEN, items=items, style="detailed")
    ts = await publisher.publish(CHANNEL, digest, "delivery-1")
    first, *rest = fake_slack.posts
    assert ts == fake_slack.posts[0].answer_ts
    assert "thread_ts" not in first.payload and first.payload["channel"] == "C42"
    assert len(rest) >= 2
    assert {post.payload["thread_ts"] for post in rest} == {ts}
    assert all(post.payload["unfurl_links"] is False for post in fake_slack.posts)
    text = "\n".join(post.all_text for post in fake_slack.posts)
    assert all(f"*{n}. Story {n - 1}*" in text for n in range(1, 41))  # every story, once, in order of parts
    # Block Kit limits of every part are checked by the fake_slack fixture on teardown.


async def test_article_text_cannot_ping_the_channel(publisher, fake_slack):
    """<!everyone>, <@U…> and & in article text arrive escaped; nothing in the payload can notify anyone."""
    item = replace(make_item(1, title=EVIL), summary=(SummaryLine(EVIL, 0),))
    await publisher.publish(CHANNEL, Digest(heading=EVIL, generated_at=WHEN, items=(item,)), "delivery-2")
    (post,) = fake_slack.posts
    mrkdwn = post.all_text.replace(post.blocks[0]["text"]["text"], "")  # the header is plain_text, shown as typed
    assert "&lt;!everyone&gt;" in mrkdwn and "&amp;" in mrkdwn and "&lt;@U0BADBAD&gt;" in mrkdwn
    assert "<!everyone>" not in mrkdwn and "<!here>" not in mrkdwn and "<@U0BADBAD>" not in mrkdwn


async def test_rate_limit_is_waited_out_and_posts_once(publisher, fake_slack):
    """A 429 with Retry-After: 1 is retried after the wait; exactly one message reaches the channel."""
    fake_slack.fail("chat.postMessage", status=429, error="ratelimited", headers={"Retry-After": "1"})
    ts = await publisher.publish(CHANNEL, small_digest(), "delivery-3")
    assert [call.status for call in fake_slack.api("chat.postMessage")] == [429, 200]
    assert len(fake_slack.posts) == 1
    assert ts == fake_slack.posts[0].answer_ts


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        ("not_in_channel", "the app is not a member of this channel"),
        ("channel_not_found", "Slack cannot find this channel"),
        ("is_archived", "the channel is archived"),
        ("account_inactive", "deactivated or the app uninstalled"),
        ("restricted_action", "workspace settings do not allow the app to post"),
    ],
)
async def test_gone_channels_raise_channel_unavailable(publisher, fake_slack, error, reason):
    """Errors that need someone to act pause the subscription, with a reason people understand."""
    fake_slack.fail("chat.postMessage", error=error)
    with pytest.raises(ChannelUnavailableError) as caught:
        await publisher.publish(CHANNEL, small_digest(), "delivery-4")
    assert reason in str(caught.value) and f"Slack said: {error}" in str(caught.value)


@pytest.mark.parametrize(
    ("status", "error", "expected"),
    [(200, "internal_error", "internal_error"), (200, "invalid_blocks", "invalid_blocks")],
)
async def test_other_failures_raise_publish_error(publisher, fake_slack, status, error, expected):
    """Anything else is a PublishError: the outbox keeps the delivery and retries later."""
    fake_slack.fail("chat.postMessage", status=status, error=error)
    with pytest.raises(PublishError) as caught:
        await publisher.publish(CHANNEL, small_digest(), "delivery-5")
    assert not isinstance(caught.value, ChannelUnavailableError)
    assert expected in str(caught.value)


async def test_unreachable_slack_is_a_publish_error(fake_slack):
    """A connection refused (Slack unreachable) is transient, not a pause."""
    await fake_slack.stop()
    publisher = SlackPublisher(build_client("xoxb-test-token", f"{fake_slack.base}/api/"))
    with pytest.raises(PublishError) as caught:
        await publisher.publish(CHANNEL, small_digest(), "delivery-6")
    assert not isinstance(caught.value, ChannelUnavailableError)


async def test_failed_thread_reply_does_not_repost_the_digest(publisher, fake_slack):
    """Once the first part is in the channel, a failed continuation is logged, not raised (no double post)."""
    items = tuple(make_item(n, lines=6, sources=12) for n in range(40))
    digest = Digest(heading="Weekly digest", generated_at=WHEN, items=items, style="detailed")
    fake_slack.succeed("chat.postMessage")
    fake_slack.fail("chat.postMessage", error="msg_too_long")
    ts = await publisher.publish(CHANNEL, digest, "delivery-7")
    first, failed = fake_slack.api("chat.postMessage")  # and no further parts after the failure
    assert ts == fake_slack.posts[0].answer_ts
    assert "thread_ts" not in first.payload and failed.payload["thread_ts"] == ts


# -- a lost answer is not a second post ---------------------------------------------------------------------------
async def test_post_whose_answer_was_lost_is_found_not_posted_again(publisher, fake_slack):
    """Slack takes the post and the connection drops: the client does not repeat it; the retry finds it by metadata."""
    since = datetime.now(UTC)
    fake_slack.lose_response("chat.postMessage")
    with pytest.raises(PublishError):
        await publisher.publish(CHANNEL, small_digest(), "delivery-8")
    (taken,) = fake_slack.api("chat.postMessage")  # one request: the client did not repeat the post by itself
    assert taken.payload["metadata"] == {"event_type": METADATA_EVENT, "event_payload": {"delivery": "delivery-8"}}
    ts = await publisher.publish(CHANNEL, small_digest(), "delivery-8", retry_since=since)
    assert len(fake_slack.history["C42"]) == 1 and ts == fake_slack.history["C42"][0]["ts"]
    assert len(fake_slack.api("chat.postMessage")) == 1
    (look,) = fake_slack.api("conversations.history")
    assert float(look.payload["oldest"]) < since.timestamp()


async def test_update_posted_on_its_own_whose_answer_was_lost_is_found_not_posted_again(publisher, fake_slack):
    """An update whose story message is unknown goes out as a new message with the delivery key; its retry finds it."""
    since = datetime.now(UTC)
    digest = small_digest()
    follow_up = FollowUp(since=WHEN, first_posted_at=WHEN)  # no reply_to: the story's message is unknown
    update = replace(digest, items=digest.items[:1], kind="update", follow_up=follow_up)
    fake_slack.lose_response("chat.postMessage")
    with pytest.raises(PublishError):
        await publisher.publish(CHANNEL, update, "delivery-8~u1")
    (taken,) = fake_slack.api("chat.postMessage")
    assert taken.payload["metadata"]["event_payload"] == {"delivery": "delivery-8~u1"}
    posted = await publisher.publish(CHANNEL, update, "delivery-8~u1", retry_since=since)
    assert len(fake_slack.api("chat.postMessage")) == 1 and len(fake_slack.history["C42"]) == 1
    assert not isinstance(posted, str) and posted.message_id == fake_slack.history["C42"][0]["ts"]


async def test_retry_that_finds_nothing_posts_once(publisher, fake_slack):
    """A retry after a failure Slack answered (nothing posted) looks, finds only other deliveries, and posts."""
    await publisher.publish(CHANNEL, small_digest(), "delivery-9")
    fake_slack.fail("chat.postMessage", status=503, error="service_unavailable")
    since = datetime.now(UTC)
    with pytest.raises(PublishError):
        await publisher.publish(CHANNEL, small_digest(), "delivery-10")
    assert len(fake_slack.api("chat.postMessage", status=503)) == 1  # a 5xx on a post is not repeated by the client
    await publisher.publish(CHANNEL, small_digest(), "delivery-10", retry_since=since)
    keys = [message["metadata"]["event_payload"]["delivery"] for message in fake_slack.history["C42"]]
    assert keys == ["delivery-9", "delivery-10"]


async def test_look_up_pages_through_a_busy_channel(publisher, fake_slack):
    """The earlier post is found on a later page of the history (newest first), not only on the first."""
    since = datetime.now(UTC)
    fake_slack.lose_response("chat.postMessage")
    with pytest.raises(PublishError):
        await publisher.publish(CHANNEL, small_digest(), "delivery-11")
    for number in range(HISTORY_PAGE + 5):  # other messages after it
        await publisher.client.chat_postMessage(channel="C42", text=f"chatter {number}")
    ts = await publisher.publish(CHANNEL, small_digest(), "delivery-11", retry_since=since)
    assert ts == fake_slack.history["C42"][0]["ts"]
    assert len(fake_slack.api("conversations.history")) == 2
    assert len(fake_slack.history["C42"]) == HISTORY_PAGE + 6


async def test_failed_look_up_keeps_the_delivery_without_posting(publisher, fake_slack):
    """When the history cannot be read for now, the retry raises instead of risking a second post."""
    fake_slack.fail("conversations.history", status=500, error="internal_error")
    fake_slack.fail("conversations.history", status=500, error="internal_error")
    with pytest.raises(PublishError):
        await publisher.publish(CHANNEL, small_digest(), "delivery-12", retry_since=datetime.now(UTC))
    assert fake_slack.api("chat.postMessage") == []


async def test_look_up_without_the_history_scope_posts(publisher, fake_slack):
    """An install that predates the history scopes: the look-up is refused, and the digest still goes out."""
    fake_slack.fail("conversations.history", error="missing_scope")
    await publisher.publish(CHANNEL, small_digest(), "delivery-13", retry_since=datetime.now(UTC))
    assert len(fake_slack.posts) == 1


@pytest.fixture
def subscription_id(database: Database) -> int:
    with database.session() as session:
        session.add_all(Story(id=story_id, title=f"Story {story_id}") for story_id in (1, 2))
        subscription = Subscription(platform="slack", workspace_id="T1", channel_id="C42", schedule="08:00")
        session.add(subscription)
        session.flush()
        return subscription.id


async def test_outbox_retry_after_a_lost_answer_leaves_exactly_one_message(
    database: Database, subscription_id: int, fake_slack: FakeSlack, publisher: SlackPublisher
):
    """Through the outbox: the answer is lost, the delivery stays pending, the retry marks it sent with the first
    message's ts, and the channel holds exactly one digest."""
    now = [datetime.now(UTC)]
    outbox = Outbox(database, {"slack": publisher}, clock=lambda: now[0])
    delivery_id = outbox.record(subscription_id, "2026-05-01T08:00Z", small_digest())
    assert delivery_id is not None
    fake_slack.lose_response("chat.postMessage")
    assert (await outbox.send(delivery_id)).status is DeliveryStatus.PENDING
    now[0] += timedelta(minutes=5)  # past the backoff
    (result,) = await outbox.resume()
    assert result.status is DeliveryStatus.SENT
    (message,) = fake_slack.history["C42"]
    with database.session() as session:
        delivery = session.scalars(select(Delivery)).one()
        assert delivery.platform_message_id == message["ts"] and delivery.attempts == 2
    assert len(fake_slack.api("chat.postMessage")) == 1 and len(fake_slack.api("conversations.history")) == 1
