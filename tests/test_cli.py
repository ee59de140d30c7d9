"""The command line, run as users run it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect

ROOT = Path(__file__).resolve().parent.parent


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], capture_output=True, text=True, env=environment, timeout=120, check=False
    )


def test_help_lists_every_subcommand():
    """`python -m bot --help` names each subcommand with its help."""
    result = _run("--help")
    assert result.returncode == 0
    for command in ("run", "demo", "ingest", "brief", "ask", "summarize", "digest", "feeds", "db"):
        assert f"    {command}" in result.stdout


def test_db_upgrade_creates_the_schema(tmp_path):
    """`python -m bot db upgrade` migrates the configured database; `db current` then reports head."""
    url = f"sqlite:///{tmp_path / 'var' / 'bot.sqlite3'}"
    upgrade = _run("db", "upgrade", env={"DATABASE_URL": url})
    assert upgrade.returncode == 0, upgrade.stderr
    assert "articles" in inspect(create_engine(url)).get_table_names()
    current = _run("db", "current", env={"DATABASE_URL": url})
    assert "(head)" in current.stdout


def test_db_commands_say_where_the_schema_is(tmp_path):
    """Each `db` action ends with the revision (or that there is no schema), so a downgrade is seen to happen."""
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'bot.sqlite3'}"}
    assert _run("db", "current", env=env).stdout.startswith("no schema yet")
    head = _run("db", "upgrade", env=env).stdout.strip()
    assert head.endswith(" (head)")
    back = _run("db", "downgrade", "-1", env=env)
    assert back.returncode == 0, back.stderr
    assert back.stdout.strip().endswith(f"(head is {head.removesuffix(' (head)')})")


def test_db_downgrade_needs_a_revision(tmp_path):
    """`db downgrade` alone is refused with one line instead of silently doing nothing."""
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'bot.sqlite3'}"}
    _run("db", "upgrade", env=env)
    result = _run("db", "downgrade", env=env)
    assert result.returncode == 1
    assert result.stderr.strip() == "db downgrade: give the revision to go back to (such as 0008, -1 or base)"
    assert _run("db", "current", env=env).stdout.strip().endswith(" (head)")


def test_invalid_setting_stops_with_one_clear_line(tmp_path):
    """A bad setting ends the program with exit code 2 and one line naming the variable."""
    result = _run("db", "current", env={"DEFAULT_TIMEZONE": "Nowhere/Special"})
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "Invalid configuration: DEFAULT_TIMEZONE: must be an IANA timezone name such as 'UTC' or 'Europe/Berlin'"
    ]


def test_processor_role_needs_the_task_queue(tmp_path):
    """`run --role processor` without TASK_QUEUE=procrastinate says what to set, and starts nothing."""
    result = _run("run", "--role", "processor", env={"DATABASE_URL": f"sqlite:///{tmp_path / 'bot.sqlite3'}"})
    assert result.returncode == 2
    assert "set TASK_QUEUE=procrastinate" in result.stderr


@pytest.mark.parametrize(
    ("role", "needed"), [("web", "set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET"), ("worker", "set DISCORD_TOKEN or")]
)
def test_a_named_role_without_a_platform_token_stops_instead_of_running_the_demo(tmp_path, role, needed):
    """`run --role web|worker` (as the Procfile runs them) with no token says what to set and exits 2."""
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'bot.sqlite3'}", "DISCORD_TOKEN": "", "SLACK_BOT_TOKEN": ""}
    result = _run("run", "--role", role, env=env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"The {role} role serves") and needed in lines[0], lines
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        (("db", "upgrade", "bogus"), {}, "Can't locate revision identified by 'bogus'"),
        (("summarize", f"https://{'a' * 64}.example.com/story"), {}, "not a valid host name"),
        (("db", "current"), {"DEFAULT_TIMEZONE": "America"}, "DEFAULT_TIMEZONE: must be an IANA timezone name"),
        (("brief", "--limit", "0"), {}, "--limit must be 1 to 10"),
        (("brief", "--limit", "-1"), {}, "--limit must be 1 to 10"),
        (("brief", "--limit", "1e9"), {}, "argument --limit: must be a whole number"),
        (("brief", "--limit", "1000000000"), {}, "--limit must be 1 to 10"),
        (("brief", "--limit", "³"), {}, "argument --limit: must be a whole number"),
        (("process", "--limit", "-1"), {}, "--limit must be 1 or more"),
    ],
)
def test_bad_input_ends_with_one_line_naming_the_problem(tmp_path, args, env, expected):
    """Wrong arguments or settings: a non-zero exit and one line on stderr that names the problem, no traceback."""
    result = _run(*args, env={"DATABASE_URL": f"sqlite:///{tmp_path / 'bot.sqlite3'}", **env})
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert expected in lines[0]


def test_unreachable_database_is_one_line_without_the_password():
    """A database that does not answer: one line naming it (password masked), exit 1, no traceback."""
    result = _run("db", "current", env={"DATABASE_URL": "postgresql://bot:hunter2-pass@127.0.0.1:1/geobrief"})
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Cannot use the database postgresql://bot:********@127.0.0.1:1/geobrief:")
    assert "hunter2-pass" not in result.stderr
