"""Ingestion passes against a real loopback server: backlog, pages and labels, dedup, age, hostile feeds, backoff."""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.news.feeds import list_feeds, sync_sources
from bot.news.http import HttpClient
from bot.news.ingest import FeedOutcome, IngestOptions, IngestReport, run_ingest_pass
from bot.news.sources import FeedSource
from bot.storage import Article, Database, Feed, TextKind
from tests.news.conftest import fast_policy
from tests.news.feeds import ARTICLE_TEXT, Item, article_page, rss
from tests.news.server import FeedServer, start_silent_server

NOW = datetime(2026, 3, 1, 18, 0, tzinfo=UTC)
OPTIONS = IngestOptions(max_article_age=timedelta(days=7), poll_interval=timedelta(minutes=15))
CHALLENGE = "<html><head><title>Just a moment...</title></head><body>cf_chl_opt</body></html>"
PAYWALL = '<script type="application/ld+json">{"isAccessibleForFree": false}</script>'


def configure(database: Database, *urls: str) -> None:
    """Register feeds as the operator would (trusted, so loopback is allowed)."""
    sync_sources(database, [FeedSource(url, f"Feed {n}") for n, url in enumerate(urls, start=1)])


def mark_backlog_loaded(database: Database) -> None:
    """Pretend every feed had its first fetch, so items count as new and pages are fetched."""
    with database.session() as session:
        for feed in session.scalars(select(Feed)):
            feed.backlog_loaded = True


def articles(database: Database) -> list[Article]:
    with database.session() as session:
        return list(session.scalars(select(Article).order_by(Article.id)))


def article_count(database: Database) -> int:
    with database.session() as session:
        return session.scalar(select(func.count()).select_from(Article)) or 0


async def ingest(database: Database, http: HttpClient, now: datetime = NOW, **options: object) -> IngestReport:
    return await run_ingest_pass(database, http, IngestOptions(**{**OPTIONS.__dict__, **options}), now=now)


@pytest.fixture
async def http() -> AsyncIterator[HttpClient]:
    """A fast client; two retries keep the hostile cases quick, and the timeouts leave room for a busy machine."""
    async with HttpClient(fast_policy(timeout=2.0, deadline=5.0, max_bytes=2_000_000)) as client:
        yield client


async def test_first_fetch_stores_backlog_without_fetching_pages(database: Database, server: FeedServer, http):
    """A new feed's items are stored as backlog, labelled teasers, with language and UTC dates; no page is fetched."""
    url = server.serve_file("guardian.rss")
    configure(database, url)
    report = await ingest(database, http, now=datetime(2018, 2, 1, tzinfo=UTC), max_article_age=timedelta(days=60))
    [result] = report.results
    assert (result.outcome, result.backlog, result.new, result.duplicate) == (FeedOutcome.OK, 55, 0, 0)
    stored = articles(database)
    assert len(stored) == 55
    assert all(a.is_backlog and a.text_kind is TextKind.TEASER and a.language == "en" for a in stored)
    assert stored[0].published_at == datetime(2018, 1, 31, 7, 26, 5, tzinfo=UTC)
    assert stored[0].outlet == "Feed 1"
    assert "Continue reading" not in stored[0].text
    assert [hit.path for hit in server.hits] == ["/data/guardian.rss"]


async def test_second_fetch_uses_conditional_get(database: Database, server: FeedServer, http):
    """The next poll sends the stored ETag, gets a 304, and stores nothing."""
    configure(database, server.serve_file("heise.atom", "application/atom+xml"))
    await ingest(database, http, max_article_age=timedelta(days=5000))
    report = await ingest(database, http, max_article_age=timedelta(days=5000))
    assert report.results[0].outcome is FeedOutcome.NOT_MODIFIED
    assert "If-None-Match" in server.hits[1].headers
    assert article_count(database) == 15
    [health] = list_feeds(database)
    assert (health.status, health.last_success_at) == ("ok", NOW)


