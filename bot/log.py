"""The one place where logging handlers are configured.

Modules log through `logging.getLogger(__name__)` with identifiers (feed URL, channel id, job id) as %-arguments,
and pass the same identifiers as `extra=` (keys `feed`, `channel`, `job`, `subscription`, `delivery`, ...), which
the JSON format (LOG_FORMAT=json, one object per line for log shippers) writes as fields of their own. A filter
masks every configured secret in the message, the traceback and those fields, so that a token pasted into an
exception message or a URL never reaches the output in either format, and another escapes control characters in
messages, so that text from outside (a header, a request field) can never start a forged log line.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Literal, TextIO

FORMAT = "[{asctime}] [{levelname:<7}] {name}: {message}"
MASK = "********"
# What every LogRecord has; anything else on a record came in through `extra=`.
_RECORD_FIELDS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}

# Libraries that are chatty at INFO.
QUIET_LOGGERS = (
    "discord.http",
    "discord.gateway",
    "httpx",
    "httpcore",
    "apscheduler",  # logs every job added and run at INFO
    "urllib3",
    "alembic",
    "slack_sdk",  # at DEBUG it logs request and response bodies, which hold article text
    "slack_bolt",
)
# Known warnings that need no action: the bot never joins voice channels, and Bolt warns that it ignores the
# SLACK_BOT_TOKEN variable (which it reads by itself) because the bot hands it a ready Web API client.
NOISE = ("voice will NOT be supported", "`token` will be unused")
# The user info of a URL (scheme://user:password@ or scheme://token@): the password, or a lone user, is masked.
URL_CREDENTIALS = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)(?:(?P<user>[^:/@\s]*):)?[^:/@\s]+@")


def mask_credentials(text: str) -> str:
    """`text` with the password (or a lone token) of every URL's user info masked."""
    return URL_CREDENTIALS.sub(
        lambda m: f"{m['scheme']}{m['user']}:{MASK}@" if m["user"] is not None else f"{m['scheme']}{MASK}@", text
    )


class NoiseFilter(logging.Filter):
    """Drops known warnings that would only worry whoever reads the logs."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Keep every record except the known noise."""
        return not any(noise in record.getMessage() for noise in NOISE)


class SecretMaskFilter(logging.Filter):
    """Replaces secret values, and the credentials of any URL, in a record's final message (and traceback)."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        # Longest first, so that a secret containing another one is masked whole.
        self.secrets = sorted({secret for secret in secrets if len(secret) >= 4}, key=len, reverse=True)

    def mask(self, text: str) -> str:
        """Return `text` with every secret and URL credential masked."""
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        return mask_credentials(text)

    def filter(self, record: logging.LogRecord) -> bool:
        """Render the message now and, when it holds a secret, mask it and drop the arguments that held it; mask the
        `extra=` fields too.

        Records with nothing to mask are left as they are: other handlers (tests' log capture) see them whole.
        """
        message = record.getMessage()
        masked = self.mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info:
            trace = logging.Formatter().formatException(record.exc_info)
            masked_trace = self.mask(trace)
            if masked_trace != trace:
                record.exc_text, record.exc_info = masked_trace, None
        for key, value in extra_fields(record).items():
            if isinstance(value, str) and (masked_value := self.mask(value)) != value:
                setattr(record, key, masked_value)
        return True


CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f\x85\u2028\u2029]")


class ControlCharacterFilter(logging.Filter):
    """Escapes line breaks and other control characters in a record's message: one record, one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Render the message and escape it (a newline becomes the two characters backslash and n)."""
        message = record.getMessage()
        escaped = CONTROL_CHARACTERS.sub(lambda match: repr(match.group())[1:-1], message)
        if escaped != message:
            record.msg, record.args = escaped, None
        return True


def extra_fields(record: logging.LogRecord) -> dict[str, object]:
    """The fields a log call passed with `extra=`."""
    return {key: value for key, value in vars(record).items() if key not in _RECORD_FIELDS}


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (UTC, ISO 8601), level, logger, message, the `extra=` fields, exception."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON."""
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(extra_fields(record))
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False, default=str)


def setup_logging(
    level: str = "INFO",
    secrets: Iterable[str] = (),
    log_format: Literal["text", "json"] = "text",
    stream: TextIO | None = None,
) -> None:
    """Send all logs to `stream` (default stdout) in one format (text, or one JSON object per line), with secrets
    masked and noisy libraries quietened."""
    handler = logging.StreamHandler(stream or sys.stdout)
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(FORMAT, style="{", datefmt="%Y-%m-%d %H:%M:%S"))
    handler.addFilter(NoiseFilter())
    handler.addFilter(SecretMaskFilter(secrets))
    handler.addFilter(ControlCharacterFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLevelName(level)))
