"""Backlog backfill against a real loopback feed and page server: labels, newest first, cap, politeness, resuming."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

from sqlalchemy import select

from bot.news.backfill import run_backfill_pass
from bot.news.feeds import list_feeds, remove_feed
from bot.news.http import HttpClient
from bot.news.ingest import IngestOptions, run_ingest_pass
from bot.storage import Article, Database, TextKind
from tests.news.conftest import fast_policy
from tests.news.feeds import Item, article_page, rss
from tests.news.server import FeedServer
from tests.news.test_ingest import CHALLENGE, NOW, OPTIONS, PAYWALL, articles, configure


def options(**changes: object) -> IngestOptions:
    return IngestOptions(**{**OPTIONS.__dict__, **changes})


def dated_items(server: FeedServer, count: int) -> list[Item]:
    """`count` teaser items linking to /p0, /p1, ...; a higher number is an hour newer."""
    return [
        Item(f"Story {n}", server.url(f"/p{n}"), guid=str(n), published=NOW - timedelta(hours=count - n))
        for n in range(count)
    ]


async def first_fetch(
    database: Database, server: FeedServer, http: HttpClient, items: list[Item], *, pages: bool = True
) -> str:
    """Configure one feed carrying `items`, serve an article page for each (unless it has a route, or `pages` is
    false), and run the first (backlog) pass."""
    for item in items:
        path = item.link.removeprefix(server.url(""))
        if pages and path not in server.routes:
            server.serve_html(path, article_page(item.title))
    url = server.serve_bytes("/feed", rss(items))
    configure(database, url)
    report = await run_ingest_pass(database, http, options(), now=NOW)
    assert report.total("backlog") == len(items)
    return url


def page_hits(server: FeedServer) -> list[str]:
    return [hit.path for hit in server.hits if hit.path != "/feed"]


async def test_backlog_pages_get_full_text_or_a_label_like_new_items(database: Database, server: FeedServer, http):
    """The first fetch fetches no page; the backfill then gives full text, blocked (403, challenge, paywall) or
    keeps the teaser (404, non-HTML), and the articles stay backlog."""
    server.serve_html("/full", article_page("Talks"))
    server.serve_html("/challenge", CHALLENGE)
    server.serve_html("/paywalled", article_page("Locked", extra_head=PAYWALL))
    server.serve_status("/forbidden", 403)
    server.serve_bytes("/report.pdf", b"%PDF-1.7", content_type="application/pdf")
    paths = ["/full", "/challenge", "/paywalled", "/forbidden", "/missing", "/report.pdf"]
    await first_fetch(database, server, http, [Item(f"Story {p}", server.url(p), guid=p) for p in paths], pages=False)
    assert page_hits(server) == []
    assert all(a.page_pending and a.text_kind is TextKind.TEASER for a in articles(database))

    report = await run_backfill_pass(database, http, options())
    assert (report.full_text, report.blocked, report.teaser, report.waiting) == (1, 3, 2, 0)
    kinds = {a.canonical_url.removeprefix(server.url("")): a.text_kind for a in articles(database)}
    assert kinds == {
        "/full": TextKind.FULL_TEXT,
        "/challenge": TextKind.BLOCKED,
        "/paywalled": TextKind.BLOCKED,
        "/forbidden": TextKind.BLOCKED,
        "/missing": TextKind.TEASER,
        "/report.pdf": TextKind.TEASER,
    }
    full = next(a for a in articles(database) if a.text_kind is TextKind.FULL_TEXT)
    assert "humanitarian corridors" in full.text and full.language == "en"
    assert all(a.is_backlog and not a.page_pending for a in articles(database))
    assert (await run_backfill_pass(database, http, options())).pages == 0  # nothing fetched twice
    assert sorted(page_hits(server)) == sorted(paths)


async def test_newest_first_within_the_cap_per_feed_and_pass(database: Database, server: FeedServer, http):
    """Each pass takes a feed's newest waiting items, at most the cap; `feeds` shows how many still wait."""
    url = await first_fetch(database, server, http, dated_items(server, 5))
    [health] = list_feeds(database)
    assert health.pages_waiting == 5

    first = await run_backfill_pass(database, http, options(backlog_pages_per_feed=2))
    assert (first.pages, first.waiting) == (2, 3)
    assert page_hits(server) == ["/p4", "/p3"]
    assert [feed.pages_waiting for feed in list_feeds(database) if feed.url == url] == [3]

    await run_backfill_pass(database, http, options(backlog_pages_per_feed=2))
    last = await run_backfill_pass(database, http, options(backlog_pages_per_feed=2))
    assert (last.pages, last.waiting) == (1, 0)
    assert page_hits(server) == ["/p4", "/p3", "/p2", "/p1", "/p0"]
    assert list_feeds(database)[0].pages_waiting == 0


