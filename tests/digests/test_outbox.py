"""The outbox: recorded before sending, sent once, resumed after a crash, paused when a channel is gone."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.digests.model import ChannelRef, Digest, DigestItem, SourceLink, SummaryLine
from bot.digests.outbox import ChannelUnavailableError, Outbox, PublishError
from bot.storage import Database, DeliveredStory, Delivery, DeliveryStatus, Story, Subscription, TextKind

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)


class RecordingPublisher:
    """A platform edge that records posts and can be told to fail."""

    def __init__(self, failure: Exception | None = None) -> None:
        self.posts: list[tuple[ChannelRef, Digest, str]] = []
        self.retries: list[datetime | None] = []  # what each call got as retry_since
        self.failure = failure

    async def publish(
        self, channel: ChannelRef, digest: Digest, idempotency_key: str, *, retry_since: datetime | None = None
    ) -> str:
        self.retries.append(retry_since)
        if self.failure is not None:
            raise self.failure
        self.posts.append((channel, digest, idempotency_key))
        return f"msg-{len(self.posts)}"


def _digest(story_ids: list[int]) -> Digest:
    source = SourceLink("Example News", "Talks resume", "https://example.org/1", NOW, TextKind.FULL_TEXT)
    items = tuple(
        DigestItem(story_id, f"Story {story_id}", (SummaryLine("Negotiators met.", 0),), (source,), NOW)
        for story_id in story_ids
    )
    return Digest(heading="Morning briefing", generated_at=NOW, items=items)


@pytest.fixture
def subscription_id(database: Database) -> int:
    with database.session() as session:
        session.add_all(Story(id=story_id, title=f"Story {story_id}") for story_id in (1, 2, 3))
        subscription = Subscription(platform="slack", workspace_id="T1", channel_id="C1", schedule="08:00")
        session.add(subscription)
        session.flush()
        return subscription.id


def _deliveries(database: Database) -> list[Delivery]:
    with database.session() as session:
        return list(session.scalars(select(Delivery).order_by(Delivery.id)))


async def test_recorded_digest_is_sent_once_and_marked(database, subscription_id):
    """A recorded delivery is posted once, marked sent with the message id, and not sent again."""
    publisher = RecordingPublisher()
    outbox = Outbox(database, {"slack": publisher}, clock=lambda: NOW)
    delivery_id = outbox.record(subscription_id, "2026-05-01T08:00Z", _digest([1, 2]))
    assert delivery_id is not None
    assert (await outbox.send(delivery_id)).status is DeliveryStatus.SENT
    assert await outbox.resume() == []
    assert len(publisher.posts) == 1
    channel, digest, key = publisher.posts[0]
    assert channel == ChannelRef("slack", "T1", "C1")
    assert [item.story_id for item in digest.items] == [1, 2]
    assert key == f"delivery-{delivery_id}"
    [delivery] = _deliveries(database)
    assert (delivery.status, delivery.platform_message_id, delivery.attempts) == (DeliveryStatus.SENT, "msg-1", 1)


async def test_same_occurrence_is_recorded_once(database, subscription_id):
    """Two wake-ups for one occurrence (two processes, a coalesced run) record one delivery."""
    outbox = Outbox(database, {}, clock=lambda: NOW)
    assert outbox.record(subscription_id, "2026-05-01T08:00Z", _digest([1])) is not None
    assert outbox.record(subscription_id, "2026-05-01T08:00Z", _digest([2])) is None
    assert len(_deliveries(database)) == 1


async def test_crash_between_record_and_send_resumes_with_exactly_one_post(database_url, database, subscription_id):
    """A process that dies right after recording leaves the delivery pending; the restart posts it once."""
    script = textwrap.dedent(
        f"""
        import os
        from bot.digests.outbox import Outbox
        from bot.storage import Database
        from tests.digests.test_outbox import _digest
        Outbox(Database({database_url!r}), {{}}).record({subscription_id}, "2026-05-01T08:00Z", _digest([1, 2]))
        os._exit(1)  # the crash: nothing after recording runs
        """
    )
    crashed = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    assert crashed.returncode == 1, crashed.stderr
    [pending] = _deliveries(database)
    assert (pending.status, pending.attempts) == (DeliveryStatus.PENDING, 0)

    publisher = RecordingPublisher()
    restarted = Outbox(Database(database_url), {"slack": publisher})
    results = await restarted.resume()
    assert [result.status for result in results] == [DeliveryStatus.SENT]
    assert await restarted.resume() == []
    assert len(publisher.posts) == 1


async def test_transient_failure_keeps_delivery_and_retries_after_backoff(database, subscription_id):
    """A platform error loses nothing: the delivery stays pending and is retried once its backoff has passed."""
    now = [NOW]
    failing = RecordingPublisher(PublishError("HTTP 503 from platform"))
    outbox = Outbox(database, {"slack": failing}, clock=lambda: now[0])
    delivery_id = outbox.record(subscription_id, "k1", _digest([1]))
    assert delivery_id is not None
    result = await outbox.send(delivery_id)
    assert (result.status, result.error) == (DeliveryStatus.PENDING, "HTTP 503 from platform")
    assert outbox.due_deliveries() == []  # backing off

    working = RecordingPublisher()
    outbox.publishers = {"slack": working}
    now[0] = NOW + timedelta(minutes=1)
    assert [r.status for r in await outbox.resume()] == [DeliveryStatus.SENT]
    assert len(working.posts) == 1
    [delivery] = _deliveries(database)
    assert delivery.attempts == 2 and delivery.last_error is None
    # The first attempt is no retry; the second tells the publisher since when an earlier post could exist.
    assert failing.retries == [None] and working.retries == [delivery.created_at]


async def test_gone_channel_pauses_subscription_and_releases_stories(database, subscription_id):
    """A channel the platform says is gone pauses the subscription with the reason; its stories are not spent."""
    publisher = RecordingPublisher(ChannelUnavailableError("channel_not_found: the channel was deleted"))
    outbox = Outbox(database, {"slack": publisher}, clock=lambda: NOW)
    delivery_id = outbox.record(subscription_id, "k1", _digest([1, 2]))
    assert delivery_id is not None
    result = await outbox.send(delivery_id)
    assert result.status is DeliveryStatus.FAILED
    with database.session() as session:
        subscription = session.get_one(Subscription, subscription_id)
        assert subscription.paused_reason == "channel_not_found: the channel was deleted"
        assert session.scalars(select(DeliveredStory)).all() == []
    assert outbox.due_deliveries() == []


async def test_delivery_for_platform_not_in_this_process_waits(database, subscription_id):
    """A process without the subscription's platform leaves its delivery pending for one that has it."""
    outbox = Outbox(database, {"discord": RecordingPublisher()}, clock=lambda: NOW)
    outbox.record(subscription_id, "k1", _digest([3]))
    assert await outbox.resume() == []
    [delivery] = _deliveries(database)
    assert delivery.status is DeliveryStatus.PENDING


