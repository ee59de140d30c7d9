"""/metrics: gauges read from the database at scrape time, and the counters that ingestion, the outbox and the
scheduler update where things happen (checked as deltas: the counters belong to the test process)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from bot.digests.outbox import ChannelUnavailableError, Outbox, PublishError
from bot.news.feeds import sync_sources
from bot.news.http import HttpClient
from bot.news.ingest import IngestOptions, run_ingest_pass
from bot.news.sources import FeedSource
from bot.ops.gauges import metrics_registry, render_metrics
from bot.ops.metrics import watch_scheduler
from bot.scheduler import job_kind
from bot.storage import Database, Story, Subscription, utcnow
from tests.digests.test_outbox import RecordingPublisher, _digest
from tests.news.conftest import fast_policy
from tests.news.feeds import Item, rss
from tests.news.server import FeedServer, start_server
from tests.ops.conftest import NOW, ServeFactory


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """The exposition text as {(sample name, sorted labels): value}."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def counter(name: str, **labels: str) -> float:
    """A sample of this process's default registry (0 before it was first incremented)."""
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture
async def server() -> AsyncIterator[FeedServer]:
    feed_server, runner = await start_server()
    yield feed_server
    await runner.cleanup()


async def test_scrape_reads_the_database_gauges(filled: Database, serve: ServeFactory):
    """Articles by kind, processing lag, stories, feeds by health, the outbox and subscriptions, in the text format."""
    served = await serve(filled)
    response = await served.get("/metrics")
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    values = samples(response.text)
    expected = {
        ("geobrief_database_up", ()): 1,
        ("geobrief_articles", (("text_kind", "full_text"),)): 1,
        ("geobrief_articles", (("text_kind", "teaser"),)): 1,
        ("geobrief_articles", (("text_kind", "blocked"),)): 1,
        ("geobrief_articles_unprocessed", ()): 1,
        ("geobrief_processing_lag_seconds", ()): 1800,  # the unprocessed article was fetched 30 min before NOW
        ("geobrief_stories", ()): 1,
        ("geobrief_feeds", (("status", "ok"),)): 1,
        ("geobrief_feeds", (("status", "failing"),)): 1,
        ("geobrief_feeds", (("status", "erroring"),)): 0,
        ("geobrief_outbox_deliveries", (("platform", "slack"), ("status", "sent"))): 2,
        ("geobrief_outbox_deliveries", (("platform", "slack"), ("status", "pending"))): 1,
        ("geobrief_outbox_deliveries", (("platform", "discord"), ("status", "failed"))): 1,
        ("geobrief_subscriptions", (("platform", "slack"), ("state", "active"))): 1,
        ("geobrief_subscriptions", (("platform", "discord"), ("state", "paused"))): 1,
    }
    assert {key: values.get(key) for key in expected} == expected
    assert any(name == "process_resident_memory_bytes" for name, _ in values)  # the client's process collector


def test_scrape_survives_a_database_that_does_not_answer(tmp_path):
    """An unmigrated (or unreachable) database gives geobrief_database_up 0, not a failed scrape."""
    broken = Database(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    values = samples(render_metrics(metrics_registry(broken, lambda: NOW)).decode())
    assert values[("geobrief_database_up", ())] == 0
    assert ("geobrief_stories", ()) not in values
    broken.dispose()


async def test_ingestion_counts_polls_by_outcome_and_items_by_fate(
    sqlite_database: Database, server: FeedServer, caplog: pytest.LogCaptureFixture
):
    """A pass counts each feed's outcome (ok, failed, then not_modified) and its items (backlog first)."""
    now = utcnow()
    good = server.serve_bytes("/good.rss", rss([Item("Talks", server.url("/a"), guid="1", published=now)]))
    sync_sources(sqlite_database, [FeedSource(good, "Good"), FeedSource(server.url("/gone.rss"), "Gone")])
    before = {
        outcome: counter("geobrief_feed_polls_total", outcome=outcome) for outcome in ("ok", "failed", "not_modified")
    }
    backlog = counter("geobrief_feed_items_total", fate="backlog")
    caplog.set_level(logging.INFO, logger="bot.news.ingest")
    async with HttpClient(fast_policy(max_retries=0)) as http:
        await run_ingest_pass(sqlite_database, http, IngestOptions())
        await run_ingest_pass(sqlite_database, http, IngestOptions(), feed_urls=[good])
    assert counter("geobrief_feed_polls_total", outcome="ok") - before["ok"] == 1
    assert counter("geobrief_feed_polls_total", outcome="failed") - before["failed"] == 1
    assert counter("geobrief_feed_polls_total", outcome="not_modified") - before["not_modified"] == 1
    assert counter("geobrief_feed_items_total", fate="backlog") - backlog == 1
    # The same pass logged the feed's URL as a field of its own, for LOG_FORMAT=json.
    assert {getattr(record, "feed", None) for record in caplog.records} >= {good, server.url("/gone.rss")}


async def test_outbox_counts_each_delivery_status_by_platform(sqlite_database: Database):
    """Recorded (pending or skipped), sent, postponed for a retry, failed: each counted once, by platform."""
    with sqlite_database.session() as session:
        session.add_all(Story(id=story_id, title=f"Story {story_id}") for story_id in (1, 2, 3))
        subscription = Subscription(platform="discord", workspace_id="G1", channel_id="C1", schedule="08:00")
        session.add(subscription)
        session.flush()
        subscription_id = subscription.id
    statuses = ("pending", "skipped", "sent", "retry", "failed")
    before = {status: counter("geobrief_deliveries_total", platform="discord", status=status) for status in statuses}
    publisher = RecordingPublisher()
    now = [utcnow()]
    outbox = Outbox(sqlite_database, {"discord": publisher}, clock=lambda: now[0], channel_interval=timedelta(0))
    assert outbox.record(subscription_id, "empty", _digest([])) is not None
    first = outbox.record(subscription_id, "one", _digest([1]))
    second = outbox.record(subscription_id, "two", _digest([2]))
    assert first is not None and second is not None
    await outbox.send(first)
    publisher.failure = PublishError("HTTP 503")
    await outbox.send(second)
    publisher.failure = ChannelUnavailableError("Missing Access")
    now[0] += timedelta(minutes=1)  # past the retry's backoff: only a due delivery is sent
    await outbox.send(second)  # the retry finds the channel gone
    after = {status: counter("geobrief_deliveries_total", platform="discord", status=status) for status in statuses}
    assert {status: after[status] - before[status] for status in statuses} == {
        "pending": 2,
        "skipped": 1,
        "sent": 1,
        "retry": 1,
        "failed": 1,
    }


async def _fine() -> None:
    return None


async def _broken() -> None:
    raise RuntimeError("boom")


async def test_scheduler_runs_errors_and_misfires_are_counted_by_job_kind():
    """The listener counts runs by outcome and missed runs, labelled by kind (never the feed URL or a channel)."""
    before = (
        counter("geobrief_job_runs_total", job="feed", outcome="ok"),
        counter("geobrief_job_runs_total", job="outbox:resume", outcome="error"),
        counter("geobrief_job_misfires_total", job="digest", reason="missed"),
    )
    scheduler = AsyncIOScheduler()
    watch_scheduler(scheduler, job_kind)
    now = utcnow()
    scheduler.add_job(_fine, "date", run_date=now, id="feed:https://a.example/rss")
    scheduler.add_job(_broken, "date", run_date=now, id="outbox:resume")
    scheduler.add_job(_fine, "date", run_date=now - timedelta(minutes=5), id="digest:12", misfire_grace_time=1)
    scheduler.start()
    try:
        for _ in range(100):
            if not scheduler.get_jobs():
                break
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.05)  # the error event follows the failed run's coroutine
    finally:
        scheduler.shutdown(wait=False)
    after = (
        counter("geobrief_job_runs_total", job="feed", outcome="ok"),
        counter("geobrief_job_runs_total", job="outbox:resume", outcome="error"),
        counter("geobrief_job_misfires_total", job="digest", reason="missed"),
    )
    assert [later - earlier for earlier, later in zip(before, after, strict=True)] == [1, 1, 1]


async def test_label_values_are_bounded(filled: Database, serve: ServeFactory, sqlite_database: Database):
    """No label of any geobrief series carries a URL, a channel or workspace id, or a user: cardinality stays fixed."""
    served = await serve(filled)
    for family in text_string_to_metric_families((await served.get("/metrics")).text):
        if not family.name.startswith("geobrief_"):
            continue
        for sample in family.samples:
            for value in sample.labels.values():
                assert "://" not in value and value not in {"T1", "G1", "CACTIVE", "CPAUSED"}, (sample.name, value)
