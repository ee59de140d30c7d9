"""Storage: migrations match the models, times stay UTC, and uniqueness rules hold on every backend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError, StatementError

from bot.storage import Article, Base, Database, Delivery, DeliveryStatus, Feed, Story, Subscription, TextKind
from bot.storage.db import alembic_config, own_schema_object


def _article(**overrides: object) -> Article:
    values: dict[str, object] = {
        "canonical_url": "https://example.org/world/1",
        "content_hash": "a" * 64,
        "title": "Talks resume",
        "outlet": "Example News",
        "published_at": datetime(2026, 3, 1, 12, 0, tzinfo=UTC),
        "text": "Negotiators met on Monday.",
        "text_kind": TextKind.FULL_TEXT,
    }
    values.update(overrides)
    return Article(**values)


def test_migrations_match_models(database: Database):
    """After `upgrade head` the schema is exactly what the models describe (the task queue's tables aside)."""
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "include_name": own_schema_object})
        assert compare_metadata(context, Base.metadata) == []


def test_downgrade_to_base_and_back(database: Database):
    """Every migration can be undone and replayed."""
    command.downgrade(alembic_config(database.engine), "base")
    assert set(inspect(database.engine).get_table_names()) <= {"alembic_version"}
    database.upgrade()
    assert {"feeds", "articles", "stories", "subscriptions", "deliveries"} <= set(
        inspect(database.engine).get_table_names()
    )


def test_times_come_back_aware_in_utc(database: Database):
    """A time stored in any zone is read back as the same instant, in UTC."""
    tokyo = timezone(timedelta(hours=9))
    with database.session() as session:
        session.add(_article(published_at=datetime(2026, 3, 1, 21, 0, tzinfo=tokyo)))
    with database.session() as session:
        stored = session.scalars(select(Article)).one()
        assert stored.published_at == datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
        assert stored.published_at.tzinfo is UTC
        assert stored.text_kind is TextKind.FULL_TEXT
        assert stored.fetched_at.tzinfo is UTC


def test_naive_datetimes_are_refused(database: Database):
    """A naive datetime has no known zone, so it is never stored."""
    with pytest.raises(StatementError, match="naive datetimes"), database.session() as session:
        session.add(_article(published_at=datetime(2026, 3, 1, 12, 0)))
        session.flush()


def test_canonical_url_is_unique(database: Database):
    """The same canonical URL cannot be stored twice."""
    with database.session() as session:
        session.add(_article())
    with pytest.raises(IntegrityError), database.session() as session:
        session.add(_article(guid="other-guid", content_hash="b" * 64))
    with database.session() as session:
        assert len(session.scalars(select(Article)).all()) == 1


def test_story_links_articles_and_feed_deletion_keeps_articles(database: Database):
    """Articles join a story; removing a feed keeps its articles (their feed becomes unknown)."""
    with database.session() as session:
        feed = Feed(url="https://example.org/rss", name="Example", country="GB", language="en")
        story = Story(title="Talks resume")
        session.add_all([feed, story])
        session.flush()
        session.add(_article(feed_id=feed.id, story_id=story.id))
    with database.session() as session:
        session.delete(session.scalars(select(Feed)).one())
    with database.session() as session:
        article = session.scalars(select(Article)).one()
        assert article.feed_id is None
        assert article.story is not None and article.story.title == "Talks resume"


def test_one_subscription_per_channel_and_one_delivery_per_occurrence(database: Database):
    """A channel has one subscription; a scheduled occurrence is recorded once in the outbox."""
    with database.session() as session:
        subscription = Subscription(platform="slack", workspace_id="T1", channel_id="C1", schedule="08:00")
        session.add(subscription)
        session.flush()
        session.add(Delivery(subscription_id=subscription.id, occurrence_key="2026-03-01T08:00Z"))
    with pytest.raises(IntegrityError), database.session() as session:
        session.add(Subscription(platform="slack", workspace_id="T1", channel_id="C1", schedule="09:00"))
    with pytest.raises(IntegrityError), database.session() as session:
        subscription_id = session.scalars(select(Subscription.id)).one()
        session.add(Delivery(subscription_id=subscription_id, occurrence_key="2026-03-01T08:00Z"))
    with database.session() as session:
        delivery = session.scalars(select(Delivery)).one()
        assert delivery.status is DeliveryStatus.PENDING
        assert delivery.subscription.filters == {}
