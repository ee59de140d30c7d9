"""Fixtures for the news-intelligence tests: one processed archive of every test article, built once."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from bot.intelligence import process_new_articles
from bot.storage import Database
from tests.intelligence.shared import fixture_articles, shared_encoder, store_articles

# "Now" for the tests: the day after the newest test article.
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Archive:
    """A processed SQLite archive of the test articles and their ids by key."""

    database: Database
    url: str
    ids: dict[str, int]


@pytest.fixture(scope="session")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Archive]:
    """Every test article stored and processed (tags, vectors, index, stories) once per session."""
    url = f"sqlite:///{tmp_path_factory.mktemp('archive') / 'archive.sqlite3'}"
    database = Database(url)
    database.upgrade()
    ids = store_articles(database, fixture_articles())
    process_new_articles(database, shared_encoder())
    yield Archive(database, url, ids)
    database.dispose()
