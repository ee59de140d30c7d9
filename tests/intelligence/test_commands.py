"""`python -m bot ask`, `brief` and `process`, run in-process over a configured database."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from bot.cli import main
from bot.storage import Database, utcnow
from tests.intelligence.shared import ENCODER_ENV, article, shared_encoder, store_articles


@pytest.fixture
def configured(archive, monkeypatch):
    """The processed archive as the configured database, with the test encoder settings."""
    shared_encoder()  # the commands reuse this process's encoder for the same settings
    monkeypatch.setenv("DATABASE_URL", archive.url)
    for name, value in ENCODER_ENV.items():
        monkeypatch.setenv(name, value)
    return archive


def test_ask_prints_cited_sentences_and_the_as_of_stamp(configured, capsys):
    """`ask` prints the answer sentences with outlet, title, date and link, then "As of"."""
    assert main(["ask", "How many people in Sudan face acute hunger?"]) == 0
    out = capsys.readouterr().out
    assert "24 million" in out and "https://" in out and "As of " in out


def test_ask_without_relevant_coverage_says_so(configured, capsys):
    """`ask` about something the archive lacks prints the plain answer."""
    assert main(["ask", "How do I bake sourdough bread at home?"]) == 0
    assert "I have nothing on that in the archive." in capsys.readouterr().out


def test_brief_unknown_topic_exits_with_suggestions(configured, capsys):
    """`brief` with an unknown name exits 1 with a polite message naming close matches."""
    assert main(["brief", "Ukrane"]) == 1
    assert "Did you mean: Ukraine" in capsys.readouterr().err


def test_brief_processes_pending_articles_first(tmp_path, monkeypatch, capsys):
    """`brief` processes stored articles that are not processed yet, so their story shows at once; `process`
    then has nothing left to do."""
    url = f"sqlite:///{tmp_path / 'bot.sqlite3'}"
    database = Database(url)
    database.upgrade()
    recent = utcnow() - timedelta(hours=3)  # the CLI briefs as of now: date the articles accordingly
    store_articles(database, [replace(article(key), published=recent) for key in ("opec-riyadh", "opec-london")])
    database.dispose()
    monkeypatch.setenv("DATABASE_URL", url)
    for name, value in ENCODER_ENV.items():
        monkeypatch.setenv(name, value)
    shared_encoder()
    assert main(["brief", "energy", "--limit", "1"]) == 0
    captured = capsys.readouterr()
    assert "OPEC+" in captured.out and "2 outlets" in captured.out
    assert "not searched yet" not in captured.err
    assert main(["process"]) == 0
    assert "Processed 0 article(s)" in capsys.readouterr().out
