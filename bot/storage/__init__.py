"""Persistence: SQLAlchemy models, sessions and Alembic migrations."""

from bot.storage.db import Database, upgrade_database
from bot.storage.models import (
    Article,
    Base,
    DeliveredStory,
    Delivery,
    DeliveryStatus,
    Feed,
    Story,
    Subscription,
    TextKind,
    utcnow,
)

__all__ = [
    "Article",
    "Base",
    "Database",
    "DeliveredStory",
    "Delivery",
    "DeliveryStatus",
    "Feed",
    "Story",
    "Subscription",
    "TextKind",
    "upgrade_database",
    "utcnow",
]
