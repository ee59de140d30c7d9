"""Digest dispatch over a processed archive: filters, never repeating a story, at most once per occurrence,
nothing posted when nothing is new, and jobs that survive a scheduler restart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from bot.config import Settings
from bot.digests.model import ChannelRef, Digest
from bot.digests.subscriptions import Actor, SubscriptionRequest, subscribe
from bot.news.http import HttpClient, HttpPolicy
from bot.scheduler import DIGEST_JOB_PREFIX, build_scheduler, register_digest_jobs, serve_digest
from bot.service import NewsService
from bot.storage import Article, Database, Delivery, DeliveryStatus
from tests.conftest import Clock
from tests.digests.test_outbox import RecordingPublisher

CHANNEL = ChannelRef("slack", "T1", "C1")
ADMIN = Actor("U1", can_manage=True)
# The archive's newest article is from 25 November 2026; a Berlin 08:00 digest the next morning.
MORNING = datetime(2026, 11, 26, 7, 0, 30, tzinfo=UTC)


@pytest.fixture
def clock() -> Clock:
    return Clock(MORNING)


@pytest.fixture
async def service(archive_copy: Database, clock: Clock) -> NewsService:
    settings = Settings(_env_file=None)
    news = NewsService(settings, archive_copy, HttpClient(HttpPolicy.from_settings(settings)), clock=clock)
    news.add_publisher("slack", RecordingPublisher())
    return news


def _posts(service: NewsService) -> list[Digest]:
    publisher = service.outbox.publishers["slack"]
    assert isinstance(publisher, RecordingPublisher)
    return [digest for _channel, digest, _key in publisher.posts]


def _subscribe(service: NewsService, **request: Any) -> int:
    created = MORNING - timedelta(days=1)
    return subscribe(service.database, CHANNEL, SubscriptionRequest(**request), ADMIN, now=created).id


async def test_occurrence_posts_matching_stories_once(service: NewsService):
    """The due occurrence posts the channel's filtered stories; a second wake-up for it posts nothing."""
    subscription_id = _subscribe(service, schedule="08:00", timezone="Europe/Berlin", countries=["Taiwan"])
    first = await service.dispatcher.serve_occurrence(subscription_id)
    assert first is not None and first.status is DeliveryStatus.SENT
    assert await service.dispatcher.serve_occurrence(subscription_id) is None
    [digest] = _posts(service)
    assert digest.items, "the archive has recent Taiwan stories"
    assert all("Taiwan" in item.countries for item in digest.items)
    assert digest.heading.startswith("Geopolitics briefing · Thu 26 Nov 08:00 Europe/Berlin")
    with service.database.session() as session:
        assert session.scalars(select(Delivery.occurrence_key)).all() == ["2026-11-26T07:00Z"]


async def test_next_occurrence_never_repeats_a_story_and_posts_nothing_when_nothing_is_new(
    service: NewsService, clock: Clock
):
    """Stories delivered once never come back; an occurrence with nothing new is recorded and posts nothing."""
    subscription_id = _subscribe(service, schedule="every 1h", max_items=10)
    await service.dispatcher.serve_occurrence(subscription_id)
    delivered = {item.story_id for digest in _posts(service) for item in digest.items}
    clock.now = MORNING + timedelta(hours=1)
    second = await service.dispatcher.serve_occurrence(subscription_id)
    later = {item.story_id for digest in _posts(service)[1:] for item in digest.items}
    assert not delivered & later
    for _ in range(5):  # drain the archive hour by hour until nothing is left
        clock.now += timedelta(hours=1)
        second = await service.dispatcher.serve_occurrence(subscription_id)
    assert second is None
    all_items = [item.story_id for digest in _posts(service) for item in digest.items]
    assert len(all_items) == len(set(all_items))
    with service.database.session() as session:
        statuses = session.scalars(select(Delivery.status).order_by(Delivery.id)).all()
    assert statuses[-1] is DeliveryStatus.SKIPPED


async def test_subscription_created_after_the_occurrence_waits_for_the_next(service: NewsService):
    """A channel subscribed at 07:30 does not get the 07:00 digest late."""
    info = subscribe(service.database, CHANNEL, SubscriptionRequest(schedule="07:00"), ADMIN, now=MORNING)
    assert await service.dispatcher.serve_occurrence(info.id) is None
    assert _posts(service) == []


