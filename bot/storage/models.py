"""Database models: everything that must survive a restart.

Times are stored as UTC. SQLite keeps no time zone, so `UTCDateTime` stores naive UTC and hands back aware
datetimes on every backend. Schema changes go through Alembic migrations in `bot/storage/migrations/`; a test
checks that the migrations and these models describe the same schema.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
    true,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

# Explicit constraint names keep migrations identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _string_enum(enum_class: type[enum.StrEnum]) -> Enum:
    """A portable enum column that stores the members' values (not their names) as plain strings."""
    return Enum(enum_class, native_enum=False, length=16, values_callable=lambda members: [m.value for m in members])


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A datetime stored as naive UTC and returned timezone-aware."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Convert an aware datetime to naive UTC; naive values are refused, since their zone is unknown."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass a timezone-aware datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Attach UTC to the stored naive value."""
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    """Declarative base with the shared naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime(), dict[str, Any]: JSON(), list[Any]: JSON()}


class TextKind(enum.StrEnum):
    """What an article's stored text is, so that summaries and digests can say what they were based on."""

    FULL_TEXT = "full_text"
    TEASER = "teaser"
    BLOCKED = "blocked"


class DeliveryStatus(enum.StrEnum):
    """Where a digest stands in the outbox."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"  # the occurrence had nothing new: recorded so it is not composed again, nothing posted


class Feed(Base):
    """A news feed that is polled, with what is needed for conditional GET and failure backoff."""

    __tablename__ = "feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2048), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str | None] = mapped_column(String(2))  # ISO 3166-1 alpha-2 of the publisher
    language: Mapped[str | None] = mapped_column(String(8))
    enabled: Mapped[bool] = mapped_column(default=True)
    # Configured by the operator, so fetched without the SSRF guard; feeds that users add never are.
    allow_private: Mapped[bool] = mapped_column(default=False, server_default=false())
    etag: Mapped[str | None] = mapped_column(String(512))
    last_modified: Mapped[str | None] = mapped_column(String(128))
    backlog_loaded: Mapped[bool] = mapped_column(default=False)  # first fetch stores items without marking them new
    last_fetched_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    consecutive_failures: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    retry_after: Mapped[datetime | None]  # no fetch before this time (failure backoff or Retry-After)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Story(Base):
    """One event, covered by one or more articles."""

    __tablename__ = "stories"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(500))
    summary: Mapped[list[Any]] = mapped_column(default=list)  # sentences with the article each came from
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # Kept up to date by bot/intelligence as articles join: what clustering, briefs and ranking read.
    centroid: Mapped[bytes | None] = mapped_column(LargeBinary)  # mean article vector (float32)
    article_count: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    outlets: Mapped[list[Any]] = mapped_column(default=list, server_default=text("'[]'"))
    publisher_countries: Mapped[list[Any]] = mapped_column(default=list, server_default=text("'[]'"))  # ISO codes
    countries: Mapped[list[Any]] = mapped_column(default=list, server_default=text("'[]'"))  # covered, most first
    regions: Mapped[list[Any]] = mapped_column(default=list, server_default=text("'[]'"))  # region and bloc ids
    topics: Mapped[list[Any]] = mapped_column(default=list, server_default=text("'[]'"))  # topic ids
    entities: Mapped[list[Any]] = mapped_column(default=list, server_default=text("'[]'"))  # names and figures
    language: Mapped[str | None] = mapped_column(String(8))  # ISO 639-1 of most of its articles
    first_published_at: Mapped[datetime | None]
    last_published_at: Mapped[datetime | None] = mapped_column(index=True)
    # Set when re-clustering found this story to be part of another: links and threads to it lead there.
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("stories.id", ondelete="SET NULL"))

    articles: Mapped[list[Article]] = relationship(back_populates="story")


class StoryLink(Base):
    """Two stories of one developing situation (the offer, the emergency, the deal): related, not merged.

    Stored once per pair, with ``story_id < related_id``.
    """

    __tablename__ = "story_links"

    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"), primary_key=True)
    related_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"), primary_key=True, index=True)
    score: Mapped[float]


class Article(Base):
    """A news article, stored once whatever number of feeds carried it."""

    __tablename__ = "articles"
    # A question's word side joins thousands of index hits to their publication time: from this index, instead of
    # from the rows, which hold the whole text (3x faster on SQLite).
    __table_args__ = (Index("ix_articles_id_published_at", "id", "published_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    canonical_url: Mapped[str] = mapped_column(String(2048), unique=True)
    guid: Mapped[str | None] = mapped_column(String(2048), index=True)
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    title: Mapped[str] = mapped_column(String(1000))
    outlet: Mapped[str] = mapped_column(String(200))
    feed_id: Mapped[int | None] = mapped_column(ForeignKey("feeds.id", ondelete="SET NULL"), index=True)
    published_at: Mapped[datetime] = mapped_column(index=True)
    fetched_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)  # indexes: gauges count these,
    text: Mapped[str] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(8))
    text_kind: Mapped[TextKind] = mapped_column(_string_enum(TextKind), index=True)  # never reading the texts
    is_backlog: Mapped[bool] = mapped_column(default=False)  # stored on a feed's first fetch: never "new"
    # A backlog teaser whose page the backfill has not fetched yet; not processed (nor searched) until it has.
    page_pending: Mapped[bool] = mapped_column(default=False, server_default=false(), index=True)
    story_id: Mapped[int | None] = mapped_column(ForeignKey("stories.id", ondelete="SET NULL"), index=True)

    story: Mapped[Story | None] = relationship(back_populates="articles")


class ArticleAnalysis(Base):
    """What processing derived from an article: tags, encoder vectors and the sentence index for questions."""

    __tablename__ = "article_analyses"

    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True)
    processed_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)  # vector index sync, as-of
    encoder: Mapped[str] = mapped_column(String(100))  # which model made the vectors
    countries: Mapped[list[Any]] = mapped_column(default=list)  # ISO codes, most mentioned first
    salient_countries: Mapped[list[Any]] = mapped_column(default=list)
    regions: Mapped[list[Any]] = mapped_column(default=list)
    topics: Mapped[list[Any]] = mapped_column(default=list)
    entities: Mapped[list[Any]] = mapped_column(default=list)
    vector: Mapped[bytes] = mapped_column(LargeBinary)  # the article vector (float32)
    sentence_spans: Mapped[list[Any]] = mapped_column(default=list)  # [start, end] of each indexed sentence
    sentence_vectors: Mapped[bytes] = mapped_column(LargeBinary)  # one float16 row per span
    term_count: Mapped[int] = mapped_column(default=0)  # words in the indexed text (BM25 document length)
    # The word profile clustering compares (term -> weighted count, headline and lead above the body).
    story_terms: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Roots of the words the article writes only as names (`summarizer.answers.name_roots`), for answer selection.
    name_roots: Mapped[list[Any] | None] = mapped_column(JSON)


class Subscription(Base):
    """A channel's standing order for digests."""

    __tablename__ = "subscriptions"
    __table_args__ = (UniqueConstraint("platform", "workspace_id", "channel_id", name="uq_subscriptions_channel"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))  # discord | slack | console
    workspace_id: Mapped[str] = mapped_column(String(64))  # Discord guild or Slack team
    channel_id: Mapped[str] = mapped_column(String(64))
    schedule: Mapped[str] = mapped_column(String(200))  # "08:00,18:00" or "every 6h"
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    filters: Mapped[dict[str, Any]] = mapped_column(default=dict)  # countries, regions, topics, keywords, sources
    max_items: Mapped[int] = mapped_column(default=5)
    style: Mapped[str] = mapped_column(String(16), default="short")  # short | detailed
    paused_reason: Mapped[str | None] = mapped_column(Text)  # set when the platform says the channel is gone
    # Follow-ups of stories the channel has had: new coverage in their thread, and breaking alerts (None: off;
    # else the rule: min_outlets, min_countries, window_hours, per_day, quiet_start, quiet_end).
    updates: Mapped[bool] = mapped_column(default=True, server_default=true())
    alerts: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    deliveries: Mapped[list[Delivery]] = relationship(back_populates="subscription", cascade="all, delete-orphan")


