"""Following a story on Slack, end to end against the fake Web API: the digest, then new coverage posted as a
reply in the thread of the message that carried the story (only the new lines), breaking alerts, exactly once
through a crash, and the fallback when the original message is gone. Every payload is checked against Block Kit's
limits by the `fake_slack` fixture."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.config import Settings
from bot.digests.model import ChannelRef
from bot.digests.outbox import Outbox
from bot.digests.subscriptions import Actor, SubscriptionRequest, subscribe
from bot.news.http import HttpClient, HttpPolicy
from bot.platforms.slack.publisher import SlackPublisher, build_client
from bot.service import NewsService
from bot.storage import Database, DeliveredStory, Delivery, DeliveryStatus, utcnow
from tests.conftest import Clock
from tests.digests.developing import store_first_reports, store_later_reports
from tests.platforms.slack.conftest import BotFactory
from tests.platforms.slack.fake_slack import Call, FakeSlack

ROOT = Path(__file__).resolve().parents[3]
CHANNEL = ChannelRef("slack", "T1", "C1")
ADMIN = Actor("U1", can_manage=True)


@pytest.fixture
def clock() -> Clock:
    # The real time (at a whole hour), so that processing times and delivery times agree, as in production.
    return Clock(utcnow().replace(minute=0, second=30, microsecond=0))


@pytest.fixture
async def service(sqlite_database: Database, clock: Clock, fake_slack: FakeSlack) -> AsyncIterator[NewsService]:
    settings = Settings(_env_file=None, encoder_threads=2, encoder_bf16=False)
    async with HttpClient(HttpPolicy.from_settings(settings)) as http:
        news = NewsService(settings, sqlite_database, http, clock=clock)
        news.add_publisher("slack", SlackPublisher(build_client("xoxb-test-token", f"{fake_slack.base}/api/")))
        yield news


def _subscribe(service: NewsService, clock: Clock, **request: Any) -> int:
    """Subscribe the channel as of a day ago (so this hour's occurrence is due), every hour."""
    values = {"schedule": "every 1h", "max_items": 5, "quiet_hours": "off", **request}
    return subscribe(
        service.database, CHANNEL, SubscriptionRequest(**values), ADMIN, now=clock.now - timedelta(days=1)
    ).id


def _text(call: Call) -> str:
    return call.all_text


async def test_new_coverage_is_posted_in_the_story_thread_with_only_the_new_lines(
    service: NewsService, clock: Clock, fake_slack: FakeSlack
):
    """A story delivered at 12:00 gets three more outlets; the 13:00 occurrence replies in its thread, once."""
    store_first_reports(service.database, clock.now - timedelta(hours=3))
    subscription_id = _subscribe(service, clock)
    first = await service.dispatcher.serve_occurrence(subscription_id)
    assert first is not None and first.status is DeliveryStatus.SENT
    (digest,) = fake_slack.posts
    assert "thread_ts" not in digest.payload
    assert "reuters.example" in _text(digest) and "`/news story " in _text(digest)  # the "more" affordance
    digest_ts = digest.answer_ts

    clock.advance(timedelta(hours=1))
    store_later_reports(service.database, clock.now - timedelta(minutes=50))
    result = await service.dispatcher.serve_occurrence(subscription_id)
    assert result is not None and result.status is DeliveryStatus.SENT
    (update,) = fake_slack.posts[1:]
    assert update.payload["thread_ts"] == digest_ts
    text = _text(update)
    assert "New since" in text
    for outlet in ("bbc", "rnw", "nytimes"):
        assert f"{outlet}.example" in text
    assert "reuters.example" not in text and "usatoday.example" not in text  # only what is new
    assert "Now also reported by BBC News" in text and "First coverage from NL" in text, text
    lines = [line for line in update.blocks[0]["text"]["text"].split("\n") if line.startswith("• ")]
    facts = [line for line in lines if not line.startswith(("• Now also", "• First coverage"))]
    assert 1 <= len(facts) <= 3 and all("|[" in line for line in facts)  # every new fact cites its article

    # The same occurrence again (a second scheduler, a coalesced run): nothing more; nor an hour later.
    assert await service.dispatcher.serve_occurrence(subscription_id) is None
    clock.advance(timedelta(hours=1))
    assert await service.dispatcher.serve_occurrence(subscription_id) is None
    assert len(fake_slack.posts) == 2
    with service.database.session() as session:
        keys = session.scalars(select(Delivery.occurrence_key).where(Delivery.occurrence_key.contains("~u"))).all()
    assert len(keys) == 1


async def test_a_channel_with_updates_off_gets_none(service: NewsService, clock: Clock, fake_slack: FakeSlack):
    """`updates=off`: new coverage of a delivered story posts nothing to that channel."""
    store_first_reports(service.database, clock.now - timedelta(hours=3))
    subscription_id = _subscribe(service, clock, updates=False)
    await service.dispatcher.serve_occurrence(subscription_id)
    clock.advance(timedelta(hours=1))
    store_later_reports(service.database, clock.now - timedelta(minutes=50))
    assert await service.dispatcher.serve_occurrence(subscription_id) is None
    assert len(fake_slack.posts) == 1


async def test_an_update_whose_original_is_gone_is_posted_on_its_own_naming_it(
    service: NewsService, clock: Clock, fake_slack: FakeSlack
):
    """Slack answers thread_not_found (the digest was deleted): the update is a new message that names the earlier
    one, and the story's next updates reply to it."""
    store_first_reports(service.database, clock.now - timedelta(hours=3))
    subscription_id = _subscribe(service, clock)
    await service.dispatcher.serve_occurrence(subscription_id)
    clock.advance(timedelta(hours=1))
    store_later_reports(service.database, clock.now - timedelta(minutes=50), paths=("bbc",))
    fake_slack.fail("chat.postMessage", error="thread_not_found")
    result = await service.dispatcher.serve_occurrence(subscription_id)
    assert result is not None and result.status is DeliveryStatus.SENT
    refused, standalone = fake_slack.api("chat.postMessage")[1:]
    assert refused.payload["thread_ts"] == fake_slack.posts[0].answer_ts and not refused.ok
    assert "thread_ts" not in standalone.payload
    assert standalone.blocks[0]["type"] == "header" and standalone.blocks[0]["text"]["text"].startswith("Update: ")
    assert "First posted in this channel" in _text(standalone)

    clock.advance(timedelta(hours=1))
    store_later_reports(service.database, clock.now - timedelta(minutes=50), paths=("rnw", "nytimes"))
    await service.dispatcher.serve_occurrence(subscription_id)
    follow = fake_slack.posts[-1]
    assert follow.payload["thread_ts"] == standalone.answer_ts  # the standalone update's ts


async def test_a_crash_between_recording_and_sending_posts_the_update_once_after_restart(
    service: NewsService, clock: Clock, fake_slack: FakeSlack, sqlite_database: Database
):
    """The process dies right after recording the occurrence (digest of nothing new, and the update): the restart
    posts the update exactly once, in the story's thread."""
    store_first_reports(service.database, clock.now - timedelta(hours=3))
    subscription_id = _subscribe(service, clock)
    await service.dispatcher.serve_occurrence(subscription_id)
    clock.advance(timedelta(hours=1))
    store_later_reports(service.database, clock.now - timedelta(minutes=50))
    script = textwrap.dedent(
        f"""
        import os
        from datetime import datetime
        from bot.digests.dispatch import Dispatcher
        from bot.digests.outbox import Outbox
        from bot.storage import Database
        database = Database({str(sqlite_database.engine.url)!r})
        now = datetime.fromisoformat({clock.now.isoformat()!r})
        ids = Dispatcher(database, Outbox(database, {{}}, clock=lambda: now), clock=lambda: now)._record_occurrence(
            {subscription_id}
        )
        assert len(ids) == 1, ids
        os._exit(1)  # the crash: nothing after recording runs
        """
    )
    crashed = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert crashed.returncode == 1, crashed.stderr
    with service.database.session() as session:
        pending = session.scalars(select(Delivery).where(Delivery.status == DeliveryStatus.PENDING)).all()
    assert [(d.attempts, "~u" in d.occurrence_key) for d in pending] == [(0, True)]

    restarted = Outbox(Database(str(sqlite_database.engine.url)), service.outbox.publishers, clock=clock)
    assert [result.status for result in await restarted.resume()] == [DeliveryStatus.SENT]
    assert await restarted.resume() == []
    assert await service.dispatcher.serve_occurrence(subscription_id) is None  # the occurrence is served
    first_ts = fake_slack.posts[0].answer_ts
    assert [post.payload.get("thread_ts") for post in fake_slack.posts] == [None, first_ts]


async def test_breaking_alert_fires_once_at_the_threshold_and_the_digest_does_not_repeat_it(
    service: NewsService, clock: Clock, fake_slack: FakeSlack
):
    """Alerts at 4 outlets within 2 hours: two outlets are not breaking; four are, posted at once and only once;
    the next digest leaves the story out."""
    subscription_id = _subscribe(service, clock, alerts=True, alert_outlets=4, alert_countries=9)
    store_first_reports(service.database, clock.now - timedelta(minutes=90))
    assert await service.serve_alerts() == []
    store_later_reports(service.database, clock.now - timedelta(minutes=40), paths=("bbc", "rnw"))
    (alert,) = await service.serve_alerts()
    assert alert.status is DeliveryStatus.SENT
    assert await service.serve_alerts() == []  # never the same story twice
    (post,) = fake_slack.posts
    assert post.blocks[0]["text"]["text"].startswith("Breaking: 4 outlets from 3 countries within 2 h")
    digest = await service.dispatcher.serve_occurrence(subscription_id)
    assert digest is not None
    assert "reuters.example" not in _text(fake_slack.posts[-1])  # the digest has the other story only
    with service.database.session() as session:  # the alert's message is where the story's updates will go
        query = select(DeliveredStory.story_id).where(DeliveredStory.message_id == post.answer_ts)
        assert len(session.scalars(query).all()) == 1


async def test_no_alert_in_quiet_hours_nor_past_the_daily_cap(
    service: NewsService, clock: Clock, fake_slack: FakeSlack
):
    """Quiet hours around now hold the alert back; outside them it fires; a cap of one a day stops the second."""
    local = clock.now
    quiet = f"{local - timedelta(hours=1):%H:%M}-{local + timedelta(hours=1):%H:%M}"
    _subscribe(service, clock, alerts=True, alert_outlets=2, alert_countries=9, alerts_per_day=1, quiet_hours=quiet)
    store_first_reports(service.database, clock.now - timedelta(minutes=60))
    assert await service.serve_alerts() == []
    assert fake_slack.posts == []
    clock.advance(timedelta(hours=1, minutes=5))
    store_later_reports(service.database, clock.now - timedelta(minutes=30), paths=("bbc",))
    assert len(await service.serve_alerts()) == 1
    assert await service.serve_alerts() == []  # the day's one alert is used up
    assert len(fake_slack.posts) == 1


async def test_story_command_answers_in_the_channel_within_block_kit_limits(
    make_bot: BotFactory, sqlite_database: Database, clock: Clock
):
    """`/news story <words>` (a signed request to the real endpoint): the timeline in time order and how each
    outlet tells it, posted to the channel; `/news story 999` says there is no such story."""
    store_first_reports(sqlite_database, clock.now - timedelta(hours=3))
    store_later_reports(sqlite_database, clock.now - timedelta(hours=1))
    bot = await make_bot(sqlite_database)
    (reply,) = await bot.ask("story sudan refugee camp")
    assert reply.payload["response_type"] == "in_channel"
    text = reply.all_text
    timeline = text.split("*Timeline*", 1)[1].split("*How it is told*", 1)[0]
    assert timeline.index("Reuters (GB)") < timeline.index("USA Today (US)") < timeline.index("BBC News (GB)")
    told = text.split("*How it is told*", 1)[1]
    for outlet in ("Reuters (GB)", "USA Today (US)", "BBC News (GB)", "Radio Netherlands Worldwide (NL)"):
        assert f"*{outlet}*" in told
    assert told.count("|[source]>") >= 5  # every distinctive sentence and partial fact is cited
    (missing,) = await bot.ask("story 999")
    assert "There is no story 999." in missing.all_text
