"""Advisory locks: how one process among many claims a piece of work (the scheduler, article processing).

On PostgreSQL a lock is a session-level advisory lock held on its own connection, taken out of the pool, so it ends
with the session: on release, when this process dies, or when the server drops the connection. SQLite serves one
process, so there the lock is always granted and never lost.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, text
from sqlalchemy.exc import SQLAlchemyError

from bot.storage.db import ADVISORY_LOCK, Database


class AdvisoryLock:
    """A lock this process holds; `alive`/`check` tell whether it still does, `release` gives it up."""

    def __init__(self, connection: Connection | None) -> None:
        self._connection = connection

    @classmethod
    def try_acquire(cls, database: Database, key: int) -> AdvisoryLock | None:
        """Take the lock `key` if no other session holds it; None when one does. Blocking: call it off the loop."""
        if database.engine.dialect.name != "postgresql":
            return cls(None)
        connection = database.engine.connect()
        try:
            held = bool(connection.execute(ADVISORY_LOCK, {"key": key}).scalar())
            connection.commit()
        except BaseException:
            connection.close()
            raise
        if not held:
            connection.close()
            return None
        connection.detach()  # out of the pool: ending its session is what releases the lock
        return cls(connection)

    @property
    def shared_database(self) -> bool:
        """Whether other processes may compete for it (PostgreSQL), rather than this one alone (SQLite)."""
        return self._connection is not None

    def check(self) -> None:
        """Raise (SQLAlchemyError) when the lock's session, and with it the lock, is gone."""
        if self._connection is not None:
            self._connection.execute(text("SELECT 1"))
            self._connection.rollback()  # no transaction left open: an idle-in-transaction timeout ends the session

    def alive(self) -> bool:
        """Whether the lock is still ours."""
        try:
            self.check()
        except SQLAlchemyError:
            return False
        return True

    def release(self) -> None:
        """End the lock's session (and so the lock); safe on a connection that is already broken."""
        if self._connection is None:
            return
        try:
            # Unlock before closing: the server ends a closed session a moment later, and a process asking for the
            # lock in that moment would be refused.
            self._connection.execute(text("SELECT pg_advisory_unlock_all()"))
            self._connection.commit()
            self._connection.close()
        except SQLAlchemyError:
            self._connection.invalidate()  # the session is gone already, and the lock with it
        self._connection = None


@contextmanager
def advisory_lock(database: Database, key: int) -> Iterator[AdvisoryLock | None]:
    """Hold the lock `key` for the block (None when another process holds it), released however the block ends."""
    lock = AdvisoryLock.try_acquire(database, key)
    try:
        yield lock
    finally:
        if lock is not None:
            lock.release()
