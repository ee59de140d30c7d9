"""The console platform: `summarize URL` and `digest`, through the same service layer as Discord and Slack."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest

from bot.cli import main
from bot.config import Settings
from bot.demo.bundle import load_bundle
from bot.demo.server import DemoNewsServer
from bot.errors import UserInputError
from bot.news.http import HttpClient, HttpPolicy
from bot.platforms.console.commands import post_digest, summarize
from bot.platforms.console.publisher import CONSOLE_CHANNEL
from bot.platforms.console.render import render_link_summary
from bot.replies import DigestOutcome, LinkSummary
from bot.service import NewsService
from bot.storage import Database, TextKind
from tests.intelligence.shared import ENCODER_ENV, shared_encoder

SETTINGS = Settings(_env_file=None, encoder_threads=2, encoder_bf16=False)  # the test encoder's settings
POLICY = HttpPolicy(user_agent="geobrief-tests/1.0", timeout=2.0, deadline=5.0, max_retries=0, politeness_delay=0.0)
PUBLIC_ADDRESS = "93.184.216.34"  # what the resolver says news.example is: a public address, so the guard lets it by
# The archive's newest article is from 25 November 2026: digests the next morning.
MORNING = datetime(2026, 11, 26, 7, 0, 30, tzinfo=UTC)
NEPAL = next(article for article in load_bundle().articles if article.slug == "nepal-earthquake-survivor-stories")
GUARDIAN = next(article for article in load_bundle().articles if article.text is None and article.round == 2)


class LoopbackEdge(httpx.AsyncBaseTransport):
    """The network edge: every request goes to the sample site on 127.0.0.1, whatever host its URL names."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        local = request.url.copy_with(scheme="http", host="127.0.0.1", port=self.port)
        return await self.inner.handle_async_request(
            httpx.Request(request.method, local, headers=request.headers, stream=request.stream)
        )

    async def aclose(self) -> None:
        await self.inner.aclose()


async def public_resolver(_host: str, _port: int) -> list[str]:
    return [PUBLIC_ADDRESS]


@pytest.fixture
async def site() -> AsyncIterator[DemoNewsServer]:
    """The demo's sample site with every page published."""
    async with DemoNewsServer(load_bundle()) as server:
        server.round = 2
        yield server


@pytest.fixture
async def guarded(sqlite_database: Database) -> AsyncIterator[NewsService]:
    """A service whose HTTP client goes out as in production: loopback addresses are refused."""
    async with HttpClient(POLICY) as http:
        yield NewsService(SETTINGS, sqlite_database, http)


@pytest.fixture
async def edge(sqlite_database: Database, site: DemoNewsServer) -> AsyncIterator[NewsService]:
    """A service whose HTTP client resolves news.example to a public address and reaches the sample site."""
    async with HttpClient(POLICY, transport=LoopbackEdge(site.port), resolver=public_resolver) as http:
        yield NewsService(SETTINGS, sqlite_database, http)


async def test_summarize_refuses_a_link_to_this_computer(guarded: NewsService, site: DemoNewsServer):
    """A user's link to 127.0.0.1 is refused with a plain message, even though a page is there."""
    out = io.StringIO()
    with pytest.raises(UserInputError, match=r"I could not fetch that page: refused: 127\.0\.0\.1 is not a public"):
        await summarize(guarded, site.article_url(NEPAL), out)
    assert out.getvalue() == "" and site.page_requests == 0


def test_summarize_command_refusal_exits_1_with_one_line(capsys):
    """`python -m bot summarize` with a loopback or non-http link exits 1 and says why on standard error."""
    assert main(["summarize", "http://127.0.0.1:9/world/talks"]) == 1
    assert "refused: 127.0.0.1 is not a public internet address" in capsys.readouterr().err
    assert main(["summarize", "ftp://news.example/talks"]) == 1
    assert "Give a full http:// or https:// link to a news article." in capsys.readouterr().err


