"""Logging goes to stdout in one format and never shows a secret."""

from __future__ import annotations

import json
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


def test_json_format_writes_one_object_per_line_with_the_identifiers(capsys, restore_root_logger):
    """LOG_FORMAT=json: each record is one JSON object; identifiers passed as `extra=` are fields of their own."""
    setup_logging("INFO", log_format="json")
    log = logging.getLogger("bot.news.ingest")
    log.info("feed %s: %d new", "https://example.org/rss", 3, extra={"feed": "https://example.org/rss"})
    log.warning("delivery %s failed", 7, extra={"delivery": 7, "channel": "slack:T1/C1"})
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert first["message"] == "feed https://example.org/rss: 3 new"
    assert (first["level"], first["logger"], first["feed"]) == ("INFO", "bot.news.ingest", "https://example.org/rss")
    assert first["time"].endswith("+00:00")
    assert (second["delivery"], second["channel"]) == (7, "slack:T1/C1")


def test_json_format_masks_secrets_in_message_fields_and_traceback(capsys, restore_root_logger):
    """The masking filter applies to JSON output too: the message, every `extra=` field and the traceback."""
    setup_logging("INFO", ["xoxb-123-secret"], log_format="json")
    log = logging.getLogger("bot.test")
    try:
        raise RuntimeError("auth failed for xoxb-123-secret")
    except RuntimeError:
        log.exception(
            "job %s failed with %s", "digest:42", "xoxb-123-secret", extra={"job": "digest:42 xoxb-123-secret"}
        )
    out = capsys.readouterr().out
    assert "xoxb-123-secret" not in out
    entry = json.loads(out)
    assert entry["message"] == f"job digest:42 failed with {MASK}"
    assert entry["job"] == f"digest:42 {MASK}"
    assert f"RuntimeError: auth failed for {MASK}" in entry["exception"]


def test_text_format_is_the_default(capsys, restore_root_logger):
    """Without LOG_FORMAT the lines stay human-readable, with no JSON and no extra fields."""
    setup_logging("INFO")
    logging.getLogger("bot.scheduler").info("feed %s polled", "https://a.example/rss", extra={"feed": "x"})
    line = capsys.readouterr().out.strip()
    assert line.endswith("[INFO   ] bot.scheduler: feed https://a.example/rss polled")


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