async def test_digest_with_nothing_new_is_recorded_as_skipped_and_never_posted(database, subscription_id):
    """An occurrence with nothing new is served (recorded as skipped) and posts nothing."""
    publisher = RecordingPublisher()
    outbox = Outbox(database, {"slack": publisher}, clock=lambda: NOW)
    assert outbox.record(subscription_id, "k1", _digest([])) is not None
    assert await outbox.resume() == []
    assert outbox.record(subscription_id, "k1", _digest([1])) is None
    assert publisher.posts == []
    [delivery] = _deliveries(database)
    assert delivery.status is DeliveryStatus.SKIPPED


def test_digest_round_trips_through_json():
    """The outbox payload rebuilds the same digest."""
    digest = _digest([1, 2])
    assert Digest.from_json(digest.to_json()) == digest


def test_an_item_counts_every_outlet_of_its_story_not_only_those_listed():
    """A card lists a few sources but says how many outlets covered the story, also after the outbox."""
    source = SourceLink("Reuters", "Talks", "https://example.com/a", NOW, TextKind.FULL_TEXT)
    item = DigestItem(7, "Talks", (SummaryLine("Negotiators met.", 0),), (source,), NOW, all_outlets=6)
    assert item.outlet_count == 6
    assert DigestItem(7, "Talks", (), (source,), NOW).outlet_count == 1
    digest = Digest("Brief", NOW, (item,))
    assert Digest.from_json(digest.to_json()).items[0].outlet_count == 6


async def test_two_senders_of_one_delivery_post_it_once(database, subscription_id):
    """A resume that runs while a digest job is still posting (or a second process) does not post it again."""
    release = asyncio.Event()

    class SlowPublisher(RecordingPublisher):
        async def publish(
            self, channel: ChannelRef, digest: Digest, idempotency_key: str, *, retry_since: datetime | None = None
        ) -> str:
            await release.wait()  # a slow platform: a 429 waited out, a long multi-part digest
            return await super().publish(channel, digest, idempotency_key, retry_since=retry_since)

    publisher = SlowPublisher()
    outbox = Outbox(database, {"slack": publisher}, clock=lambda: NOW)
    other = Outbox(database, {"slack": publisher}, clock=lambda: NOW)  # another process
    delivery_id = outbox.record(subscription_id, "2026-05-01T08:00Z", _digest([1]))
    assert delivery_id is not None
    first = asyncio.create_task(outbox.send(delivery_id))
    await asyncio.sleep(0.05)
    assert await other.resume() == [] and await outbox.resume() == []  # claimed: not due for anyone else
    assert (await other.send(delivery_id)).status is DeliveryStatus.PENDING
    release.set()
    assert (await first).status is DeliveryStatus.SENT
    assert len(publisher.posts) == 1