async def test_new_items_get_full_text_or_a_label(database: Database, server: FeedServer, http):
    """After the backlog, teasers trigger page fetches: full text, 403, bot challenge, paywall, 404, non-HTML."""
    pages = {
        "/full": article_page("Talks"),
        "/challenge": CHALLENGE,
        "/paywalled": article_page("Locked", extra_head=PAYWALL),
    }
    for path, html in pages.items():
        server.serve_html(path, html)
    server.serve_status("/forbidden", 403)
    server.serve_bytes("/report.pdf", b"%PDF-1.7", content_type="application/pdf")
    paths = [*pages, "/forbidden", "/missing", "/report.pdf"]
    feed = rss([Item(f"Story {path}", server.url(path), guid=path) for path in paths])
    configure(database, server.serve_bytes("/feed", feed))
    mark_backlog_loaded(database)

    report = await ingest(database, http)
    assert report.results[0].new == 6
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
    assert "humanitarian corridors" in full.text
    assert not any(a.is_backlog for a in articles(database))


async def test_full_text_feeds_need_no_page(database: Database, server: FeedServer, http):
    """Content long enough in the feed is full text, and the page is not requested."""
    item = Item("Talks", server.url("/talks"), guid="1", content=f"<p>{ARTICLE_TEXT}</p>" * 3)
    configure(database, server.serve_bytes("/feed", rss([item])))
    mark_backlog_loaded(database)
    await ingest(database, http)
    [stored] = articles(database)
    assert stored.text_kind is TextKind.FULL_TEXT
    assert server.count("/talks") == 0


async def test_rel_canonical_of_the_page_is_the_stored_url(database: Database, server: FeedServer, http):
    """The page's rel=canonical replaces the feed link (here an AMP URL with tracking)."""
    server.serve_html("/amp/talks", article_page("Talks", canonical="/world/talks"))
    item = Item("Talks", server.url("/amp/talks?utm_source=rss"), guid="1")
    configure(database, server.serve_bytes("/feed", rss([item])))
    mark_backlog_loaded(database)
    await ingest(database, http)
    assert [a.canonical_url for a in articles(database)] == [server.url("/world/talks")]


async def test_canonical_on_another_site_is_ignored(database: Database, server: FeedServer, http):
    """A page that names another outlet's article as its canonical keeps its own URL, so the other outlet's real
    article is not dropped later as a duplicate."""
    claimed = "https://other-outlet.example/world/real-story"
    server.serve_html("/copy", article_page("Copied talks", canonical=claimed))
    first = server.serve_bytes("/feed1", rss([Item("Copied talks", server.url("/copy"), guid="c")]))
    real = Item("Real story", claimed, guid="r", content=f"<p>{ARTICLE_TEXT}</p>" * 3)
    second = server.serve_bytes("/feed2", rss([real]))
    configure(database, first, second)
    mark_backlog_loaded(database)
    await run_ingest_pass(database, http, OPTIONS, feed_urls=[first], now=NOW)
    await run_ingest_pass(database, http, OPTIONS, feed_urls=[second], now=NOW)
    assert sorted(a.canonical_url for a in articles(database)) == sorted([server.url("/copy"), claimed])


async def test_page_on_another_host_goes_through_the_ssrf_guard(database: Database, server: FeedServer, http):
    """A trusted feed vouches for its own host only: an item pointing at localhost is not fetched."""
    server.serve_html("/internal", article_page("Secret"))
    item = Item("Internal", f"http://localhost:{server.port}/internal", guid="1")
    configure(database, server.serve_bytes("/feed", rss([item])))
    mark_backlog_loaded(database)
    await ingest(database, http)
    [stored] = articles(database)
    assert stored.text_kind is TextKind.TEASER
    assert server.count("/internal") == 0


async def test_one_article_through_several_feeds_is_stored_once(database: Database, server: FeedServer, http):
    """The same story in two section feeds, with different tracking parameters and GUIDs, is stored once."""
    link = server.url("/world/talks")
    server.serve_html("/world/talks", article_page("Talks"))
    first = server.serve_bytes("/world.rss", rss([Item("Talks", link + "?utm_source=world", guid="w-1")]))
    second = server.serve_bytes("/europe.rss", rss([Item("Talks", link + "?utm_source=europe", guid="e-9")]))
    configure(database, first, second)
    mark_backlog_loaded(database)
    report = await ingest(database, http)
    assert report.total("new") == 1
    assert report.total("duplicate") == 1
    assert server.count("/world/talks") == 1  # the second feed did not fetch the page again
    assert article_count(database) == 1