@pytest.mark.slow
async def test_summarize_command_reaches_an_intranet_page_only_when_allowed(
    site: DemoNewsServer, tmp_path, monkeypatch, capsys
):
    """`summarize --allow-private URL` lets an operator summarise a page on this computer; without it, refused."""
    for name, value in {"DATABASE_URL": f"sqlite:///{tmp_path / 'bot.sqlite3'}", **ENCODER_ENV}.items():
        monkeypatch.setenv(name, value)
    shared_encoder()
    url = site.article_url(NEPAL)
    assert await asyncio.to_thread(main, ["summarize", url]) == 1
    assert "is not a public internet address" in capsys.readouterr().err and site.page_requests == 0
    assert await asyncio.to_thread(main, ["summarize", "--allow-private", url]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[:2] == ["Nepal earthquake: survivor stories", "127.0.0.1 · summary based on: full text"]
    assert site.page_requests == 1


@pytest.mark.slow
async def test_summarize_prints_title_site_label_and_sentences(edge: NewsService):
    """A public link is fetched, extracted and summarised: title, site, "full text", three sentences, the link."""
    shared_encoder()
    url = f"https://news.example/{NEPAL.outlet}/{NEPAL.slug}"
    out = io.StringIO()
    await summarize(edge, url, out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "Nepal earthquake: survivor stories"
    assert lines[1] == "news.example · summary based on: full text"
    bullets = [line.removeprefix("  - ") for line in lines if line.startswith("  - ")]
    assert len(bullets) == 3
    assert NEPAL.text is not None
    text = " ".join(NEPAL.text.split())
    assert all(bullet.split()[2] in text for bullet in bullets)
    assert lines[-1] == url


async def test_summarize_a_missing_page_says_so(edge: NewsService):
    """A link whose page answers 404 gives the reason, not a traceback."""
    with pytest.raises(UserInputError, match="I could not fetch that page: HTTP 404 Not Found"):
        await summarize(edge, f"https://news.example/{GUARDIAN.outlet}/{GUARDIAN.slug}", io.StringIO())


def test_render_link_summary_of_a_blocked_page_shows_the_note():
    """With no sentences (a paywall), the rendering says why and still gives the link."""
    summary = LinkSummary(
        url="https://news.example/a",
        title="Talks resume",
        site="news.example",
        sentences=(),
        text_kind=TextKind.BLOCKED,
        method="none",
        note="The page did not give me the article (paywall), so there is nothing to summarise.",
    )
    assert render_link_summary(summary) == (
        "Talks resume\nnews.example · summary based on: fetch blocked\n\n"
        "The page did not give me the article (paywall), so there is nothing to summarise.\n\n"
        "https://news.example/a\n"
    )


@pytest.fixture
async def morning(archive_copy: Database) -> AsyncIterator[NewsService]:
    """The service over the archive copy, at 07:00 the morning after its newest article."""
    async with HttpClient(POLICY) as http:
        yield NewsService(SETTINGS, archive_copy, http, clock=lambda: MORNING)


async def test_digest_prints_new_stories_then_nothing_new(morning: NewsService):
    """The first digest shows the top stories with sources; the next one, with nothing new since, says so."""
    first = io.StringIO()
    result = await post_digest(morning, first)
    assert result.outcome is DigestOutcome.POSTED
    text = first.getvalue()
    assert text.startswith("Geopolitics briefing · Thu 26 Nov 07:00 UTC")
    assert "\n1. " in text and "\n5. " in text and "\n6. " not in text
    assert "https://" in text and "(full text)" in text

    second = io.StringIO()
    assert (await post_digest(morning, second)).outcome is DigestOutcome.NOTHING_NEW
    assert second.getvalue() == "Nothing new for this channel: no story it has not had yet passes its filters.\n"


async def test_digest_style_and_limit_are_the_console_subscription(morning: NewsService):
    """`--style detailed --limit 2` posts two stories with every summary line and remembers the style."""
    out = io.StringIO()
    await post_digest(morning, out, style="detailed", limit=2)
    assert "\n2. " in out.getvalue() and "\n3. " not in out.getvalue()
    info = await morning.subscription(CONSOLE_CHANNEL)
    assert info is not None and (info.style, info.max_items) == ("detailed", 2)
    with pytest.raises(UserInputError, match="between 1 and 10"):
        await post_digest(morning, io.StringIO(), limit=11)


def test_digest_command_on_an_empty_archive(tmp_path, monkeypatch, capsys):
    """`python -m bot digest` on a new database says there is nothing new (there was no last digest); a bad --limit
    exits 1."""
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'bot.sqlite3'}")
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    assert main(["digest"]) == 0
    assert capsys.readouterr().out == "Nothing new for this channel: no story it has not had yet passes its filters.\n"
    assert main(["digest", "--limit", "0"]) == 1
    assert "between 1 and 10" in capsys.readouterr().err
