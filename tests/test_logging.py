"""Logging goes to stdout in one format and never shows a secret."""

from __future__ import annotations

import logging

import pytest

from bot.log import MASK, setup_logging


@pytest.fixture
def restore_root_logger():
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_secrets_are_masked_in_messages_and_tracebacks(capsys, restore_root_logger):
    """A secret passed as an argument or inside an exception is replaced by the mask."""
    setup_logging("INFO", ["xoxb-123-secret"])
    log = logging.getLogger("bot.test")
    log.info("posting with token %s to %s", "xoxb-123-secret", "C123")
    try:
        raise RuntimeError("auth failed for xoxb-123-secret")
    except RuntimeError:
        log.exception("job %s failed", "digest:42")
    out = capsys.readouterr().out
    assert "xoxb-123-secret" not in out
    assert f"posting with token {MASK} to C123" in out
    assert "job digest:42 failed" in out
    assert f"RuntimeError: auth failed for {MASK}" in out


def test_format_names_level_and_logger(capsys, restore_root_logger):
    """Each line carries time, level and the module's logger name."""
    setup_logging("DEBUG")
    logging.getLogger("bot.news.ingest").debug("feed %s ok", "https://example.org/rss")
    line = capsys.readouterr().out.strip()
    assert "[DEBUG  ] bot.news.ingest: feed https://example.org/rss ok" in line


def test_noisy_libraries_are_quietened(restore_root_logger):
    """httpx and discord.http log at WARNING and above even when the bot logs INFO."""
    setup_logging("INFO")
    assert logging.getLogger("httpx").getEffectiveLevel() == logging.WARNING
    assert logging.getLogger("discord.http").getEffectiveLevel() == logging.WARNING


def test_voice_support_warning_is_dropped(capsys, restore_root_logger):
    """discord.py's warning about voice libraries is noise for a bot that never joins voice."""
    setup_logging("INFO")
    logging.getLogger("discord.client").warning("PyNaCl is not installed, voice will NOT be supported")
    logging.getLogger("discord.client").warning("Shard ID None heartbeat blocked for more than 10 seconds.")
    out = capsys.readouterr().out
    assert "PyNaCl" not in out
    assert "heartbeat blocked" in out


def test_line_breaks_from_outside_cannot_forge_a_log_line(capsys, restore_root_logger):
    """A newline or carriage return in a logged value is escaped, so each record stays on one line."""
    setup_logging("INFO", ["xoxb-123-secret"])
    logging.getLogger("bot.test").warning("request from team %s", "T1\n[2026-11-26 12:00:00] [ERROR  ] bot: forged\r")
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1
    assert lines[0].endswith("request from team T1\\n[2026-11-26 12:00:00] [ERROR  ] bot: forged\\r")


def test_credentials_in_any_logged_url_are_masked(capsys, restore_root_logger):
    """A URL with user info is masked in messages and tracebacks even when it is no configured secret."""
    setup_logging("INFO")
    log = logging.getLogger("bot.test")
    log.info("connecting to %s", "postgresql://bot:s3cret-pw@db.internal/geobrief")
    try:
        raise RuntimeError("fetch of https://token-abc123@example.org/feed failed")
    except RuntimeError:
        log.exception("job failed")
    out = capsys.readouterr().out
    assert "s3cret-pw" not in out and "token-abc123" not in out
    assert f"postgresql://bot:{MASK}@db.internal/geobrief" in out
    assert f"https://{MASK}@example.org/feed" in out