async def test_redated_reguided_and_moved_items_are_duplicates(database: Database, server: FeedServer, http):
    """Re-dated (same GUID), new GUID (same link), and new GUID and link (same title and text) are all duplicates."""
    original = Item(
        "Ceasefire talks",
        server.url("/a"),
        guid="1",
        description="Foreign ministers met in Geneva today to discuss a ceasefire.",
    )
    configure(database, server.serve_bytes("/feed", rss([original])))
    await ingest(database, http, fetch_pages=False)
    variants = [
        Item(original.title, server.url("/a-v2"), guid="1", published=NOW - timedelta(hours=1)),
        Item("Ceasefire talks (updated)", server.url("/a"), guid="2"),
        Item(original.title, server.url("/moved/a"), guid="3", description=original.description),
    ]
    server.serve_bytes("/feed", rss([original, *variants]))
    report = await ingest(database, http, fetch_pages=False)
    assert (report.total("new"), report.total("duplicate")) == (0, 4)
    assert article_count(database) == 1


async def test_numeric_guids_only_count_within_their_feed(database: Database, server: FeedServer, http):
    """Two outlets that both number their items '1' keep both articles."""
    first = server.serve_bytes("/a.rss", rss([Item("Vote in Kenya", server.url("/a/1"), guid="1")]))
    second = server.serve_bytes("/b.rss", rss([Item("Floods in Peru", server.url("/b/1"), guid="1")]))
    configure(database, first, second)
    await ingest(database, http)
    assert article_count(database) == 2


async def test_old_missing_and_future_dates(database: Database, server: FeedServer, http):
    """Items older than the age limit are ignored; missing and far-future dates become the fetch time."""
    items = [
        Item("Old", server.url("/old"), guid="1", published=NOW - timedelta(days=30)),
        Item("Undated", server.url("/undated"), guid="2", published=None),
        Item("Future", server.url("/future"), guid="3", published=NOW + timedelta(days=3)),
    ]
    configure(database, server.serve_bytes("/feed", rss(items)))
    report = await ingest(database, http)
    assert (report.total("backlog"), report.total("too_old")) == (2, 1)
    assert {a.title: a.published_at for a in articles(database)} == {"Undated": NOW, "Future": NOW}


async def test_duplicate_guids_within_a_feed_are_stored_once(database: Database, server: FeedServer, http, caplog):
    """A feed that repeats GUIDs gets each item once and a warning naming the feed."""
    items = [Item(f"Story {n}", server.url(f"/s/{n % 3}"), guid=f"g{n % 3}") for n in range(9)]
    url = server.serve_bytes("/feed", rss(items))
    configure(database, url)
    report = await ingest(database, http)
    assert (report.total("backlog"), report.total("duplicate")) == (3, 6)
    assert any(url in record.getMessage() and "repeats" in record.getMessage() for record in caplog.records)


async def test_items_without_links_are_counted_unusable(database: Database, server: FeedServer, http):
    """An item whose link is missing or not http(s) cannot be stored and is counted."""
    items = [Item("No link", "javascript:void(0)", guid="x"), Item("Fine", server.url("/fine"), guid="y")]
    configure(database, server.serve_bytes("/feed", rss(items)))
    report = await ingest(database, http)
    assert (report.total("backlog"), report.total("unusable")) == (1, 1)


async def test_item_with_an_unencodable_host_is_skipped_and_counted(database: Database, server: FeedServer, http):
    """A link whose host has a 64-character label (IDNA cannot encode it) is one unusable item; the rest is stored."""
    server.serve_html("/good", article_page("Talks"))
    items = [Item("Bad link", f"https://{'a' * 64}.example.com/story", guid="bad"), Item("Talks", server.url("/good"))]
    configure(database, server.serve_bytes("/feed", rss(items)))
    mark_backlog_loaded(database)
    [result] = (await ingest(database, http)).results
    assert (result.outcome, result.new, result.unusable) == (FeedOutcome.OK, 1, 1)
    assert [a.canonical_url for a in articles(database)] == [server.url("/good")]


