"""News in Portuguese and German, as a new user adds it: real UOL and heise feeds, `ingest --once`, `brief`.

The bundled encoder (all-MiniLM-L6-v2) is English-only, so in these languages stories rest on words alone at the
stricter threshold; before, one "story" held five different events of the UOL feed. The feeds are real captures
(tests/news/data, see PROVENANCE.md there); heise's dates are moved to the last days so that none is too old.
"""

from __future__ import annotations

import asyncio
import re
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.cli import main
from bot.config import Settings
from bot.news.http import HttpClient
from bot.service import NewsService
from bot.storage import Article, Database, Story, utcnow
from tests.intelligence.shared import ENCODER_ENV, shared_encoder
from tests.news.conftest import fast_policy
from tests.news.feeds import article_page
from tests.news.server import DATA, FeedServer, RoutedNetwork

pytestmark = pytest.mark.slow

# Distinct events of the UOL feed (by a piece of their URL); the two Ibope articles report one poll.
UOL_EVENTS = {
    "ibope-bolsonaro-perde": "Ibope poll",
    "ibope-bolsonaro-estaciona": "Ibope poll",
    "em-entrevista-bolsonaro-chama-proposta": "Bolsonaro interview",
    "enfermeira-de-chavez": "Chávez's nurse in a Spanish court",
    "assange-chegou-a-renunciar": "Assange's asylum letter",
    "rival-de-putin": "Putin rival sentenced",
    "dow-jones-fecha": "Dow Jones market report",
    "acordo-adicional-da-argentina": "Argentina and the IMF",
    "copa-cidade-alta": "a football final",
}
DATELINE = re.compile(r"^\s*[\w .-]*,?\s*\d{1,2}\s+\w{3}\w*(\s+\d{4})?\s*\((EFE|ANSA|AFP|Reuters)\)|^Por [A-Z]")
PUBLIC_IP = "93.184.216.20"
ISO_TIME = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d")


def _recent(feed: bytes, now: datetime) -> bytes:
    """The feed with every ISO timestamp moved by one offset, so that its newest is an hour before ``now``."""
    stamps = [datetime.fromisoformat(match.decode()) for match in ISO_TIME.findall(feed)]
    shift = now - timedelta(hours=1) - max(stamps)
    return ISO_TIME.sub(lambda m: (datetime.fromisoformat(m.group(0).decode()) + shift).isoformat().encode(), feed)


async def test_uol_and_heise_are_kept_apart_and_honest(server: FeedServer, tmp_path: Path, monkeypatch, capsys):
    """Languages detected and stored; no story holds two UOL events; datelines never summarise; names tagged."""
    uol = server.serve_bytes("/uol.rss", (DATA / "uolNoticias.rss").read_bytes())
    heise = server.serve_bytes("/heise.atom", _recent((DATA / "heise.atom").read_bytes(), utcnow()), "application/xml")
    database_url = f"sqlite:///{tmp_path / 'geobrief.sqlite3'}"
    env = {
        "DATABASE_URL": database_url,
        "FEEDS": f"{uol},{heise}",
        "FETCH_ARTICLE_PAGES": "false",  # the pages are on the real sites
        "HTTP_POLITENESS_DELAY_SECONDS": "0",
        "LOG_LEVEL": "WARNING",
        **ENCODER_ENV,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    shared_encoder()

    assert await asyncio.to_thread(main, ["ingest", "--once"]) == 0
    assert "Processed 30 article(s)" in capsys.readouterr().out
    assert await asyncio.to_thread(main, ["brief", "--limit", "10"]) == 0
    brief = capsys.readouterr().out
    assert "Nova York, 24 set" not in brief and "MADRI, 24 SET" not in brief and "Por Matt Spetalnick" not in brief

    database = Database(database_url)
    try:
        with database.session() as session:
            articles = session.scalars(select(Article)).all()
            stories = {story.id: story for story in session.scalars(select(Story).where(Story.article_count > 0))}
            by_story: dict[int | None, set[str]] = defaultdict(set)
            for article in articles:
                if "uol.com.br" in article.canonical_url:
                    assert article.language == "pt", article.title
                else:
                    assert article.language == "de", article.title
                for key, event in UOL_EVENTS.items():
                    if key in article.canonical_url:
                        by_story[article.story_id].add(event)
            assert all(len(events) == 1 for events in by_story.values()), dict(by_story)
            assert len(by_story) == len(set(UOL_EVENTS.values()))  # the two Ibope reports are one story
            dow = next(a for a in articles if "dow-jones-fecha" in a.canonical_url)
            assert dow.story_id is not None
            dow_story = stories[dow.story_id]
            assert dow_story.countries[:1] == ["US"]  # "Estados Unidos" twice, "China" once
            assert dow_story.language == "pt"
            assert dow_story.summary and dow_story.summary[0]["text"].startswith("O índice Dow Jones")
            for story in stories.values():
                assert {a.language for a in articles if a.story_id == story.id} == {story.language}
                for line in story.summary:
                    assert not DATELINE.search(line["text"]), line["text"]
    finally:
        database.dispose()


PAGE_PT = (
    "Nova York, 24 set (EFE).- O índice Dow Jones Industrial fechou nesta segunda-feira em baixa de 0,68% em mais "
    "um pregão marcado pela disputa comercial entre Estados Unidos e China. O S&P 500 caiu 0,35% e o Nasdaq subiu "
    "0,08%, segundo dados provisórios da bolsa. Os investidores acompanharam a entrada em vigor de novas tarifas "
    "americanas sobre produtos chineses no valor de 200 bilhões de dólares. Pequim respondeu com tarifas sobre "
    "60 bilhões de dólares em produtos dos Estados Unidos. As ações de empresas de tecnologia tiveram um dia misto. "
    "O petróleo do tipo Brent subiu mais de 3% e chegou a 81 dólares o barril."
)


async def test_a_link_in_another_language_is_summarised_by_its_lead(server: FeedServer, sqlite_database: Database):
    """`/news summarize` on a Portuguese page: the English encoder is not used, the lead is, and says so."""
    server.serve_html("/dow", article_page("Dow Jones fecha em baixa de 0,68%", PAGE_PT))

    async def resolver(host: str, _port: int) -> list[str]:
        return [PUBLIC_IP]  # a public address routed to the loopback server: the SSRF guard stays on

    settings = Settings(_env_file=None, encoder_threads=2, encoder_bf16=False)
    network = RoutedNetwork({PUBLIC_IP: ("127.0.0.1", server.port)})
    async with HttpClient(fast_policy(), resolver=resolver, network=network) as http:
        service = NewsService(settings, sqlite_database, http)
        summary = await service.summarize_url("http://economia.example/dow", requester="console")
    assert summary.method == "lead"
    assert summary.sentences[0].startswith("O índice Dow Jones Industrial fechou")
