"""The application runner: which platforms each role runs, and one scheduler per PostgreSQL deployment."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import text

from bot.app import SCHEDULER_LOCK_KEY, build_platforms, serves_slack_http
from bot.config import Settings
from bot.news.http import HttpClient, HttpPolicy
from bot.ops.web import StatusSite
from bot.service import NewsService
from bot.storage import Database
from bot.storage.locks import AdvisoryLock, advisory_lock

SLACK_HTTP = {"slack_bot_token": "xoxb-test", "slack_signing_secret": "secret", "slack_api_url": "http://127.0.0.1:9/"}


@pytest.mark.parametrize(
    ("settings", "role", "expected"),
    [
        (SLACK_HTTP, "web", [("slack", True)]),
        (SLACK_HTTP, "worker", [("slack", False)]),  # HTTP mode: the worker only publishes to Slack
        ({**SLACK_HTTP, "slack_app_token": "xapp-test"}, "worker", [("slack", True)]),  # Socket Mode
        ({**SLACK_HTTP, "slack_app_token": "xapp-test"}, "web", [("slack", False)]),
        ({"discord_token": "discord-test"}, "web", []),  # the gateway runs in the worker only
        ({"discord_token": "discord-test"}, "worker", [("discord", True)]),
    ],
)
async def test_roles_run_the_right_platforms_and_every_role_can_publish(sqlite_database, settings, role, expected):
    """web serves Slack HTTP, worker the gateway and Socket Mode; each platform it builds is a publisher."""
    config = Settings(_env_file=None, **settings)
    async with HttpClient(HttpPolicy.from_settings(config)) as http:
        service = NewsService(config, sqlite_database, http)
        platforms = build_platforms(config, service, role)
        try:
            assert [(p.name, getattr(p, "serve", True)) for p in platforms] == expected
            assert set(service.outbox.publishers) == {name for name, _ in expected}
        finally:
            for platform in platforms:
                await platform.close()


@pytest.mark.parametrize(
    ("settings", "role", "on_slack_server"),
    [
        (SLACK_HTTP, "web", True),
        (SLACK_HTTP, "all", True),
        (SLACK_HTTP, "worker", False),  # the worker serves the page on a server of its own
        ({**SLACK_HTTP, "slack_app_token": "xapp-test"}, "all", False),  # Socket Mode: no Slack server
        ({"discord_token": "discord-test"}, "all", False),
    ],
)
async def test_status_page_rides_on_the_slack_server_only_where_it_runs(
    sqlite_database, settings, role, on_slack_server
):
    """One server on PORT per process: Slack's in HTTP mode (it then serves the page), else the page's own."""
    config = Settings(_env_file=None, **settings)
    status = StatusSite(sqlite_database)
    async with HttpClient(HttpPolicy.from_settings(config)) as http:
        platforms = build_platforms(config, NewsService(config, sqlite_database, http), role, status)
        try:
            assert serves_slack_http(config, role) is on_slack_server
            assert any(getattr(p, "status", None) is status for p in platforms) is on_slack_server
        finally:
            for platform in platforms:
                await platform.close()


def test_sqlite_deployment_runs_its_one_scheduler(sqlite_database: Database):
    """With SQLite there is one process, which runs the scheduler: the lock is always granted and never lost."""
    with advisory_lock(sqlite_database, SCHEDULER_LOCK_KEY) as lock:
        assert lock is not None and not lock.shared_database and lock.alive()


@pytest.mark.postgres
def test_only_one_worker_runs_the_scheduler_on_postgresql(postgres_schema_url: str):
    """The advisory lock lets one worker schedule; another takes over once the first is gone."""
    first, second = Database(postgres_schema_url), Database(postgres_schema_url)
    try:
        held = AdvisoryLock.try_acquire(first, SCHEDULER_LOCK_KEY)
        assert held is not None and held.shared_database
        assert AdvisoryLock.try_acquire(second, SCHEDULER_LOCK_KEY) is None
        held.release()
        taken_over = _take_over(second)
        assert taken_over is not None
        taken_over.release()
    finally:
        first.dispose()
        second.dispose()


def _take_over(database: Database) -> AdvisoryLock | None:
    """Try for the lock as a standby does, for up to 5 s: the server ends a closed session a moment later."""
    for _ in range(50):
        lock = AdvisoryLock.try_acquire(database, SCHEDULER_LOCK_KEY)
        if lock is not None:
            return lock
        time.sleep(0.1)
    return None


# The session holding this schema's scheduler lock (pg_try_advisory_lock(key, hashtext(schema)) as in storage).
HOLDER = text(
    "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = :key"
    " AND objid = (hashtext(current_schema())::bigint & 4294967295)"
)


@pytest.mark.postgres
def test_scheduler_notices_a_dropped_lock_and_another_worker_takes_over(postgres_schema_url: str):
    """When the server drops the lock's connection, the holder sees it (and stops); a standby gets the lock."""
    first, second = Database(postgres_schema_url), Database(postgres_schema_url)
    try:
        held = AdvisoryLock.try_acquire(first, SCHEDULER_LOCK_KEY)
        assert held is not None and held.alive()
        with second.engine.begin() as connection:
            pid = connection.execute(HOLDER, {"key": SCHEDULER_LOCK_KEY}).scalar_one()
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        assert not held.alive()
        held.release()  # on a broken connection too
        taken_over = _take_over(second)
        assert taken_over is not None
        taken_over.release()
    finally:
        first.dispose()
        second.dispose()