async def test_empty_feed_is_ok_and_titles_lose_bidi_overrides(database: Database, server: FeedServer, http):
    """A valid feed with no items and no title polls as OK; a title with a right-to-left override is stored clean."""
    empty = server.serve_bytes("/empty", b'<?xml version="1.0"?><rss version="2.0"><channel></channel></rss>')
    tricky = server.serve_bytes("/tricky", rss([Item("Minister \u202eslaunches\u202c\u200b talks", server.url("/a"))]))
    configure(database, empty, tricky)
    report = await ingest(database, http)
    assert [result.outcome for result in report.results] == [FeedOutcome.OK, FeedOutcome.OK]
    assert [a.title for a in articles(database)] == ["Minister slaunches talks"]


HOSTILE = {
    "malformed XML": lambda s: s.serve_bytes("/h", b'<?xml version="1.0"?><rss version="2.0"><channel><item></rss>'),
    "billion laughs": lambda s: s.serve_bytes(
        "/h", b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]><rss>&b;</rss>'
    ),
    "external entity": lambda s: s.serve_bytes(
        "/h", b'<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><rss version="2.0"><channel>&x;</channel></rss>'
    ),
    "several GB": lambda s: s.serve_endless("/h"),
    "declared GB": lambda s: s.serve_endless("/h", declare_length=8 * 1024**3),
    "never answers": lambda s: s.serve_hanging("/h"),
    "redirect loop": lambda s: s.serve_redirect("/h", "/h"),
    "HTML page": lambda s: s.serve_html("/h", article_page("Welcome to our homepage")),
    "10,000 items": lambda s: s.serve_bytes(
        "/h", b'<rss version="2.0"><channel>' + b"<item><guid>1</guid></item>" * 10_000 + b"</channel></rss>"
    ),
    "server error": lambda s: s.serve_status("/h", 500),
    "stacked gzip bomb": lambda s: s.serve_bytes(
        "/h", gzip.compress(gzip.compress(b"\0" * 50_000_000)), **{"Content-Encoding": "gzip, gzip"}
    ),
}
HOSTILE_REASONS = {
    "malformed XML": "malformed XML",
    "billion laughs": "refused",
    "external entity": "refused",
    "several GB": "larger than",
    "declared GB": "larger than",
    "never answers": "timed out",
    "redirect loop": "redirects",
    "HTML page": "HTML page",
    "10,000 items": "10000 items",
    "server error": "HTTP 500",
    "stacked gzip bomb": "larger than",
}


@pytest.mark.parametrize("case", list(HOSTILE))
async def test_hostile_feed_fails_alone(case: str, database: Database, server: FeedServer, http, caplog):
    """Each hostile source ends as its own logged failure; the good feed in the same pass is stored as usual."""
    good = server.serve_file("guardian.rss")
    hostile = HOSTILE[case](server)
    configure(database, good, hostile)
    report = await ingest(database, http, now=datetime(2018, 2, 1, tzinfo=UTC), max_article_age=timedelta(days=60))

    outcomes = {result.url: result for result in report.results}
    assert outcomes[good].outcome is FeedOutcome.OK and outcomes[good].backlog == 55
    failed = outcomes[hostile]
    assert failed.outcome is FeedOutcome.FAILED
    assert failed.error is not None and HOSTILE_REASONS[case] in failed.error
    assert article_count(database) == 55
    with database.session() as session:
        row = session.scalars(select(Feed).where(Feed.url == hostile)).one()
        assert (row.consecutive_failures, row.backlog_loaded, row.etag) == (1, False, None)
        assert row.last_error == failed.error
    assert any(r.levelname == "ERROR" and hostile in r.getMessage() for r in caplog.records)


async def test_silent_server_fails_by_timeout(database: Database, http):
    """A TCP server that accepts and never sends a byte is cut by the timeout."""
    silent, port = await start_silent_server()
    try:
        configure(database, f"http://127.0.0.1:{port}/feed")
        report = await ingest(database, http)
    finally:
        silent.close()
    assert report.results[0].outcome is FeedOutcome.FAILED
    assert "timed out" in (report.results[0].error or "")


