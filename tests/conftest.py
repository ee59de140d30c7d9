"""Shared fixtures: databases (SQLite always, PostgreSQL when TEST_DATABASE_URL is set) and clean settings."""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot.storage import Database

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL", "")
POSTGRES_SKIP_REASON = (
    "PostgreSQL tests skipped: TEST_DATABASE_URL is not set (.ci/run sets it when a server answers on 127.0.0.1:5432)"
)


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Keep the developer's .env and settings out of tests: run each test in an empty folder."""
    from bot.config import Settings

    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def postgres_schema_url() -> Iterator[str]:
    """A URL to a fresh, private schema on the test PostgreSQL server, dropped afterwards."""
    if not POSTGRES_URL:
        pytest.skip(POSTGRES_SKIP_REASON)
    schema = f"test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(make_url(POSTGRES_URL))
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database URL on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.sqlite3'}"
    return str(request.getfixturevalue("postgres_schema_url"))


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    """A migrated, empty database on each backend."""
    db = Database(database_url)
    db.upgrade()
    yield db
    db.dispose()


@pytest.fixture
def sqlite_database(tmp_path: Path) -> Iterator[Database]:
    """A migrated, empty SQLite database (for tests that need no backend coverage)."""
    db = Database(f"sqlite:///{tmp_path / 'test.sqlite3'}")
    db.upgrade()
    yield db
    db.dispose()


@dataclass(frozen=True)
class Archive:
    """A processed SQLite archive of the test articles (tests/intelligence/data/articles.toml), ids by key."""

    database: Database
    url: str
    ids: dict[str, int]


@pytest.fixture(scope="session")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Archive]:
    """Every test article stored and processed (tags, vectors, index, stories) once per session, read-only."""
    from bot.intelligence import process_new_articles
    from tests.intelligence.shared import fixture_articles, shared_encoder, store_articles

    url = f"sqlite:///{tmp_path_factory.mktemp('archive') / 'archive.sqlite3'}"
    database = Database(url)
    database.upgrade()
    ids = store_articles(database, fixture_articles())
    process_new_articles(database, shared_encoder())
    yield Archive(database, url, ids)
    database.dispose()


@pytest.fixture
def archive_copy(archive: Archive, tmp_path: Path) -> Iterator[Database]:
    """A private, writable copy of the processed archive (the session's archive itself stays read-only)."""
    path = tmp_path / "archive-copy.sqlite3"
    source = sqlite3.connect(f"file:{archive.url.removeprefix('sqlite:///')}?mode=ro", uri=True)
    target = sqlite3.connect(path)
    with target:
        source.backup(target)
    source.close()
    target.close()
    database = Database(f"sqlite:///{path}")
    yield database
    database.dispose()


class Clock:
    """An injected clock that tests move forward by setting `now`."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta
