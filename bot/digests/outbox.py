"""The outbox: a digest is recorded before it is sent and marked sent once the platform confirms.

The sequence for one delivery, each step its own transaction:

1. `record()` stores the Delivery (status pending) and its stories in `delivered_stories`. The unique
   (subscription, occurrence) key makes a second record of the same occurrence a no-op.
2. `send()` claims the delivery and commits *before* calling the platform, then calls it. The claim is one
   conditional UPDATE (still pending, due, then `attempts + 1` and a lease: not due again for SEND_LEASE), so
   of several senders (a scheduler's resume and a digest job, two schedulers for a moment, `/news digest` on a
   web replica) exactly one calls the platform. A publish that outlasts SEND_TIMEOUT is abandoned and retried.
3. On success the delivery is marked sent with the platform's message id. A transient error leaves it pending
   with a backoff; a channel that is gone or forbidden pauses the subscription with the platform's reason.

A crash between 1 and 2 leaves a pending delivery with no attempt: `resume()` sends it after the restart, once.
A crash inside 3 (the platform accepted, the mark was lost), a timeout or a dropped connection leaves the outcome
unknown, and the delivery is sent again when its lease or backoff ends. Publishers get the delivery id as an
idempotency key, and on every attempt after the first the time the delivery was recorded (`retry_since`), so that
the repeat never reaches the channel: Discord drops it (enforced nonce), the Slack publisher first looks for the
earlier post in the channel's history (the key is in the message's metadata) and returns it when found.

A shutdown never cuts step 3 short: the platform call and its mark run in their own task, which a cancelled
caller does not cancel, and `drain()` lets them finish before the platforms disconnect. So a delivery in flight
at SIGTERM is marked sent once, not sent again after the restart.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.digests.model import ChannelRef, Digest
from bot.ops.metrics import record_delivery
from bot.storage import Database, DeliveredStory, Delivery, DeliveryStatus, Subscription, utcnow

log = logging.getLogger(__name__)

# Transient failures are retried with doubling delays up to this cap, so a long outage costs few calls.
RETRY_BASE = timedelta(seconds=30)
RETRY_CAP = timedelta(hours=1)
SEND_LEASE = timedelta(minutes=2)  # a claimed delivery is due for no other sender for this long
SEND_TIMEOUT = 90.0  # seconds a publish may take (inside the lease); a longer one is abandoned and retried


class PublishError(Exception):
    """The platform call failed for now (network, 5xx, rate limit); the delivery stays in the outbox."""


class ChannelUnavailableError(PublishError):
    """The platform says the channel is gone or the bot may not post there; the subscription is paused."""


@dataclass(frozen=True)
class Posted:
    """What a publisher may return instead of a bare message id: also the message that carried each story.

    Updates to a story reply there (a Discord digest spreads its stories over several messages). Stories not
    named are taken to be in ``message_id``'s message or thread.
    """

    message_id: str
    story_messages: Mapping[int, str] = field(default_factory=dict)


class Publisher(Protocol):
    """Delivers a digest to one platform."""

    async def publish(
        self, channel: ChannelRef, digest: Digest, idempotency_key: str, *, retry_since: datetime | None = None
    ) -> str | Posted:
        """Post `digest` to `channel` and return the platform's message id (or a `Posted`).

        `retry_since` is set when an earlier attempt may have reached the platform: no post of this delivery can be
        older than it.
        """
        ...


@dataclass(frozen=True)
class StoryCoverage:
    """What a delivery tells the channel about one story: its articles, and the sentences it quotes."""

    articles: tuple[int, ...]
    sentences: tuple[tuple[int, int, int], ...] = ()  # (article id, start, end)


@dataclass(frozen=True)
class SendResult:
    """What happened to one delivery."""

    delivery_id: int
    status: DeliveryStatus
    error: str | None = None


class Outbox:
    """Records digests, sends them through the platform's publisher, and resumes what a crash interrupted."""

    def __init__(
        self,
        database: Database,
        publishers: Mapping[str, Publisher],
        *,
        clock: Callable[[], datetime] = utcnow,
        channel_interval: timedelta = timedelta(seconds=1),
    ) -> None:
        self.database = database
        self.publishers = publishers
        self.clock = clock
        self.channel_interval = channel_interval  # minimum gap between two posts to one channel
        self._channel_locks: dict[int, asyncio.Lock] = {}
        self._last_post: dict[int, datetime] = {}
        self._in_flight: set[asyncio.Task[SendResult]] = set()

    def record(
        self,
        subscription_id: int,
        occurrence_key: str,
        digest: Digest,
        *,
        coverage: Mapping[int, StoryCoverage] | None = None,
    ) -> int | None:
        """Store a pending delivery and claim its stories; return its id, or None if this occurrence exists.

        A digest with no items is recorded as skipped: the occurrence is served, and nothing is posted. An update
        (``digest.kind == "update"``) claims nothing: its story is the channel's already. ``coverage`` is what
        the delivery tells the channel of each story; it is remembered, in the same transaction, so that the
        next update says only what is new.
        """
        story_ids = [item.story_id for item in digest.items]
        claims = [] if digest.kind == "update" else story_ids
        try:
            with self.database.session() as session:
                delivery = Delivery(
                    subscription_id=subscription_id,
                    occurrence_key=occurrence_key,
                    story_ids=story_ids,
                    payload=digest.to_json(),
                    status=DeliveryStatus.PENDING if story_ids else DeliveryStatus.SKIPPED,
                    created_at=self.clock(),
                )
                session.add(delivery)
                session.flush()
                session.add_all(
                    DeliveredStory(subscription_id=subscription_id, story_id=story_id, delivery_id=delivery.id)
                    for story_id in claims
                )
                session.flush()
                _remember(session, subscription_id, coverage or {}, delivery.created_at)
                platform = session.scalars(
                    select(Subscription.platform).where(Subscription.id == subscription_id)
                ).one()
                delivery_id, status = delivery.id, delivery.status
        except IntegrityError:
            log.info(
                "occurrence %s of subscription %s is already in the outbox",
                occurrence_key,
                subscription_id,
                extra={"subscription": subscription_id},
            )
            return None
        record_delivery(platform, status)  # once committed
        return delivery_id

    async def send(self, delivery_id: int) -> SendResult:
        """Send one pending, due delivery through its platform's publisher (unless another sender claimed it).

        The database work runs in worker threads, so many sends at once never stall the event loop.
        """
        loaded = await asyncio.to_thread(self._load, delivery_id)
        if isinstance(loaded, SendResult):
            return loaded
        channel, digest, subscription_id = loaded
        publisher = self.publishers.get(channel.platform)
        if publisher is None:
            error = f"no publisher for platform {channel.platform} in this process"
            return await asyncio.to_thread(self._postpone, delivery_id, channel, error)
        claim = await asyncio.to_thread(self._claim, delivery_id)
        if claim is None:
            return SendResult(delivery_id, DeliveryStatus.PENDING, "being sent by another sender, or not due")
        attempt, recorded_at = claim
        retry_since = recorded_at if attempt > 1 else None
        task = asyncio.create_task(self._deliver(delivery_id, subscription_id, channel, digest, publisher, retry_since))
        self._in_flight.add(task)
        task.add_done_callback(_forget(self._in_flight))
        # Shielded: a caller cancelled by shutdown leaves the post and its mark to finish (see drain()).
        return await asyncio.shield(task)

    async def drain(self, timeout: float) -> int:
        """Wait up to `timeout` seconds for deliveries being sent; return how many did not finish.

        Those are cancelled and stay pending with their attempt counted: `resume()` sends them after the restart
        (once their lease ends), with the same idempotency key.
        """
        if not self._in_flight:
            return 0
        _done, unfinished = await asyncio.wait(set(self._in_flight), timeout=timeout)
        for task in unfinished:
            task.cancel()
        return len(unfinished)

    async def _deliver(
        self,
        delivery_id: int,
        subscription_id: int,
        channel: ChannelRef,
        digest: Digest,
        publisher: Publisher,
        retry_since: datetime | None,
    ) -> SendResult:
        lock = self._channel_locks.setdefault(subscription_id, asyncio.Lock())
        async with lock:
            await self._respect_channel_interval(subscription_id)
            try:
                async with asyncio.timeout(SEND_TIMEOUT):
                    answer = await publisher.publish(
                        channel, digest, idempotency_key=f"delivery-{delivery_id}", retry_since=retry_since
                    )
            except TimeoutError:
                log.warning("delivery %s to %s took over %.0f s; abandoned", delivery_id, channel, SEND_TIMEOUT)
                error = f"the platform did not answer within {SEND_TIMEOUT:.0f} s"
                return await asyncio.to_thread(self._postpone, delivery_id, channel, error)
            except ChannelUnavailableError as error:
                return await asyncio.to_thread(self._pause, delivery_id, subscription_id, channel, str(error))
            except PublishError as error:
                log.warning(
                    "delivery %s to %s failed, will retry: %s",
                    delivery_id,
                    channel,
                    error,
                    extra={"delivery": delivery_id, "channel": str(channel)},
                )
                return await asyncio.to_thread(self._postpone, delivery_id, channel, str(error))
            finally:
                self._last_post[subscription_id] = self.clock()
        posted = answer if isinstance(answer, Posted) else Posted(answer)
        await asyncio.to_thread(self._mark_sent, delivery_id, posted)
        record_delivery(channel.platform, DeliveryStatus.SENT)
        log.info(
            "delivery %s sent to %s as %s",
            delivery_id,
            channel,
            posted.message_id,
            extra={"delivery": delivery_id, "channel": str(channel)},
        )
        return SendResult(delivery_id, DeliveryStatus.SENT)

    def _load(self, delivery_id: int) -> tuple[ChannelRef, Digest, int] | SendResult:
        """The delivery's channel, digest and subscription, or why it cannot be sent."""
        with self.database.session() as session:
            delivery = session.get(Delivery, delivery_id)
            if delivery is None or delivery.status is not DeliveryStatus.PENDING:
                status = DeliveryStatus.FAILED if delivery is None else delivery.status
                return SendResult(delivery_id, status, "not pending")
            subscription = delivery.subscription
            channel = ChannelRef(subscription.platform, subscription.workspace_id, subscription.channel_id)
            return channel, Digest.from_json(delivery.payload), subscription.id

    def _mark_sent(self, delivery_id: int, posted: Posted) -> None:
        with self.database.session() as session:
            delivery = session.get_one(Delivery, delivery_id)
            delivery.status = DeliveryStatus.SENT
            delivery.sent_at = self.clock()
            delivery.platform_message_id = posted.message_id
            delivery.last_error = None
            delivery.next_attempt_at = None
            # The message each story went out in, where its updates will reply.
            rows = session.scalars(
                select(DeliveredStory).where(
                    DeliveredStory.subscription_id == delivery.subscription_id,
                    or_(
                        DeliveredStory.delivery_id == delivery_id,
                        DeliveredStory.story_id.in_(list(posted.story_messages)),
                    ),
                )
            )
            for row in rows:
                if row.story_id in posted.story_messages:
                    row.message_id = posted.story_messages[row.story_id]
                elif row.delivery_id == delivery_id:
                    row.message_id = posted.message_id

    def in_flight(self) -> int:
        """How many deliveries are being sent right now."""
        return len(self._in_flight)

    def due_deliveries(self, platforms: Sequence[str] | None = None) -> list[int]:
        """Ids of pending deliveries whose retry time has come, oldest first."""
        now = self.clock()
        query = (
            select(Delivery.id)
            .join(Subscription)
            .where(Delivery.status == DeliveryStatus.PENDING, Subscription.paused_reason.is_(None))
            .where(or_(Delivery.next_attempt_at.is_(None), Delivery.next_attempt_at <= now))
            .order_by(Delivery.id)
        )
        if platforms is not None:
            query = query.where(Subscription.platform.in_(platforms))
        with self.database.session() as session:
            return list(session.scalars(query))

    async def resume(self) -> list[SendResult]:
        """Send every due pending delivery of the platforms this process publishes to."""
        return [await self.send(delivery_id) for delivery_id in self.due_deliveries(list(self.publishers))]

    def _claim(self, delivery_id: int) -> tuple[int, datetime] | None:
        """Take the delivery for one send: count the attempt and lease it, if it is still pending and due.

        Returns this attempt's number and when the delivery was recorded, or None if another sender has it.
        """
        now = self.clock()
        claim = (
            update(Delivery)
            .where(Delivery.id == delivery_id, Delivery.status == DeliveryStatus.PENDING)
            .where(or_(Delivery.next_attempt_at.is_(None), Delivery.next_attempt_at <= now))
            .values(attempts=Delivery.attempts + 1, next_attempt_at=now + SEND_LEASE)
            .returning(Delivery.attempts, Delivery.created_at)
        )
        with self.database.session() as session:
            row = session.execute(claim).one_or_none()
            return None if row is None else (row.attempts, row.created_at)

    def _postpone(self, delivery_id: int, channel: ChannelRef, error: str) -> SendResult:
        with self.database.session() as session:
            delivery = session.get_one(Delivery, delivery_id)
            delay = min(RETRY_CAP, RETRY_BASE * 2 ** max(0, delivery.attempts - 1))
            delivery.next_attempt_at = self.clock() + delay
            delivery.last_error = error
        record_delivery(channel.platform, "retry")
        return SendResult(delivery_id, DeliveryStatus.PENDING, error)

    def _pause(self, delivery_id: int, subscription_id: int, channel: ChannelRef, reason: str) -> SendResult:
        log.warning(
            "subscription %s paused: %s",
            subscription_id,
            reason,
            extra={"subscription": subscription_id, "delivery": delivery_id},
        )
        with self.database.session() as session:
            delivery = session.get_one(Delivery, delivery_id)
            delivery.status = DeliveryStatus.FAILED
            delivery.last_error = reason
            session.get_one(Subscription, subscription_id).paused_reason = reason
            # Its stories never reached the channel: release them for the first digest after the pause ends.
            session.execute(delete(DeliveredStory).where(DeliveredStory.delivery_id == delivery_id))
        record_delivery(channel.platform, DeliveryStatus.FAILED)
        return SendResult(delivery_id, DeliveryStatus.FAILED, reason)

    async def _respect_channel_interval(self, subscription_id: int) -> None:
        last = self._last_post.get(subscription_id)
        if last is not None:
            wait = (last + self.channel_interval - self.clock()).total_seconds()
            if wait > 0:
                await asyncio.sleep(wait)


def _remember(session: Session, subscription_id: int, coverage: Mapping[int, StoryCoverage], when: datetime) -> None:
    """Add what a delivery tells the channel to what it knows of each story."""
    if not coverage:
        return
    rows = session.scalars(
        select(DeliveredStory).where(
            DeliveredStory.subscription_id == subscription_id, DeliveredStory.story_id.in_(list(coverage))
        )
    )
    for row in rows:
        told = coverage[row.story_id]
        row.seen_articles = sorted({*(row.seen_articles or ()), *told.articles})
        known = [list(ref) for ref in row.seen_sentences or ()]
        row.seen_sentences = known + [list(ref) for ref in told.sentences if list(ref) not in known]
        row.followed_at = when


def _forget(tasks: set[asyncio.Task[SendResult]]) -> Callable[[asyncio.Task[SendResult]], None]:
    """A done-callback that drops the task from `tasks` and retrieves its outcome (nobody may be awaiting it)."""

    def done(task: asyncio.Task[SendResult]) -> None:
        tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("sending a delivery failed", exc_info=task.exception())

    return done