async def test_failing_feed_backs_off_and_recovers(database: Database, server: FeedServer, http):
    """Failures grow the backoff and show in the feed's health; a later success clears them."""
    url = server.serve_status("/feed", 503)
    configure(database, url)
    first = await ingest(database, http)
    assert first.results[0].retry_after == NOW + timedelta(minutes=7.5)
    skipped = await ingest(database, http, now=NOW + timedelta(minutes=5))
    assert skipped.results[0].outcome is FeedOutcome.BACKING_OFF
    second = await ingest(database, http, now=NOW + timedelta(minutes=15))
    assert second.results[0].retry_after == NOW + timedelta(minutes=15 + 22.5)
    third = await ingest(database, http, now=NOW + timedelta(minutes=45))
    assert third.results[0].consecutive_failures == 3
    [health] = list_feeds(database)
    assert (health.status, health.last_error) == ("failing", "HTTP 503 Service Unavailable")

    server.serve_bytes("/feed", rss([Item("Back", server.url("/back"), guid="1")]))
    recovered = await ingest(database, http, now=NOW + timedelta(days=1))
    assert recovered.results[0].outcome is FeedOutcome.OK
    [health] = list_feeds(database)
    assert (health.status, health.consecutive_failures, health.last_error, health.retry_after) == ("ok", 0, None, None)


async def test_long_retry_after_sets_the_next_try(database: Database, server: FeedServer, http):
    """A Retry-After beyond the client's cap is honoured by the feed's backoff instead."""
    configure(database, server.serve_status("/feed", 429, **{"Retry-After": "7200"}))
    report = await ingest(database, http)
    assert report.results[0].retry_after == NOW + timedelta(hours=2)
    assert server.count("/feed") == 1


async def test_report_table_lists_counts_and_failures(database: Database, server: FeedServer, http):
    """The table has the feed outcomes, the article counts and each failure's reason."""
    configure(database, server.serve_bytes("/ok", rss([Item("A", server.url("/a"), guid="1")])), server.url("/gone"))
    table = (await ingest(database, http)).as_table()
    assert "ok" in table and "failed" in table and "backlog (first fetch)" in table
    assert "HTTP 404 Not Found (1 in a row; next try after" in table
    assert server.url("/gone") in table


async def test_feed_urls_limit_the_pass(database: Database, server: FeedServer, http):
    """Passing feed URLs polls only those (the scheduler's per-feed job)."""
    one = server.serve_bytes("/one", rss([Item("A", server.url("/a"), guid="1")]))
    configure(database, one, server.serve_bytes("/two", rss([Item("B", server.url("/b"), guid="1")])))
    report = await run_ingest_pass(database, http, OPTIONS, feed_urls=[one], now=NOW)
    assert [result.url for result in report.results] == [one]
    assert server.count("/two") == 0


async def test_wrong_or_missing_charset_is_decoded_not_failed(database: Database, server: FeedServer, http):
    """A Latin-1 feed without a declaration, and one whose header claims UTF-8, are stored with the right text."""
    missing = server.serve_file("uolNoticias.rss", content_type="text/xml")
    wrong_body = rss(
        [Item("Négociations à Genève", server.url("/geneve"), guid="1", published=None)], encoding="latin-1"
    )
    wrong = server.serve_bytes(
        "/wrong", wrong_body.replace(b'"latin-1"', b'"utf-8"'), "application/rss+xml; charset=utf-8"
    )
    configure(database, missing, wrong)
    report = await ingest(database, http, now=datetime(2018, 9, 25, tzinfo=UTC))
    assert [result.outcome for result in report.results] == [FeedOutcome.OK, FeedOutcome.OK]
    titles = {a.title for a in articles(database)}
    assert "Ibope: Bolsonaro perde de Haddad, Ciro e Alckmin em simulações de 2º turno" in titles
    assert "Négociations à Genève" in titles
    assert {a.language for a in articles(database) if a.title.startswith("Ibope")} == {"pt"}


async def test_a_short_article_that_carries_the_teaser_is_full_text(database: Database, server: FeedServer, http):
    """A page under the length floor that holds the item's teaser and more gives the article, short as it is."""
    teaser = "Sunday, 21 July 2013"
    text = f"{teaser}. A fire has badly damaged the supermarket. Eight crews fought the blaze overnight."
    server.serve_html("/fire", article_page("Fire", text))
    item = Item("Fire at the supermarket", server.url("/fire"), guid="1", description=teaser)
    configure(database, server.serve_bytes("/feed", rss([item])))
    mark_backlog_loaded(database)
    await ingest(database, http)
    [stored] = articles(database)
    assert stored.text_kind is TextKind.FULL_TEXT and "Eight crews fought the blaze" in stored.text
