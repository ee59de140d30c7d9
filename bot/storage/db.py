"""Engine and session handling, and running the migrations."""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Generic, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)
T = TypeVar("T")

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# A session-level advisory lock scoped to the schema, so that deployments (and test runs) sharing one PostgreSQL
# database in different schemas never block each other.
ADVISORY_LOCK = text("SELECT pg_try_advisory_lock(:key, hashtext(current_schema()))")
QUEUE_TABLE_PREFIX = "procrastinate_"  # the task queue's tables (migration 0008) belong to procrastinate


# The full-text index is engine-specific (a tsvector column on PostgreSQL, FTS5 tables on SQLite), so it lives in
# migration 0011 and `bot.intelligence.archive`, not in the models.
FULL_TEXT_OBJECTS = ("article_search", "search_terms", "ix_article_analyses_search_terms")


def own_schema_object(name: str | None, type_: str, _parent_names: object) -> bool:
    """Whether schema comparisons should look at this object: the models' tables, not the task queue's nor the
    full-text index's."""
    if (name or "").startswith(FULL_TEXT_OBJECTS):
        return False
    return not (type_ == "table" and (name or "").startswith(QUEUE_TABLE_PREFIX))


def _enable_sqlite_foreign_keys(dbapi_connection: DBAPIConnection, _record: object) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def make_engine(url: str) -> Engine:
    """Create an engine; for SQLite, create the file's folder and turn on foreign keys."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url)
        event.listen(engine, "connect", _enable_sqlite_foreign_keys)
        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        # Plain postgresql:// means psycopg 3 here, the driver that requirements.txt installs.
        parsed = parsed.set(drivername="postgresql+psycopg")
    return create_engine(parsed, pool_pre_ping=True)


def alembic_config(engine: Engine) -> Config:
    """An Alembic configuration that runs the bundled migrations on `engine`."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def upgrade_database(engine: Engine, revision: str = "head") -> None:
    """Apply the migrations up to `revision`."""
    log.debug("upgrading database %s to %s", engine.url.render_as_string(hide_password=True), revision)
    command.upgrade(alembic_config(engine), revision)


class Database:
    """One engine and its session factory.

    Commands and tools that use a database for their length open it with `Database.open`, which migrates it and
    closes its connections however the block ends.
    """

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @classmethod
    @contextmanager
    def open(cls, url: str, *, upgrade: bool = True) -> Iterator[Database]:
        """The database at `url` for the length of a `with` block: brought up to the newest schema first (unless
        `upgrade` is False; migrations run on every start), every pooled connection closed at the end."""
        database = cls(url)
        try:
            if upgrade:
                database.upgrade()
            yield database
        finally:
            database.dispose()

    def upgrade(self, revision: str = "head") -> None:
        """Apply the migrations up to `revision`."""
        upgrade_database(self.engine, revision)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on error."""
        with self.sessions.begin() as session:
            yield session

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


class PerDatabase(Generic[T]):
    """One object per open `Database` in this process (a cache of what its rows hold), made on first use and
    dropped with the database."""

    def __init__(self, factory: Callable[[], T]) -> None:
        self._factory = factory
        self._objects: weakref.WeakKeyDictionary[Database, T] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def __call__(self, database: Database) -> T:
        """The object of `database`, made now if this is its first use."""
        with self._lock:
            found = self._objects.get(database)
            if found is None:
                found = self._objects[database] = self._factory()
            return found
