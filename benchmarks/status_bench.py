"""Status page and /metrics: load time over 10,000 articles and 1,000 subscriptions.

usage: python -m benchmarks.status_bench [--articles 10000] [--subscriptions 1000] [--feeds 60] [--requests 50]
                                         [--database-url URL]

The database is built through the production storage code (the migrations and the SQLAlchemy models) with
synthetic rows: feeds (a few failing), articles of every text kind spread over a week with 2 % left unprocessed,
stories of one to six articles, subscriptions on both platforms (3 % paused) with ten daily deliveries each (sent
or skipped; the latest failed where paused, pending for a retry in 2 % of channels), and the scheduler's jobs (one
per feed and subscription, plus the fixed ones) written by APScheduler into its job table. The real web app then
runs on 127.0.0.1 and each page is fetched over HTTP, one request at a time, as an operator's browser or a
Prometheus scrape would. Prints p50 and p95 wall time per endpoint, the CPU time a request costs (which a busy
machine does not inflate the way it inflates wall time) and the page's size.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from aiohttp import web
from sqlalchemy import func, select

from bot.digests.model import Digest, DigestItem, SourceLink, SummaryLine
from bot.digests.schedule import Schedule
from bot.ops.status import read_status
from bot.ops.web import StatusSite, build_web_app
from bot.scheduler import DIGEST_JOB_PREFIX, FEED_JOB_PREFIX, build_scheduler, poll_feed, serve_digest
from bot.storage import Article, Database, Delivery, DeliveryStatus, Feed, Story, Subscription, TextKind
from bot.storage.models import ArticleAnalysis

NOW = datetime.now(UTC).replace(microsecond=0)
COUNTRIES = ["JP", "KR", "CN", "TW", "US", "RU", "UA", "DE", "FR", "GB", "IR", "IL", "IN", "PK", "BR", "NG", "ZA"]


def build(database: Database, *, feeds: int, articles: int, subscriptions: int, seed: int = 16) -> None:
    """Fill an empty, migrated database with the synthetic archive described in the module docstring."""
    rng = random.Random(seed)
    with database.session() as session:
        feed_rows = [
            Feed(
                url=f"https://outlet{n}.example/rss",
                name=f"Outlet {n}",
                country=rng.choice(COUNTRIES),
                language="en",
                backlog_loaded=True,
                last_fetched_at=NOW - timedelta(minutes=rng.randint(1, 15)),
                last_success_at=NOW - timedelta(minutes=rng.randint(1, 15)),
                consecutive_failures=rng.choice([0] * 9 + [4]),
                last_error=None,
            )
            for n in range(feeds)
        ]
        for feed in feed_rows:
            if feed.consecutive_failures:
                feed.last_error, feed.retry_after = "HTTP 503 Service Unavailable", NOW + timedelta(hours=1)
        session.add_all(feed_rows)
        session.flush()
        stories: list[Story] = []
        remaining = articles
        while remaining > 0:
            size = min(remaining, rng.randint(1, 6))
            remaining -= size
            stories.append(
                Story(
                    title=f"Story {len(stories)}: talks, sanctions and a ceasefire proposal",
                    outlets=[f"Outlet {rng.randrange(feeds)}" for _ in range(min(size, 3))],
                    countries=rng.sample(COUNTRIES, 2),
                    article_count=size,
                    first_seen_at=NOW - timedelta(hours=rng.randint(1, 168)),
                    updated_at=NOW,
                    last_published_at=NOW - timedelta(minutes=rng.randint(1, 7 * 24 * 60)),
                )
            )
        session.add_all(stories)
        session.flush()
        story_of = [story.id for story in stories for _ in range(story.article_count)]
        kinds = [TextKind.FULL_TEXT] * 6 + [TextKind.TEASER] * 3 + [TextKind.BLOCKED]
        rows = []
        for number in range(articles):
            text = f"Synthetic article {number}. " + "Diplomats met again on Tuesday. " * 40
            rows.append(
                Article(
                    canonical_url=f"https://outlet{number % feeds}.example/{number}",
                    guid=str(number),
                    content_hash=hashlib.sha256(text.encode()).hexdigest(),
                    title=f"Article {number}",
                    outlet=f"Outlet {number % feeds}",
                    feed_id=feed_rows[number % feeds].id,
                    published_at=NOW - timedelta(minutes=rng.randint(1, 7 * 24 * 60)),
                    fetched_at=NOW - timedelta(minutes=rng.randint(1, 7 * 24 * 60)),
                    text=text,
                    language="en",
                    text_kind=rng.choice(kinds),
                    story_id=story_of[number],
                )
            )
        session.add_all(rows)
        session.flush()
        session.add_all(
            ArticleAnalysis(article_id=row.id, encoder="synthetic", vector=b"", sentence_vectors=b"")
            for row in rows
            if rng.random() > 0.02
        )
        subscription_rows = [
            Subscription(
                platform=rng.choice(["slack", "discord"]),
                workspace_id=f"W{n % 40}",
                channel_id=f"C{n:06d}",
                schedule=rng.choice(["08:00", "08:00, 18:00", "every 6h"]),
                timezone=rng.choice(["UTC", "Europe/Berlin", "Asia/Tokyo"]),
                paused_reason="Missing Access" if rng.random() < 0.03 else None,
                created_at=NOW - timedelta(days=30),
            )
            for n in range(subscriptions)
        ]
        session.add_all(subscription_rows)
        session.flush()

        payload = _digest_payload()

        def status(subscription: Subscription, day: int) -> DeliveryStatus:
            if day < 9:
                return rng.choice([DeliveryStatus.SENT] * 4 + [DeliveryStatus.SKIPPED])
            if subscription.paused_reason:
                return DeliveryStatus.FAILED  # what paused it
            return DeliveryStatus.PENDING if rng.random() < 0.02 else DeliveryStatus.SENT  # waiting for a retry

        session.add_all(
            Delivery(
                subscription_id=subscription.id,
                occurrence_key=f"{(NOW - timedelta(days=10 - day)):%Y-%m-%d}T08:00Z",
                payload=payload,
                status=(state := status(subscription, day)),
                last_error={DeliveryStatus.PENDING: "HTTP 503", DeliveryStatus.FAILED: "Missing Access"}.get(state),
                sent_at=NOW - timedelta(days=10 - day) if state is DeliveryStatus.SENT else None,
                created_at=NOW - timedelta(days=10 - day),
            )
            for subscription in subscription_rows
            for day in range(10)
        )
        schedules = [
            (subscription.id, subscription.schedule, subscription.timezone) for subscription in subscription_rows
        ]
    _add_jobs(database, [feed.url for feed in feed_rows], schedules)


def _digest_payload() -> dict[str, object]:
    """A digest of five stories with three sources each, stored as the outbox stores one (about 5 KB)."""
    sources = tuple(
        SourceLink(
            f"Outlet {n}",
            "Ministers meet again as talks resume",
            f"https://outlet{n}.example/a",
            NOW,
            TextKind.FULL_TEXT,
        )
        for n in range(3)
    )
    lines = tuple(
        SummaryLine("Negotiators met for nine hours and agreed to meet again next month.", n) for n in range(3)
    )
    items = tuple(
        DigestItem(n, f"Story {n}: ceasefire talks resume", lines, sources, NOW, ("JP", "KR")) for n in range(5)
    )
    return Digest(heading="Geopolitics briefing", generated_at=NOW, items=items).to_json()


def _add_jobs(database: Database, feed_urls: list[str], schedules: list[tuple[int, str, str]]) -> None:
    """Store the jobs a running scheduler would: APScheduler writes them into its table, as in production."""

    async def store() -> None:
        scheduler = build_scheduler(database)
        scheduler.start(paused=True)  # nothing runs: the jobs are only stored
        for url in feed_urls:
            scheduler.add_job(poll_feed, "interval", minutes=15, args=[url], id=FEED_JOB_PREFIX + url)
        for subscription_id, text, timezone in schedules:
            trigger = Schedule.parse(text, timezone).trigger()
            scheduler.add_job(serve_digest, trigger, args=[subscription_id], id=f"{DIGEST_JOB_PREFIX}{subscription_id}")
        for job_id in ("feeds:sync", "digests:sync", "outbox:resume", "articles:process"):
            scheduler.add_job(poll_feed, "interval", seconds=60, args=["-"], id=job_id)
        scheduler.shutdown(wait=False)

    asyncio.run(store())


def _percentiles(timings: list[float]) -> str:
    ordered = sorted(timings)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"p50 {statistics.median(ordered) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms"


async def measure(database: Database, requests: int) -> list[str]:
    """Serve the real web app on loopback and fetch /status and /metrics `requests` times each."""
    site = StatusSite(database)
    runner = web.AppRunner(build_web_app(site), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    lines = []
    try:
        async with httpx.AsyncClient(timeout=30) as client:
            for path in ("/status", "/status?channels=all", "/metrics"):
                first = await client.get(base + path)  # warm-up: templates compiled, gazetteer loaded
                first.raise_for_status()
                timings = []
                cpu = time.process_time()  # server and client share this process: an upper bound for the server
                for _ in range(requests):
                    started = time.perf_counter()
                    response = await client.get(base + path)
                    timings.append(time.perf_counter() - started)
                    response.raise_for_status()
                cpu_ms = (time.process_time() - cpu) / requests * 1000
                lines.append(
                    f"GET {path}: {_percentiles(timings)} over {requests} requests, CPU {cpu_ms:.0f} ms a request, "
                    f"{len(first.content) / 1024:.0f} KiB"
                )
    finally:
        await runner.cleanup()
    return lines


def main() -> int:
    """Build the database (or reuse a filled one), then time the page and the scrape."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--subscriptions", type=int, default=1_000)
    parser.add_argument("--feeds", type=int, default=60)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument(
        "--database-url",
        help="a database to fill, or one this benchmark filled before to reuse (default: a temporary SQLite file)",
    )
    args = parser.parse_args()

    url = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'status-bench.sqlite3'}"
    database = Database(url)
    database.upgrade()
    started = time.perf_counter()
    with database.session() as session:
        empty = session.scalar(select(func.count()).select_from(Article)) == 0
    if empty:
        build(database, feeds=args.feeds, articles=args.articles, subscriptions=args.subscriptions)
    built = time.perf_counter() - started
    report = read_status(database, NOW)
    sys.stdout.write(
        f"{database.engine.dialect.name}: {args.articles} articles, {report.figures.stories} stories, {args.feeds} "
        f"feeds, {report.channel_count} subscriptions with {sum(report.figures.deliveries.values())} "
        f"deliveries, {report.job_count} scheduled jobs (built in {built:.1f} s)\n"
    )
    begun = time.perf_counter()
    read_status(database, NOW)
    queries = time.perf_counter() - begun
    begun = time.perf_counter()
    StatusSite(database).render()
    rendered = time.perf_counter() - begun
    sys.stdout.write(
        f"one page in process: queries {queries * 1000:.0f} ms, queries + template {rendered * 1000:.0f} ms\n"
    )
    for line in asyncio.run(measure(database, args.requests)):
        sys.stdout.write(line + "\n")
    database.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
