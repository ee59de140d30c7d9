"""The application runner: which platforms each role runs, and one scheduler per PostgreSQL deployment."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Connection

from bot.app import _acquire_scheduler_lock, _still_held, build_platforms, serves_slack_http
from bot.config import Settings
from bot.news.http import HttpClient, HttpPolicy
from bot.ops.web import StatusSite
from bot.service import NewsService
from bot.storage import Database

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
    """With SQLite there is one process, which runs the scheduler."""
    assert _acquire_scheduler_lock(sqlite_database) is True


@pytest.mark.postgres
def test_only_one_worker_runs_the_scheduler_on_postgresql(postgres_schema_url: str):
    """The advisory lock lets one worker schedule; another takes over once the first is gone."""
    first, second = Database(postgres_schema_url), Database(postgres_schema_url)
    try:
        held = _acquire_scheduler_lock(first)
        assert isinstance(held, Connection)
        assert _acquire_scheduler_lock(second) is False
        held.close()
        taken_over = _take_over(second)
        assert isinstance(taken_over, Connection)
        taken_over.close()
    finally:
        first.dispose()
        second.dispose()


def _take_over(database: Database) -> Connection | bool:
    """Try for the lock as a standby does, for up to 5 s: the server ends a closed session a moment later."""
    for _ in range(50):
        lock = _acquire_scheduler_lock(database)
        if lock is not False:
            return lock
        time.sleep(0.1)
    return False


@pytest.mark.postgres
def test_scheduler_notices_a_dropped_lock_and_another_worker_takes_over(postgres_schema_url: str):
    """When the server drops the lock's connection, the holder sees it (and stops); a standby gets the lock."""
    first, second = Database(postgres_schema_url), Database(postgres_schema_url)
    try:
        held = _acquire_scheduler_lock(first)
        assert isinstance(held, Connection) and _still_held(held)
        pid = held.execute(text("SELECT pg_backend_pid()")).scalar()
        held.commit()
        with second.engine.begin() as connection:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        assert not _still_held(held)
        held.invalidate()
        taken_over = _take_over(second)
        assert isinstance(taken_over, Connection)
        taken_over.close()
    finally:
        first.dispose()
        second.dispose()
