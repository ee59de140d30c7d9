"""What the operators' views show, read from the database: the status page's tables and the metrics' gauges.

Platform-neutral and read-only. Every query is bounded (a LIMIT, or one GROUP BY over an indexed column), so a
page or a scrape costs a few milliseconds on an archive of 10,000 articles and 1,000 subscriptions. The scheduled
jobs are read from APScheduler's job table in the same database, so every process (web role included) shows the
one schedule that the scheduling worker keeps.

Nothing here reads an article's text: the page shows titles, outlets and countries, never bodies.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import case, column, func, inspect, select, table
from sqlalchemy.orm import Session

from bot.news.feeds import FeedHealth
from bot.scheduler import job_kind
from bot.storage import Article, Database, Delivery, DeliveryStatus, Feed, Story, Subscription
from bot.storage.models import ArticleAnalysis
from summarizer.tagging import load_gazetteer

RECENT_STORIES = 20
SOONEST_JOBS = 25
CHANNEL_ROWS = 100  # a page for a glance: the channels that need attention first, `?channels=all` for every one
JOB_TABLE = "apscheduler_jobs"
_jobs = table(JOB_TABLE, column("id"), column("next_run_time"))  # APScheduler's own table, read only
_DeliveryCount = tuple[int, str, int, datetime | None]  # subscription, status, deliveries, last sent


@dataclass(frozen=True)
class Figures:
    """Counts for the page's summary and the metrics' gauges."""

    articles: Mapping[str, int]  # text kind -> articles
    unprocessed: int  # articles not yet tagged, embedded and clustered
    oldest_unprocessed_at: datetime | None
    stories: int
    feeds: Mapping[str, int]  # health status (ok, new, erroring, failing) -> enabled feeds
    deliveries: Mapping[tuple[str, str], int]  # (platform, status) -> deliveries in the outbox
    subscriptions: Mapping[tuple[str, str], int]  # (platform, "active" | "paused") -> subscriptions

    def processing_lag(self, now: datetime) -> float:
        """Seconds the oldest unprocessed article has waited (0 when none waits)."""
        if self.oldest_unprocessed_at is None:
            return 0.0
        return max(0.0, (now - self.oldest_unprocessed_at).total_seconds())


@dataclass(frozen=True)
class FeedRow:
    """A polled feed, its health and how many articles it brought."""

    health: FeedHealth
    articles: int
    backfill_waiting: int | None = None  # items of its backlog still to fetch, where the ingestion tracks it


@dataclass(frozen=True)
class StoryRow:
    """A recent story: its title, who covered it and what it is about."""

    title: str
    outlets: tuple[str, ...]
    countries: tuple[str, ...]  # names, most salient first
    article_count: int
    last_published_at: datetime | None


@dataclass(frozen=True)
class ChannelRow:
    """One subscribed channel and its deliveries by status."""

    subscription_id: int
    platform: str
    workspace_id: str
    channel_id: str
    schedule: str
    timezone: str
    paused_reason: str | None
    counts: Mapping[str, int]  # delivery status -> deliveries
    last_sent_at: datetime | None
    last_error: str | None  # of its newest delivery still pending or failed

    @property
    def needs_attention(self) -> bool:
        """Paused, or with deliveries waiting for a retry or failed."""
        return bool(self.paused_reason or self.counts.get("pending") or self.counts.get("failed"))


@dataclass(frozen=True)
class JobRow:
    """A scheduled job and its next run."""

    id: str
    kind: str
    next_run_at: datetime | None  # None: paused


@dataclass(frozen=True)
class StatusReport:
    """Everything the status page shows, as of `generated_at`."""

    generated_at: datetime
    figures: Figures
    feeds: tuple[FeedRow, ...]
    stories: tuple[StoryRow, ...]
    channels: tuple[ChannelRow, ...]  # those that need attention first, up to the page's limit
    channel_count: int  # all subscribed channels
    jobs: tuple[JobRow, ...]  # the soonest ones
    job_kinds: Mapping[str, int] = field(default_factory=dict)  # kind -> jobs

    @property
    def job_count(self) -> int:
        """All scheduled jobs."""
        return sum(self.job_kinds.values())


def read_figures(database: Database) -> Figures:
    """The counts behind the summary and the gauges: small queries over covering indexes, never the texts."""
    with database.session() as session:
        return _figures(session)


def _figures(session: Session, delivery_counts: list[_DeliveryCount] | None = None) -> Figures:
    articles = {
        str(kind): count  # TextKind is a StrEnum: its str is its value
        for kind, count in session.execute(select(Article.text_kind, func.count()).group_by(Article.text_kind))
    }
    unprocessed, oldest = session.execute(
        select(func.count(), func.min(Article.fetched_at))
        .select_from(Article)
        .outerjoin(ArticleAnalysis, ArticleAnalysis.article_id == Article.id)
        .where(ArticleAnalysis.article_id.is_(None))
    ).one()
    stories = session.scalar(select(func.count()).select_from(Story)) or 0
    feeds = Counter(FeedHealth.of(feed).status for feed in session.scalars(select(Feed).where(Feed.enabled)))
    platforms = {
        subscription_id: name
        for subscription_id, name in session.execute(select(Subscription.id, Subscription.platform))
    }
    deliveries: Counter[tuple[str, str]] = Counter()
    for subscription_id, status, count, _sent_at in (
        _delivery_counts(session) if delivery_counts is None else delivery_counts
    ):
        deliveries[platforms.get(subscription_id, "?"), status] += count
    paused = Subscription.paused_reason.is_not(None)
    subscriptions = {
        (platform, "paused" if is_paused else "active"): count
        for platform, is_paused, count in session.execute(
            select(Subscription.platform, paused, func.count()).group_by(Subscription.platform, paused)
        )
    }
    return Figures(
        articles=articles,
        unprocessed=int(unprocessed or 0),
        oldest_unprocessed_at=_aware(oldest),
        stories=stories,
        feeds=dict(feeds),
        deliveries=dict(deliveries),
        subscriptions=subscriptions,
    )


def read_status(database: Database, now: datetime, *, channel_rows: int | None = CHANNEL_ROWS) -> StatusReport:
    """Everything the status page shows: figures, feeds, recent stories, channels and the schedule.

    Args:
        database: the bot's database.
        now: the time the report is for.
        channel_rows: list at most this many channels, those that need attention first (None: all of them).
    """
    with database.session() as session:
        delivery_counts = _delivery_counts(session)
        figures = _figures(session, delivery_counts)
        feeds = _feeds(session)
        stories = _stories(session)
        channels = _channels(session, delivery_counts)
    jobs = read_jobs(database)
    return StatusReport(
        generated_at=now,
        figures=figures,
        feeds=feeds,
        stories=stories,
        channels=channels[:channel_rows],
        channel_count=len(channels),
        jobs=tuple(jobs[:SOONEST_JOBS]),
        job_kinds=dict(Counter(job.kind for job in jobs)),
    )


def _feeds(session: Session) -> tuple[FeedRow, ...]:
    waiting = func.sum(case((Article.page_pending, 1), else_=0))  # backlog items whose page is still to fetch
    query = select(Article.feed_id, func.count(), waiting).where(Article.feed_id.is_not(None)).group_by(Article.feed_id)
    counts = {feed_id: (count, int(pending or 0)) for feed_id, count, pending in session.execute(query)}
    rows = session.scalars(select(Feed).where(Feed.enabled).order_by(Feed.name, Feed.url))
    return tuple(
        FeedRow(FeedHealth.of(feed, counts.get(feed.id, (0, 0))[1]), *counts.get(feed.id, (0, 0))) for feed in rows
    )


def _stories(session: Session) -> tuple[StoryRow, ...]:
    gazetteer = load_gazetteer()
    query = (
        select(Story.title, Story.outlets, Story.countries, Story.article_count, Story.last_published_at)
        .order_by(Story.last_published_at.desc().nulls_last(), Story.id.desc())
        .limit(RECENT_STORIES)
    )
    return tuple(
        StoryRow(
            title=title,
            outlets=tuple(outlets or ()),
            countries=tuple(gazetteer.country_name(code) for code in countries or ()),
            article_count=article_count,
            last_published_at=last_published_at,
        )
        for title, outlets, countries, article_count, last_published_at in session.execute(query)
    )


def _channels(session: Session, delivery_counts: list[_DeliveryCount]) -> tuple[ChannelRow, ...]:
    counts: dict[int, dict[str, int]] = {}
    last_sent: dict[int, datetime] = {}
    for subscription_id, status, count, sent_at in delivery_counts:
        counts.setdefault(subscription_id, {})[status] = count
        if sent_at is not None:
            last_sent[subscription_id] = sent_at
    failing = select(Delivery.subscription_id, Delivery.last_error).where(
        Delivery.status.in_([DeliveryStatus.PENDING, DeliveryStatus.FAILED]), Delivery.last_error.is_not(None)
    )
    # In id order, so the newest error of each subscription wins.
    errors = {subscription_id: error for subscription_id, error in session.execute(failing.order_by(Delivery.id))}
    columns = (
        Subscription.id,
        Subscription.platform,
        Subscription.workspace_id,
        Subscription.channel_id,
        Subscription.schedule,
        Subscription.timezone,
        Subscription.paused_reason,
    )
    rows = [
        ChannelRow(
            subscription_id=subscription_id,
            platform=platform,
            workspace_id=workspace_id,
            channel_id=channel_id,
            schedule=schedule,
            timezone=timezone,
            paused_reason=paused_reason,
            counts=counts.get(subscription_id, {}),
            last_sent_at=last_sent.get(subscription_id),
            last_error=errors.get(subscription_id),
        )
        for subscription_id, platform, workspace_id, channel_id, schedule, timezone, paused_reason in session.execute(
            select(*columns).order_by(Subscription.id)
        )
    ]
    # Channels that need someone first, then the rest in the order they subscribed.
    return tuple(sorted(rows, key=lambda row: not row.needs_attention))


def _delivery_counts(session: Session) -> list[_DeliveryCount]:
    """(subscription, status, deliveries, last sent) from the covering index, never the payloads."""
    query = select(Delivery.subscription_id, Delivery.status, func.count(), func.max(Delivery.sent_at)).group_by(
        Delivery.subscription_id, Delivery.status
    )
    # DeliveryStatus is a StrEnum: its str is its value.
    return [
        (subscription_id, str(status), count, _aware(sent))
        for subscription_id, status, count, sent in session.execute(query)
    ]


def read_jobs(database: Database) -> list[JobRow]:
    """The scheduled jobs, soonest first (paused ones last); none when no scheduler ever ran on this database."""
    if not inspect(database.engine).has_table(JOB_TABLE):
        return []
    with database.session() as session:
        rows = session.execute(select(_jobs.c.id, _jobs.c.next_run_time)).all()
    jobs = [
        JobRow(str(job_id), job_kind(str(job_id)), None if when is None else datetime.fromtimestamp(float(when), UTC))
        for job_id, when in rows
    ]
    return sorted(jobs, key=lambda job: (job.next_run_at is None, job.next_run_at or datetime.max.replace(tzinfo=UTC)))


def _aware(moment: datetime | None) -> datetime | None:
    """Aggregates (MIN, MAX) bypass the column type on SQLite and come back naive: they are UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)
