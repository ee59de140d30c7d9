"""Fixtures for the summariser tests: the real MiniLM (loaded once per session) and the data files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from summarizer.encoder import Encoder
from tests.intelligence.shared import shared_encoder

DATA = Path(__file__).resolve().parent / "data"
DEV_SAMPLE = DATA / "dev-sample.jsonl"  # 10 articles of shared/data/summ-dev (CNN/DailyMail test split)
SEED = DATA / "seed-article.txt"


@pytest.fixture(scope="session")
def encoder() -> Encoder:
    """The real all-MiniLM-L6-v2 in fp32, shared with the other NLP tests (one load per session)."""
    return shared_encoder()


@pytest.fixture(scope="session")
def dev_rows() -> list[dict[str, str]]:
    """The 10 dev articles with their reference highlights."""
    return [json.loads(line) for line in DEV_SAMPLE.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="session")
def seed_text() -> str:
    """The seed article (a headline line, then paragraphs)."""
    return SEED.read_text(encoding="utf-8")