class Delivery(Base):
    """One digest in the outbox: recorded before it is sent, marked sent once the platform confirms."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("subscription_id", "occurrence_key", name="uq_deliveries_occurrence"),
        # Covers the status page's per-channel counts and last send, so they never read the large payloads.
        Index("ix_deliveries_subscription_status", "subscription_id", "status", "sent_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id", ondelete="CASCADE"), index=True)
    occurrence_key: Mapped[str] = mapped_column(String(64))  # the scheduled time, or "now-<uuid>" for /digest
    story_ids: Mapped[list[Any]] = mapped_column(default=list)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)  # the platform-neutral digest
    status: Mapped[DeliveryStatus] = mapped_column(
        _string_enum(DeliveryStatus), default=DeliveryStatus.PENDING, index=True
    )
    attempts: Mapped[int] = mapped_column(default=0)  # raised before each platform call, so a crash mid-send shows
    next_attempt_at: Mapped[datetime | None]  # retry backoff after a transient platform error
    last_error: Mapped[str | None] = mapped_column(Text)
    platform_message_id: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]

    subscription: Mapped[Subscription] = relationship(back_populates="deliveries")


class DeliveredStory(Base):
    """A story that a subscription's channel has been sent (or has pending in the outbox): never sent again."""

    __tablename__ = "delivered_stories"

    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id", ondelete="CASCADE"), primary_key=True)
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"), primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id", ondelete="CASCADE"), index=True)
    # What the channel knows of the story, so an update says only what is new (None: recorded before updates
    # existed, or a story that took over a delivered one's articles; then the delivery's time is the baseline).
    message_id: Mapped[str | None] = mapped_column(String(128))  # the message that carried it: updates reply there
    seen_articles: Mapped[list[Any] | None] = mapped_column(JSON)  # article ids the channel was told of
    seen_sentences: Mapped[list[Any] | None] = mapped_column(JSON)  # [article id, start, end] of lines it was sent
    followed_at: Mapped[datetime | None]  # when the channel last heard of it (the delivery, then each update)