async def test_the_cap_applies_to_each_feed(database: Database, server: FeedServer, http):
    """Two feeds with three waiting items each: a pass capped at one fetches one page of each."""
    for name in ("a", "b"):
        for n in range(3):
            server.serve_html(f"/{name}{n}", article_page(f"{name} {n}"))
    feeds = {
        name: server.serve_bytes(
            f"/{name}.rss", rss([Item(f"{name} {n}", server.url(f"/{name}{n}"), guid=f"{name}{n}") for n in range(3)])
        )
        for name in ("a", "b")
    }
    configure(database, *feeds.values())
    await run_ingest_pass(database, http, options(), now=NOW)
    report = await run_backfill_pass(database, http, options(backlog_pages_per_feed=1))
    assert (report.pages, report.waiting) == (2, 4)
    assert sorted(path[1] for path in page_hits(server) if not path.endswith(".rss")) == ["a", "b"]


async def test_a_pass_cut_short_resumes_in_a_new_process(database_url: str, server: FeedServer):
    """A pass cancelled after its first page (a restart) loses nothing: a new Database and client continue with
    the pages still waiting, and no page is fetched twice."""
    database = Database(database_url)
    database.upgrade()
    done = asyncio.Event()
    async with HttpClient(fast_policy()) as http:
        await first_fetch(database, server, http, dated_items(server, 4))

        def stop_after_one(finished: int, _planned: int) -> None:
            if finished == 1:
                done.set()

        running = asyncio.create_task(run_backfill_pass(database, http, options(), progress=stop_after_one))
        await asyncio.wait_for(done.wait(), timeout=10)
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
    done_first = {a.canonical_url.removeprefix(server.url("")) for a in articles(database) if not a.page_pending}
    database.dispose()
    assert "/p3" in done_first and len(done_first) < 4  # the newest went first; the pass did not finish

    restarted = Database(database_url)
    async with HttpClient(fast_policy()) as http:
        report = await run_backfill_pass(restarted, http, options())
    assert (report.pages, report.waiting) == (4 - len(done_first), 0)
    assert all(not a.page_pending and a.text_kind is TextKind.FULL_TEXT for a in articles(restarted))
    assert all(server.count(path) == 1 for path in done_first)  # what the first run stored is not fetched again
    restarted.dispose()


async def test_backfill_keeps_the_per_host_politeness(database: Database, server: FeedServer):
    """Backlog pages are fetched through the shared client, so one host's requests are spaced by its delay."""
    async with HttpClient(fast_policy(politeness_delay=0.2)) as http:
        await first_fetch(database, server, http, dated_items(server, 3))
        started = time.monotonic()
        await run_backfill_pass(database, http, options())
        elapsed = time.monotonic() - started
    # Timed at the client: on a busy machine the server may handle spaced requests back to back.
    assert len([hit for hit in server.hits if hit.path != "/feed"]) == 3
    assert elapsed >= 2 * 0.2 - 0.01  # three pages, each at least a delay after the one before


async def test_a_page_whose_canonical_url_is_stored_drops_the_copy(database: Database, server: FeedServer, http):
    """A backlog page that declares an article already stored as its canonical URL is that article: the copy goes."""
    server.serve_html("/world/talks", article_page("Talks"))
    server.serve_html("/amp/talks", article_page("Talks", canonical="/world/talks"))
    items = [
        Item("Talks", server.url("/world/talks"), guid="1", description="First teaser."),
        Item("Talks (AMP)", server.url("/amp/talks"), guid="2", description="Second teaser."),
    ]
    await first_fetch(database, server, http, items)
    report = await run_backfill_pass(database, http, options())
    assert (report.full_text, report.duplicate) == (1, 1)
    assert [a.canonical_url for a in articles(database)] == [server.url("/world/talks")]


async def test_removed_feeds_and_page_fetching_off_leave_teasers(database: Database, server: FeedServer, http):
    """Removing a feed stops its backlog from waiting; with page fetching off nothing waits at all."""
    url = await first_fetch(database, server, http, dated_items(server, 2))
    remove_feed(database, url)
    assert (await run_backfill_pass(database, http, options())).pages == 0
    assert page_hits(server) == []
    assert all(not a.page_pending and a.text_kind is TextKind.TEASER for a in articles(database))

    server.serve_html("/q", article_page("Other"))
    other = server.serve_bytes("/other.rss", rss([Item("Other", server.url("/q"), guid="q")]))
    configure(database, other)
    await run_ingest_pass(database, http, options(fetch_pages=False), now=NOW)
    with database.session() as session:
        assert session.scalar(select(Article.page_pending).where(Article.canonical_url == server.url("/q"))) is False


async def test_turning_page_fetching_off_stops_the_waiting(database: Database, server: FeedServer, http):
    """Articles waiting when FETCH_ARTICLE_PAGES is turned off stay teasers, and no page is requested."""
    await first_fetch(database, server, http, dated_items(server, 2))
    report = await run_backfill_pass(database, http, options(fetch_pages=False))
    assert (report.teaser, report.waiting, page_hits(server)) == (2, 0, [])


async def test_report_table(database: Database, server: FeedServer, http):
    """The pass report reads like the ingestion report."""
    await first_fetch(database, server, http, dated_items(server, 1))
    table = (await run_backfill_pass(database, http, options())).as_table()
    assert [" ".join(line.split()) for line in table.splitlines()] == [
        "Backlog pages",
        "full text 1",
        "teaser only 0",
        "blocked 0",
        "duplicate 0",
        "still waiting 0",
    ]
