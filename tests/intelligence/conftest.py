"""Constants for the news-intelligence tests; the processed `archive` fixture is in tests/conftest.py."""

from __future__ import annotations

from datetime import UTC, datetime

# "Now" for the tests: the day after the newest test article.
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
