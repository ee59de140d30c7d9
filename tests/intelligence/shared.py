"""Helpers shared by the news-intelligence tests: the real MiniLM (loaded once) and the labelled articles."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from summarizer.encoder import Encoder

DATA = Path(__file__).resolve().parent / "data"


@cache
def shared_encoder() -> Encoder:
    """The real all-MiniLM-L6-v2, loaded once per test session (about 3 s) and shared by every test."""
    encoder = Encoder(threads=2)
    encoder.load()
    return encoder


@dataclass(frozen=True)
class FixtureArticle:
    """One article of tests/intelligence/data/articles.toml."""

    key: str
    event: str
    outlet: str
    country: str
    url: str
    published: datetime
    kind: str
    title: str
    text: str


@cache
def fixture_articles() -> tuple[FixtureArticle, ...]:
    """Every test article, in file order."""
    with (DATA / "articles.toml").open("rb") as handle:
        return tuple(FixtureArticle(**entry) for entry in tomllib.load(handle)["articles"])


def article(key: str) -> FixtureArticle:
    """The test article with this key."""
    return next(item for item in fixture_articles() if item.key == key)


@cache
def eval_set() -> dict[str, Any]:
    """The labelled questions and tags (tests/intelligence/data/eval.toml)."""
    with (DATA / "eval.toml").open("rb") as handle:
        return tomllib.load(handle)
