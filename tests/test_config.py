"""Settings: defaults, validation messages, secrets, and the .env.example contract."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.config import Settings, load_settings
from bot.errors import ConfigError

ENV_EXAMPLE = Path(__file__).resolve().parent.parent / ".env.example"


def _env_example() -> dict[str, str]:
    entries = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        match = re.fullmatch(r"([A-Z][A-Z0-9_]*)=(.*)", line)
        if match:
            entries[match.group(1)] = match.group(2)
    return entries


def test_env_example_lists_every_setting_and_nothing_else():
    """Every Settings field has exactly one line in .env.example, and vice versa."""
    assert set(_env_example()) == {name.upper() for name in Settings.model_fields}


def test_env_example_shows_each_default():
    """The value shown in .env.example is the field's default (empty for no default)."""
    for name, shown in _env_example().items():
        default = Settings.model_fields[name.lower()].default
        expected = "" if default is None else str(default).lower() if isinstance(default, bool) else str(default)
        assert shown == expected, name


def test_env_example_comments_every_setting():
    """Each setting is preceded by a comment line that explains it."""
    lines = ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
    for index, line in enumerate(lines):
        if re.match(r"[A-Z][A-Z0-9_]*=", line):
            assert lines[index - 1].startswith("# "), line


def test_defaults_load_without_any_environment():
    """A fresh machine with no .env gets a working SQLite configuration and no platforms."""
    settings = load_settings()
    assert settings.database_url.startswith("sqlite:///")
    assert not settings.discord_enabled
    assert not settings.slack_enabled


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("DEFAULT_TIMEZONE", "Mars/Olympus", "DEFAULT_TIMEZONE: must be an IANA timezone name"),
        ("FEED_POLL_MINUTES", "-5", "FEED_POLL_MINUTES: Input should be greater than 0"),
        ("SLACK_API_URL", "ftp://example.org", "SLACK_API_URL: must be an http:// or https:// URL"),
        ("DATABASE_URL", "mysql://x", "DATABASE_URL: must be a sqlite:/// or postgresql:// URL"),
        ("LOG_LEVEL", "LOUD", "LOG_LEVEL: Input should be"),
        ("PORT", "70000", "PORT: Input should be less than 65536"),
        ("TASK_QUEUE", "procrastinate", "TASK_QUEUE=procrastinate keeps its jobs in PostgreSQL"),
        ("DISCORD_SHARD_IDS", "0,1", "DISCORD_SHARD_IDS needs DISCORD_SHARD_COUNT"),
        ("DISCORD_SHARD_IDS", "zero", "DISCORD_SHARD_IDS: must be comma-separated shard numbers"),
        ("LOG_FORMAT", "xml", "LOG_FORMAT: Input should be 'text' or 'json'"),
        ("STATUS_TOKEN", "short-token", "STATUS_TOKEN: must be at least 16 characters"),
    ],
)
def test_invalid_value_names_the_variable(monkeypatch, variable, value, expected):
    """An invalid value stops start-up with one line naming the variable and what is allowed."""
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert expected in message
    assert "\n" not in message


def test_shard_ids_must_be_below_the_shard_count(monkeypatch):
    """A worker cannot run a shard that does not exist."""
    monkeypatch.setenv("DISCORD_SHARD_COUNT", "2")
    monkeypatch.setenv("DISCORD_SHARD_IDS", "1, 2")
    with pytest.raises(ConfigError, match="DISCORD_SHARD_IDS must be below DISCORD_SHARD_COUNT"):
        load_settings()
    monkeypatch.setenv("DISCORD_SHARD_IDS", " 1,0 ")
    assert load_settings().shard_ids == [1, 0]


def test_secret_never_appears_in_repr_or_error(monkeypatch):
    """Tokens are masked in repr and are not echoed by validation errors."""
    monkeypatch.setenv("DISCORD_TOKEN", "discord-very-secret-token")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-very-secret-token")
    settings = load_settings()
    assert "very-secret" not in repr(settings)
    assert "very-secret" not in str(settings.model_dump())
    assert settings.discord_enabled and settings.slack_enabled
    monkeypatch.setenv("PORT", "not-a-port")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert "very-secret" not in str(caught.value)


def test_dotenv_file_is_read(tmp_path):
    """Settings come from .env in the working directory too (the tests run in an empty temp folder)."""
    (tmp_path / ".env").write_text("FEED_POLL_MINUTES=42\nSLACK_API_URL=http://127.0.0.1:9/api/\n")
    settings = load_settings()
    assert settings.feed_poll_minutes == 42
    assert settings.slack_api_url == "http://127.0.0.1:9/api/"


def test_secret_values_include_database_password(monkeypatch):
    """The database password is treated as a secret for log masking."""
    monkeypatch.setenv("DATABASE_URL", "postgresql://bot:hunter2-pass@db:5432/geobrief")
    assert "hunter2-pass" in load_settings().secret_values()


def test_status_token_is_a_masked_secret(monkeypatch):
    """STATUS_TOKEN never shows in a repr, and logging masks it; empty means no token (the page stays local)."""
    monkeypatch.setenv("STATUS_TOKEN", "status-token-0123456789")
    settings = load_settings()
    assert "status-token-0123456789" not in repr(settings)
    assert "status-token-0123456789" in settings.secret_values()
    monkeypatch.setenv("STATUS_TOKEN", "")
    assert load_settings().status_token is None


def test_discord_admin_role_must_be_an_id(monkeypatch):
    """A role name is refused at start with a hint, since a name can be copied; an id is read as a number."""
    monkeypatch.setenv("DISCORD_ADMIN_ROLE", "News Desk")
    with pytest.raises(ConfigError, match="DISCORD_ADMIN_ROLE: must be a role id"):
        load_settings()
    monkeypatch.setenv("DISCORD_ADMIN_ROLE", "900000000000000005")
    assert load_settings().discord_admin_role == 900000000000000005


def test_credentials_in_urls_never_appear_in_repr_or_str(monkeypatch):
    """DATABASE_URL's password (a plain string setting) and any other URL with user info are masked in repr/str."""
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://bot:hunter2-pass@db:5432/geobrief")
    monkeypatch.setenv("SLACK_API_URL", "https://proxy-user:proxy-pass@slack.example/api/")
    settings = load_settings()
    for text in (repr(settings), str(settings)):
        assert "hunter2-pass" not in text and "proxy-pass" not in text
        assert "postgresql+psycopg://bot:********@db:5432/geobrief" in text
    assert settings.database_url.endswith(":hunter2-pass@db:5432/geobrief")  # the value itself is intact
