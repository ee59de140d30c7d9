"""Settings read from the environment and `.env`.

Every field here has a line in `.env.example` (a test keeps the two in step). Secrets are `SecretStr`, so they never
appear in a repr, a log line or an error message. `load_settings()` turns a validation error into one line per bad
variable that names it and says what is allowed.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Iterator
from datetime import time
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.errors import ConfigError, UserInputError
from bot.log import mask_credentials

_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
DEFAULT_DATABASE_URL = "sqlite:///var/geobrief.sqlite3"  # relative to the working directory
MIN_STATUS_TOKEN_LENGTH = 16  # the status page's token guards it on the network: long enough not to be guessed


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ValueError("must be an http:// or https:// URL")
    return value


def clock_time(text: str) -> time:
    """A time of day typed as "22:00" (or "7:30"); raises `UserInputError`."""
    match = _CLOCK.match(text.strip())
    if match is None:
        raise UserInputError(f'"{text}" is not a time of day like 22:00.')
    return time(int(match.group(1)), int(match.group(2)))


def parse_quiet_hours(text: str) -> tuple[str, str]:
    """Quiet hours typed as "22:00-07:00": (start, end); "off" or "" for none. Raises `UserInputError`."""
    text = text.strip().lower().replace("–", "-")
    if text in {"", "off", "none", "no"}:
        return "", ""
    start, dash, end = text.partition("-")
    if not dash:
        raise UserInputError('Quiet hours are two times like "22:00-07:00", or "off".')
    first, last = clock_time(start), clock_time(end)
    if first == last:
        raise UserInputError("Quiet hours must start and end at different times.")
    return f"{first:%H:%M}", f"{last:%H:%M}"


MAX_TIMEZONE_CHARS = 64  # the longest IANA name is about 30


def find_timezone(name: str) -> zoneinfo.ZoneInfo | None:
    """The IANA timezone called `name`, or None: unknown names, folders of the tz database ("America", "Etc"),
    overlong names and paths all give None, never an OSError."""
    name = name.strip()
    if not name or len(name) > MAX_TIMEZONE_CHARS:
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return None


def _timezone(value: str) -> str:
    if find_timezone(value) is None:
        raise ValueError("must be an IANA timezone name such as 'UTC' or 'Europe/Berlin'")
    return value


HttpUrl = Annotated[str, AfterValidator(_http_url)]
Timezone = Annotated[str, AfterValidator(_timezone)]
PositiveFloat = Annotated[float, Field(gt=0)]
PositiveInt = Annotated[int, Field(gt=0)]


class Settings(BaseSettings):
    """All configuration of the bot, one field per environment variable."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True)

    # Core
    database_url: str = DEFAULT_DATABASE_URL
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["text", "json"] = "text"
    default_timezone: Timezone = "UTC"

    # Feeds and fetching
    feeds: str = ""
    feed_poll_minutes: PositiveInt = 15
    max_article_age_days: PositiveInt = 7
    feed_max_items: PositiveInt = 1000
    fetch_article_pages: bool = True
    backlog_pages_per_feed: PositiveInt = 100
    http_timeout_seconds: PositiveFloat = 10.0
    http_total_deadline_seconds: PositiveFloat = 60.0
    http_max_bytes: PositiveInt = 5_000_000
    http_max_retries: Annotated[int, Field(ge=0, le=10)] = 3
    http_max_redirects: Annotated[int, Field(ge=0, le=20)] = 5
    http_per_host_concurrency: PositiveInt = 2
    http_politeness_delay_seconds: Annotated[float, Field(ge=0)] = 1.0
    user_fetch_concurrency: PositiveInt = 8
    user_fetches_per_minute: PositiveInt = 5
    http_user_agent: str = "geobrief/0.1 (+https://github.com/geobrief/geobrief; news digest bot)"

    # Summariser
    summarizer_model: str = ""
    summarizer_device: Literal["cpu", "cuda"] = "cpu"
    encoder_threads: Annotated[int, Field(ge=0)] = 0
    encoder_bf16: bool = True
    sentence_encoder: str = ""  # a local sentence-transformers folder; empty = the bundled all-MiniLM-L6-v2
    sentence_encoder_multilingual: bool = False

    # Discord
    discord_token: SecretStr | None = None
    discord_dev_guild_id: int | None = None
    discord_admin_role: int | None = None  # a role id: a name could be copied by anyone who may create roles
    discord_api_url: HttpUrl = "https://discord.com/api/v10"
    discord_shard_count: PositiveInt | None = None
    discord_shard_ids: str = ""  # comma-separated shard ids this process runs; needs DISCORD_SHARD_COUNT

    # Slack
    slack_bot_token: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_api_url: HttpUrl = "https://slack.com/api/"
    port: Annotated[int, Field(gt=0, lt=65536)] = 3000
    slack_subscription_managers: str = ""  # comma-separated user ids, besides workspace admins and owners

    # Following stories: breaking alerts' rule for subscriptions that turn alerts on without giving one
    alert_min_outlets: Annotated[int, Field(ge=2)] = 5
    alert_min_countries: Annotated[int, Field(ge=2)] = 3
    alert_window_hours: Annotated[int, Field(ge=1, le=24)] = 2
    alerts_per_day: Annotated[int, Field(ge=1, le=24)] = 3
    alert_quiet_hours: str = "22:00-07:00"

    # Scale-out
    task_queue: Literal["inline", "procrastinate"] = "inline"

    # Operators' view: the status page and /metrics
    status_token: SecretStr | None = None

    @field_validator("discord_admin_role", mode="before")
    @classmethod
    def _role_id(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.strip()
            if not value:
                return None
            if not (value.isascii() and value.isdigit()):
                raise ValueError(
                    "must be a role id (a number: Server Settings → Roles → … → Copy Role ID), not a role name"
                )
        return value

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        scheme = urlsplit(value).scheme.split("+")[0]
        if scheme not in {"sqlite", "postgresql"}:
            raise ValueError("must be a sqlite:/// or postgresql:// URL")
        return value

    @field_validator("alert_quiet_hours")
    @classmethod
    def _quiet_hours(cls, value: str) -> str:
        try:
            start, end = parse_quiet_hours(value)
        except UserInputError as error:
            raise ValueError(str(error)) from None
        return f"{start}-{end}" if start else ""

    @field_validator("discord_shard_ids")
    @classmethod
    def _shard_ids(cls, value: str) -> str:
        parts = [part.strip() for part in value.split(",") if part.strip()]
        if not all(part.isdigit() for part in parts):
            raise ValueError("must be comma-separated shard numbers such as '0,1'")
        return ",".join(parts)

    @model_validator(mode="after")
    def _scale_out(self) -> Settings:
        ids = self.shard_ids
        if ids and self.discord_shard_count is None:
            raise ValueError("DISCORD_SHARD_IDS needs DISCORD_SHARD_COUNT, the total number of shards")
        if ids and self.discord_shard_count is not None and max(ids) >= self.discord_shard_count:
            raise ValueError(f"DISCORD_SHARD_IDS must be below DISCORD_SHARD_COUNT ({self.discord_shard_count})")
        if self.task_queue == "procrastinate" and not self.database_url.startswith("postgresql"):
            raise ValueError("TASK_QUEUE=procrastinate keeps its jobs in PostgreSQL: set a postgresql:// DATABASE_URL")
        return self

    @property
    def shard_ids(self) -> list[int] | None:
        """The Discord shards this process runs, or None for all of them."""
        return [int(part) for part in self.discord_shard_ids.split(",")] if self.discord_shard_ids else None

    @field_validator("status_token")
    @classmethod
    def _status_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        if len(value.get_secret_value()) < MIN_STATUS_TOKEN_LENGTH:
            raise ValueError(f"must be at least {MIN_STATUS_TOKEN_LENGTH} characters (or empty to keep the page local)")
        return value

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        """Fields for repr() and str(): secrets are SecretStr already; URL credentials (DATABASE_URL's password)
        are masked too."""
        for name, value in super().__repr_args__():
            yield name, mask_credentials(value) if isinstance(value, str) else value

    @property
    def discord_enabled(self) -> bool:
        """Whether a Discord token is configured."""
        return self.discord_token is not None and bool(self.discord_token.get_secret_value())

    @property
    def slack_enabled(self) -> bool:
        """Whether a Slack bot token is configured."""
        return self.slack_bot_token is not None and bool(self.slack_bot_token.get_secret_value())

    @property
    def slack_socket_mode(self) -> bool:
        """Whether Slack commands arrive over Socket Mode (an app-level token is set) rather than HTTP."""
        return self.slack_app_token is not None and bool(self.slack_app_token.get_secret_value())

    def secret_values(self) -> list[str]:
        """The configured secrets in clear, so that logging can mask them."""
        secrets = [
            self.discord_token,
            self.slack_bot_token,
            self.slack_app_token,
            self.slack_signing_secret,
            self.status_token,
        ]
        values = [secret.get_secret_value() for secret in secrets if secret is not None]
        password = urlsplit(self.database_url).password
        return [value for value in [*values, password] if value]


def load_settings(**overrides: object) -> Settings:
    """Build the settings, raising `ConfigError` with one readable line per invalid variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        lines = []
        for problem in error.errors(include_url=False, include_input=False):
            name = str(problem["loc"][0]).upper() if problem["loc"] else "settings"
            lines.append(f"{name}: {problem['msg'].removeprefix('Value error, ')}")
        raise ConfigError("Invalid configuration: " + "; ".join(lines)) from None
