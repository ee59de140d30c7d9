"""Composing a channel's digest and serving each scheduled occurrence at most once.

The scheduler wakes `Dispatcher.serve_occurrence(subscription_id)` at each due time. It names the occurrence
(`Schedule.latest_occurrence`), composes the digest from stories the channel has not had, records it in the
outbox under that occurrence and sends it. Waking twice for one occurrence (a coalesced run after a restart, a
second process) finds the occurrence recorded and does nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import case, func, select

from bot.digests.following import ALERT_KEY, UPDATE_KEY, plan_alerts, plan_updates, story_coverage
from bot.digests.model import ChannelRef, Digest, Style
from bot.digests.outbox import Outbox, SendResult
from bot.digests.schedule import Schedule
from bot.digests.subscriptions import channel_language, label_language, subscription_info
from bot.intelligence.briefing import select_digest_stories
from bot.storage import Article, Database, DeliveredStory, Delivery, Subscription, utcnow

log = logging.getLogger(__name__)

# Stories whose latest coverage is older than this are not news any more for a scheduled digest; within it, the
# ranking favours recent coverage and stories already sent to the channel are left out.
DIGEST_WINDOW = timedelta(days=3)
NEVER_AGAIN = datetime.max.replace(tzinfo=UTC)


@dataclass(frozen=True)
class _Target:
    subscription_id: int
    channel: ChannelRef
    schedule: Schedule
    created_at: datetime
    filters: dict[str, object]
    description: str
    max_items: int
    style: Style
    paused: bool
    updates: bool = True


def _heading(when: datetime, schedule: Schedule, description: str) -> str:
    local = when.astimezone(schedule.timezone)
    about = f" · {description}" if description else ""
    return f"Geopolitics briefing · {local:%a %d %b %H:%M} {schedule.timezone_name}{about}"


class Dispatcher:
    """Composes digests for subscriptions and hands them to the outbox."""

    def __init__(self, database: Database, outbox: Outbox, *, clock: Callable[[], datetime] = utcnow) -> None:
        self.database = database
        self.outbox = outbox
        self.clock = clock

    def _target(self, subscription_id: int) -> _Target | None:
        with self.database.session() as session:
            subscription = session.get(Subscription, subscription_id)
            if subscription is None:
                return None
            info = subscription_info(subscription, self.clock())
            return _Target(
                subscription_id=subscription.id,
                channel=info.channel,
                schedule=Schedule.parse(subscription.schedule, subscription.timezone),
                created_at=subscription.created_at,
                filters=dict(info.filters),
                description=info.filter_summary,
                max_items=subscription.max_items,
                style="detailed" if subscription.style == "detailed" else "short",
                paused=subscription.paused_reason is not None,
                updates=subscription.updates,
            )

    def _delivered(self, subscription_id: int) -> dict[int, datetime]:
        query = (
            select(DeliveredStory.story_id, Delivery.created_at)
            .join(Delivery, Delivery.id == DeliveredStory.delivery_id)
            .where(DeliveredStory.subscription_id == subscription_id)
        )
        with self.database.session() as session:
            return {story_id: created_at for story_id, created_at in session.execute(query)}

    def compose(self, subscription_id: int, now: datetime | None = None) -> Digest:
        """The digest the subscription's channel should get now: matching stories it has never been sent."""
        target = self._target(subscription_id)
        if target is None:
            raise LookupError(f"subscription {subscription_id} does not exist")
        return self._compose(target, now or self.clock())

    def _backlog_only(self, since: datetime) -> set[int]:
        """Stories covered only by articles stored on their feed's first fetch: old news, never a digest item."""
        fresh = func.sum(case((Article.is_backlog.is_(False), 1), else_=0))
        query = (
            select(Article.story_id)
            .where(Article.story_id.is_not(None), Article.published_at >= since)
            .group_by(Article.story_id)
            .having(fresh == 0)
        )
        with self.database.session() as session:
            return {story_id for story_id in session.scalars(query) if story_id is not None}

    def _compose(self, target: _Target, now: datetime) -> Digest:
        # Stories the channel has had, and backlog-only stories, are left out by the ranking itself: "delivered
        # never again" is later than any coverage, so their novelty is 0 and the item budget goes to unseen news.
        excluded = set(self._delivered(target.subscription_id)) | self._backlog_only(now - DIGEST_WINDOW)
        stories = select_digest_stories(
            self.database,
            now=now,
            window=DIGEST_WINDOW,
            limit=target.max_items,
            filters=target.filters,
            delivered=dict.fromkeys(excluded, NEVER_AGAIN),
        )
        language = channel_language(target.filters)
        items = tuple(label_language(story.item, language) for story in stories)
        return Digest(
            heading=_heading(now, target.schedule, target.description),
            generated_at=now,
            items=items,
            style=target.style,
            empty_message="Nothing new since the last digest.",
        )

    async def serve_occurrence(self, subscription_id: int) -> SendResult | None:
        """Serve the subscription's latest due occurrence once: compose, record, send. None when nothing to do.

        The occurrence also carries the updates of stories the channel has (each its own delivery, in the story's
        thread); the result is the digest's, or the first update's when the digest had nothing new.

        Composing and recording run in a worker thread: at a popular time hundreds of digest jobs wake at once, and
        the event loop must keep serving the gateway, Socket Mode and the platform calls in between.
        """
        delivery_ids = await asyncio.to_thread(self._record_occurrence, subscription_id)
        return await self._send_all(delivery_ids)

    async def _send_all(self, delivery_ids: list[int]) -> SendResult | None:
        results = [await self.outbox.send(delivery_id) for delivery_id in delivery_ids]
        return results[0] if results else None

    def _record_occurrence(self, subscription_id: int) -> list[int]:
        """Compose the due occurrence's digest and updates and record them; the deliveries to send."""
        now = self.clock()
        target = self._target(subscription_id)
        if target is None or target.paused:
            log.info(
                "subscription %s: missing or paused, occurrence skipped",
                subscription_id,
                extra={"subscription": subscription_id},
            )
            return []
        occurrence = target.schedule.latest_occurrence(now)
        if occurrence < target.created_at:
            return []  # subscribed after this occurrence: the first digest is the next one
        key = occurrence.strftime("%Y-%m-%dT%H:%MZ")
        return self._record_digest_and_updates(target, key, now, skip_empty=False)

    def _record_digest_and_updates(self, target: _Target, key: str, now: datetime, *, skip_empty: bool) -> list[int]:
        """Record the digest under ``key`` (an empty one as served, unless ``skip_empty``), then each update."""
        digest = self._compose(target, now)
        ids: list[int] = []
        if digest.items or not skip_empty:
            with self.database.session() as session:
                coverage = story_coverage(session, [item.story_id for item in digest.items])
            delivery_id = self.outbox.record(target.subscription_id, key, digest, coverage=coverage)
            if delivery_id is not None and digest.items:
                ids.append(delivery_id)
        if target.updates:
            with self.database.session() as session:
                plans = plan_updates(
                    session, target.subscription_id, now, timezone=target.schedule.timezone_name, style=target.style
                )
            for plan in plans:
                update_key = UPDATE_KEY.format(occurrence=key, story_id=plan.story_id)
                update_id = self.outbox.record(
                    target.subscription_id, update_key, plan.digest, coverage={plan.story_id: plan.coverage}
                )
                if update_id is not None:
                    ids.append(update_id)
        if not ids:
            log.info(
                "subscription %s occurrence %s: nothing to post",
                target.subscription_id,
                key,
                extra={"subscription": target.subscription_id},
            )
        return ids

    async def post_now(self, subscription_id: int) -> SendResult | None:
        """Post the channel's digest now (`/news digest`), with its updates, through the outbox; None when nothing
        is new."""
        delivery_ids = await asyncio.to_thread(self._record_now, subscription_id)
        return await self._send_all(delivery_ids)

    def _record_now(self, subscription_id: int) -> list[int]:
        now = self.clock()
        target = self._target(subscription_id)
        if target is None:
            return []
        return self._record_digest_and_updates(target, f"now-{now:%Y-%m-%dT%H:%M:%S.%fZ}", now, skip_empty=True)

    async def serve_alerts(self, platforms: list[str] | None = None) -> list[SendResult]:
        """Post breaking alerts to every subscription that wants them (of these platforms), once per story."""
        delivery_ids = await asyncio.to_thread(self._record_alerts, platforms)
        return [await self.outbox.send(delivery_id) for delivery_id in delivery_ids]

    def _record_alerts(self, platforms: list[str] | None) -> list[int]:
        now = self.clock()
        query = select(Subscription).where(Subscription.alerts.is_not(None), Subscription.paused_reason.is_(None))
        if platforms is not None:
            query = query.where(Subscription.platform.in_(platforms))
        ids = []
        with self.database.session() as session:
            planned = [
                (subscription.id, plan_alerts(session, subscription, now)) for subscription in session.scalars(query)
            ]
        for subscription_id, alerts in planned:
            for alert in alerts:
                key = ALERT_KEY.format(story_id=alert.story_id)
                delivery_id = self.outbox.record(
                    subscription_id, key, alert.digest, coverage={alert.story_id: alert.coverage}
                )
                if delivery_id is not None:
                    log.info(
                        "subscription %s: breaking alert for story %s",
                        subscription_id,
                        alert.story_id,
                        extra={"subscription": subscription_id},
                    )
                    ids.append(delivery_id)
        return ids
