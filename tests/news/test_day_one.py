"""Day one as a new user lives it: one feed configured, `ingest --once`, then `ask` answers from the full text.

The feed carries teasers only, as most do; the answer is in the article page alone. Both commands go through the
command line's `main` (in a worker thread, so the loopback feed and page server keeps answering on the test's
event loop) over a fresh SQLite database configured through the environment, as a user's `.env` would.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from bot.cli import main
from bot.storage import utcnow
from tests.intelligence.shared import ENCODER_ENV, shared_encoder
from tests.news.feeds import Item, article_page, rss
from tests.news.server import FeedServer

pytestmark = pytest.mark.slow

WARNING = (
    "North Korea warned on Thursday that it would answer the joint drills of South Korea and the United States "
    "with an overwhelming nuclear response"
)
DRILLS = (
    f"{WARNING}. The statement, carried by the state news agency KCNA, came hours after the allies began their "
    "largest exercises in five years near the border. Seoul's defence ministry said about 30,000 troops were "
    "taking part. The ministry called the threat a familiar one and said the drills were defensive. Analysts in "
    "Seoul said Pyongyang had used similar language before earlier exercises. The drills are due to last eleven "
    "days and include live-fire training on the coast."
)
TALKS = (
    "Trade ministers from the European Union and Japan met in Brussels on Tuesday to discuss tariffs on electric "
    "cars. The talks ended without agreement, officials said. Both sides said they would meet again next month. "
    "Japanese carmakers have warned that higher tariffs would hurt exports. The European Commission said it was "
    "open to a compromise on the timetable for the new rules."
)


async def test_ingest_once_then_ask_answers_from_the_full_text(server: FeedServer, tmp_path: Path, monkeypatch, capsys):
    """The first poll's teasers get their pages, `ingest --once` processes them, and `ask` quotes the page."""
    now = utcnow()
    server.serve_html("/world/drills", article_page("North Korea threatens response to drills", DRILLS))
    server.serve_html("/world/talks", article_page("EU and Japan fail to agree on car tariffs", TALKS))
    feed = server.serve_bytes(
        "/world.rss",
        rss(
            [
                Item(
                    "North Korea threatens response to drills",
                    server.url("/world/drills"),
                    guid="1",
                    description="Pyongyang reacts to the allies' exercises.",
                    published=now - timedelta(hours=2),
                ),
                Item(
                    "EU and Japan fail to agree on car tariffs",
                    server.url("/world/talks"),
                    guid="2",
                    description="No deal in Brussels.",
                    published=now - timedelta(hours=5),
                ),
            ]
        ),
    )
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'geobrief.sqlite3'}",
        "FEEDS": feed,
        "HTTP_POLITENESS_DELAY_SECONDS": "0",
        "LOG_LEVEL": "WARNING",
        **ENCODER_ENV,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    shared_encoder()  # the commands reuse this process's encoder for the same settings

    assert await asyncio.to_thread(main, ["ingest", "--once"]) == 0
    stdout = capsys.readouterr().out
    lines = [" ".join(line.split()) for line in stdout.splitlines()]
    assert "backlog (first fetch) 2" in lines and "full text 2" in lines and "still waiting 0" in lines
    assert "Processed 2 article(s)" in stdout

    assert await asyncio.to_thread(main, ["ask", "What did North Korea warn about on Thursday?"]) == 0
    stdout = capsys.readouterr().out
    assert WARNING in " ".join(stdout.split())
    assert server.url("/world/drills") in stdout and "(full text)" in stdout
    assert "not searched yet" not in stdout