async def test_digest_jobs_persist_across_a_scheduler_restart(service: NewsService):
    """Digest jobs live in the database: a new scheduler finds them, and re-registering replaces, not duplicates."""
    subscription_id = _subscribe(service, schedule="08:00", timezone="Europe/Berlin")
    first = build_scheduler(service.database)
    first.start(paused=True)
    register_digest_jobs(first, service)
    first.shutdown(wait=False)

    restarted = build_scheduler(service.database)
    restarted.start(paused=True)
    try:
        job = restarted.get_job(f"{DIGEST_JOB_PREFIX}{subscription_id}")
        assert job is not None
        assert (job.coalesce, job.max_instances, job.misfire_grace_time) == (True, 1, None)
        assert job.next_run_time.astimezone(UTC).hour == 7  # 08:00 Berlin in winter
        register_digest_jobs(restarted, service)
        digest_jobs = [j for j in restarted.get_jobs() if j.id.startswith(DIGEST_JOB_PREFIX)]
        assert len(digest_jobs) == 1
    finally:
        restarted.shutdown(wait=False)


@pytest.mark.parametrize(("subscribed", "due", "served_at_once"), [(-10, -5, True), (-3, -5, False)])
async def test_occurrence_due_before_the_job_existed_is_served_at_once(
    service: NewsService, subscribed: int, due: int, served_at_once: bool
):
    """Subscribed at 07:50, the 07:55 digest due, the job registered at 08:00 (the scheduler was down, or its sync
    had not run yet): the job starts from 07:55, so it fires at once. Subscribed after 07:55: it waits a day."""
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    moment = now + timedelta(minutes=due)
    request = SubscriptionRequest(schedule=f"{moment:%H:%M}", timezone="UTC")
    info = subscribe(service.database, CHANNEL, request, ADMIN, now=now + timedelta(minutes=subscribed))
    scheduler = build_scheduler(service.database)
    scheduler.start(paused=True)
    try:
        register_digest_jobs(scheduler, service)
        job = scheduler.get_job(f"{DIGEST_JOB_PREFIX}{info.id}")
        assert job is not None
        expected = moment if served_at_once else moment + timedelta(days=1)
        assert job.next_run_time == expected
    finally:
        scheduler.shutdown(wait=False)


async def test_job_function_serves_through_the_registered_service(service: NewsService):
    """The stored job calls `serve_digest(id)`, which serves the occurrence once however often it runs."""
    subscription_id = _subscribe(service, schedule="08:00", timezone="Europe/Berlin")
    scheduler = build_scheduler(service.database)
    scheduler.start(paused=True)
    try:
        register_digest_jobs(scheduler, service)
        await serve_digest(subscription_id)
        await serve_digest(subscription_id)  # a coalesced or duplicated wake-up
    finally:
        scheduler.shutdown(wait=False)
    assert len(_posts(service)) == 1


async def test_only_platforms_this_process_publishes_to_get_digest_jobs(service: NewsService):
    """A console subscription (served by `python -m bot digest`) gets no job in a bot that cannot post to it."""
    slack_id = _subscribe(service, schedule="08:00")
    console = ChannelRef("console", "local", "terminal")
    subscribe(service.database, console, SubscriptionRequest(schedule="09:00"), ADMIN, now=MORNING)
    scheduler = build_scheduler(service.database)
    scheduler.start(paused=True)
    try:
        assert register_digest_jobs(scheduler, service) == [f"{DIGEST_JOB_PREFIX}{slack_id}"]
    finally:
        scheduler.shutdown(wait=False)


async def test_stories_known_only_from_a_feeds_backlog_are_not_digest_news(service: NewsService):
    """Items stored on a feed's first fetch never flood a digest: a story covered only by them is left out."""
    subscription_id = _subscribe(service, schedule="08:00", timezone="Europe/Berlin", countries=["Taiwan"])
    before = {item.title for item in service.dispatcher.compose(subscription_id).items}
    assert before, "the archive has recent Taiwan stories"
    with service.database.session() as session:
        session.execute(update(Article).values(is_backlog=True))
    assert service.dispatcher.compose(subscription_id).items == ()
