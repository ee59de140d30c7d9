"""One ingestion pass: for each due feed, fetch -> parse -> fetch teaser pages -> normalise -> dedup -> store.

The rules, which docs/ingestion.md explains to users:

- Dedup: an item is a duplicate when a stored article has the same canonical URL, the same content hash (same
  site, title and feed text), or the same GUID from the same feed. So an article seen through several feeds,
  re-dated, or given a new GUID is stored once. GUIDs count only within a feed, since many are bare numbers.
- Backlog: the first successful fetch of a feed stores what it carries with `is_backlog`, never as new, so adding
  a feed floods nothing. Its teasers' pages are not fetched in the pass: they are marked `page_pending` and
  fetched later in the background, newest first and capped per feed and pass (`bot.news.backfill`).
- Age: items published more than `max_article_age` ago are ignored; a missing or far-future date means "now".
- Text: feed content that is long enough is full text; otherwise the article page is fetched and its main text
  extracted; a 401/402/403/451, a bot challenge or a paywall is labelled blocked and keeps the feed teaser.
- Failure: a feed that fails (network, status, size, malformed or hostile XML ...) changes nothing but its own
  failure state: the error, a failure count and an exponential backoff. Nothing it sent is stored, and its
  conditional-GET validators are only saved together with its articles, so nothing is skipped later.

Database work is short and synchronous on the event loop, with no await inside it, so checking for duplicates
and inserting are atomic with respect to the other feeds of the pass. Parsing and extraction, which take CPU
time, run in worker threads.
"""

from __future__ import annotations

import asyncio
import enum
import hashlib
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from sqlalchemy import ColumnElement, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import InstrumentedAttribute, Session

from bot.errors import BotError
from bot.news.extract import blocked_by_status, extract_page
from bot.news.http import FetchError, HttpClient, HTTPStatusError
from bot.news.normalize import canonical_url, content_hash, detect_language, html_to_text, to_utc
from bot.news.parse import FeedParseError, ParsedFeed, parse_feed
from bot.ops.metrics import record_feed_result
from bot.storage import Article, Database, Feed, TextKind, utcnow

if TYPE_CHECKING:
    from bot.config import Settings

log = logging.getLogger(__name__)

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, application/xml;q=0.9, "
    "text/xml;q=0.9, */*;q=0.1"
)
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.1"
PAGE_MEDIA_TYPES = frozenset({"", "text/html", "application/xhtml+xml"})
MAX_BACKOFF = timedelta(hours=24)
MAX_ERROR_LENGTH = 500
MAX_URL_LENGTH = 2048
MAX_GUID_LENGTH = 2048
MAX_TITLE_LENGTH = 1000
IN_CHUNK = 500  # values per SQL IN (...) list


class FeedOutcome(enum.StrEnum):
    """How polling one feed went."""

    OK = "ok"
    NOT_MODIFIED = "not modified"
    FAILED = "failed"
    BACKING_OFF = "backing off"  # skipped: an earlier failure or a Retry-After says not yet


@dataclass(frozen=True)
class FeedResult:
    """The outcome of one feed in a pass, with article counts."""

    url: str
    name: str
    outcome: FeedOutcome
    new: int = 0
    backlog: int = 0
    duplicate: int = 0
    too_old: int = 0
    unusable: int = 0  # items without a usable link
    error: str | None = None
    consecutive_failures: int = 0
    retry_after: datetime | None = None


@dataclass(frozen=True)
class IngestReport:
    """What a pass did, feed by feed."""

    results: tuple[FeedResult, ...]
    started_at: datetime
    finished_at: datetime

    def count(self, outcome: FeedOutcome) -> int:
        """How many feeds had this outcome."""
        return sum(1 for result in self.results if result.outcome is outcome)

    def total(self, counter: str) -> int:
        """The sum of one article counter (new, backlog, duplicate, too_old, unusable) over all feeds."""
        return sum(int(getattr(result, counter)) for result in self.results)

    @property
    def failed(self) -> list[FeedResult]:
        """The feeds that failed in this pass."""
        return [result for result in self.results if result.outcome is FeedOutcome.FAILED]

    def as_table(self) -> str:
        """The report as a plain-text table (feeds by outcome, articles by fate, then each failure's reason)."""
        rows = [("Feeds", "")]
        rows += [(f"  {outcome.value}", str(self.count(outcome))) for outcome in FeedOutcome]
        rows.append(("Articles", ""))
        labels = {
            "new": "new",
            "backlog": "backlog (first fetch)",
            "duplicate": "duplicate",
            "too_old": "too old",
            "unusable": "unusable",
        }
        rows += [(f"  {label}", str(self.total(counter))) for counter, label in labels.items()]
        width = max(len(label) for label, _ in rows) + 2
        lines = [f"{label:<{width}}{value:>7}" if value else label for label, value in rows]
        seconds = (self.finished_at - self.started_at).total_seconds()
        lines.append(f"({len(self.results)} feeds in {seconds:.1f} s)")
        if self.failed:
            lines += ["", "Failed feeds"]
            for result in self.failed:
                when = f"; next try after {result.retry_after:%Y-%m-%d %H:%M} UTC" if result.retry_after else ""
                lines.append(f"  {result.name} <{result.url}>")
                lines.append(f"    {result.error} ({result.consecutive_failures} in a row{when})")
        return "\n".join(lines)


@dataclass(frozen=True)
class IngestOptions:
    """What a pass accepts and how hard it tries."""

    max_article_age: timedelta = timedelta(days=7)
    poll_interval: timedelta = timedelta(minutes=15)  # the failure backoff is counted in polls
    max_items: int = 1000
    fetch_pages: bool = True
    backlog_pages_per_feed: int = 100  # backlog pages one backfill pass fetches per feed (bot.news.backfill)
    fulltext_min_chars: int = 1200  # feed content at least this long is taken as the full text
    feed_concurrency: int = 16  # feeds in progress at once (the HTTP client limits each host further)

    @classmethod
    def from_settings(cls, settings: Settings) -> IngestOptions:
        """The options the settings describe."""
        return cls(
            max_article_age=timedelta(days=settings.max_article_age_days),
            poll_interval=timedelta(minutes=settings.feed_poll_minutes),
            max_items=settings.feed_max_items,
            fetch_pages=settings.fetch_article_pages,
            backlog_pages_per_feed=settings.backlog_pages_per_feed,
        )


@dataclass(frozen=True)
class _FeedState:
    """What a pass needs of a feed row, read once at the start."""

    id: int
    url: str
    name: str
    language: str | None
    allow_private: bool
    etag: str | None
    last_modified: str | None
    backlog_loaded: bool
    consecutive_failures: int
    retry_after: datetime | None


@dataclass(frozen=True)
class _Candidate:
    """A feed item on its way to becoming an article."""

    guid: str | None
    url: str
    title: str
    text: str
    kind: TextKind
    published_at: datetime
    content_hash: str
    language: str | None = None


@dataclass
class _Counts:
    duplicate: int = 0
    too_old: int = 0
    unusable: int = 0


@dataclass
class _Pass:
    database: Database
    http: HttpClient
    options: IngestOptions
    now: datetime
    # Canonical URLs and hashes that a feed of this pass has taken, so no two feeds fetch the same page.
    claimed: set[str] = field(default_factory=set)


async def run_ingest_pass(
    database: Database,
    http: HttpClient,
    options: IngestOptions,
    *,
    feed_urls: Sequence[str] | None = None,
    on_feed_done: Callable[[FeedResult], None] | None = None,
    now: datetime | None = None,
) -> IngestReport:
    """Poll the enabled feeds (or only `feed_urls`) once and store what is new.

    One feed's failure never affects another: each ends as a `FeedResult`, and unexpected errors are logged
    with a traceback and recorded as that feed's failure.

    Args:
        database: where feeds and articles live.
        http: the shared HTTP client.
        options: limits and behaviour of the pass.
        feed_urls: poll only these feeds (they must be enabled); default: all enabled feeds.
        on_feed_done: called as each feed finishes (a progress bar).
        now: the pass's clock, for age limits and backoff (tests inject it); default: the current time.
    """
    started = utcnow()
    state = _Pass(database, http, options, now or started)
    feeds = _load_feeds(database, feed_urls)
    gate = asyncio.Semaphore(options.feed_concurrency)

    async def one(feed: _FeedState) -> FeedResult:
        async with gate:
            result = await _ingest_feed_safely(state, feed)
        record_feed_result(result)
        if on_feed_done is not None:
            on_feed_done(result)
        return result

    results = await asyncio.gather(*(one(feed) for feed in feeds))
    report = IngestReport(tuple(results), started, utcnow())
    log.log(
        logging.INFO if len(results) > 1 else logging.DEBUG,  # a one-feed pass (a scheduler job) logged per feed
        "ingest pass: %d feeds, %d new, %d backlog, %d duplicate, %d failed",
        len(results),
        report.total("new"),
        report.total("backlog"),
        report.total("duplicate"),
        len(report.failed),
    )
    return report


def _load_feeds(database: Database, feed_urls: Sequence[str] | None) -> list[_FeedState]:
    query = select(Feed).where(Feed.enabled).order_by(Feed.id)
    if feed_urls is not None:
        query = query.where(Feed.url.in_(list(feed_urls)))
    with database.session() as session:
        return [
            _FeedState(
                id=feed.id,
                url=feed.url,
                name=feed.name,
                language=feed.language,
                allow_private=feed.allow_private,
                etag=feed.etag,
                last_modified=feed.last_modified,
                backlog_loaded=feed.backlog_loaded,
                consecutive_failures=feed.consecutive_failures,
                retry_after=feed.retry_after,
            )
            for feed in session.scalars(query)
        ]


async def _ingest_feed_safely(state: _Pass, feed: _FeedState) -> FeedResult:
    if feed.retry_after is not None and feed.retry_after > state.now:
        log.debug("feed %s backing off until %s", feed.url, feed.retry_after, extra={"feed": feed.url})
        return FeedResult(
            feed.url,
            feed.name,
            FeedOutcome.BACKING_OFF,
            consecutive_failures=feed.consecutive_failures,
            retry_after=feed.retry_after,
        )
    try:
        return await _ingest_feed(state, feed)
    except Exception as error:
        if not isinstance(error, FetchError | FeedParseError):
            # A bug or a database problem: logged in full, but kept to this feed.
            log.exception("feed %s: unexpected error", feed.url, extra={"feed": feed.url})
        try:
            return _record_failure(state, feed, error)
        except SQLAlchemyError:
            log.exception("feed %s: could not record the failure", feed.url, extra={"feed": feed.url})
            return FeedResult(feed.url, feed.name, FeedOutcome.FAILED, error=_describe(error))


async def _ingest_feed(state: _Pass, feed: _FeedState) -> FeedResult:
    response = await state.http.get(
        feed.url,
        allow_private=feed.allow_private,
        etag=feed.etag,
        last_modified=feed.last_modified,
        accept=FEED_ACCEPT,
    )
    if response.not_modified:
        # A 304 may repeat only some validators; the ones it leaves out still hold.
        etag, last_modified = response.etag or feed.etag, response.last_modified or feed.last_modified
        _record_success(state, feed, [], etag=etag, last_modified=last_modified)
        return FeedResult(feed.url, feed.name, FeedOutcome.NOT_MODIFIED)
    parsed = await asyncio.to_thread(
        parse_feed, response.content, url=response.url, http_charset=response.charset, max_items=state.options.max_items
    )
    counts = _Counts()
    candidates = await asyncio.to_thread(_candidates, parsed, state, feed, counts)
    candidates = _unseen(state, feed, candidates, counts)
    backlog = not feed.backlog_loaded
    if not backlog and state.options.fetch_pages:
        candidates = list(await asyncio.gather(*(_complete_text(state, feed, c) for c in candidates)))
    fallback_language = feed.language or parsed.language
    candidates = await asyncio.to_thread(_with_languages, candidates, fallback_language)
    stored = _record_success(state, feed, candidates, etag=response.etag, last_modified=response.last_modified)
    counts.duplicate += len(candidates) - stored
    log.info(
        "feed %s: %d %s, %d duplicate",
        feed.url,
        stored,
        "backlog" if backlog else "new",
        counts.duplicate,
        extra={"feed": feed.url},
    )
    return FeedResult(
        feed.url,
        feed.name,
        FeedOutcome.OK,
        new=0 if backlog else stored,
        backlog=stored if backlog else 0,
        duplicate=counts.duplicate,
        too_old=counts.too_old,
        unusable=counts.unusable,
    )


def _candidates(parsed: ParsedFeed, state: _Pass, feed: _FeedState, counts: _Counts) -> list[_Candidate]:
    """Normalise the feed's items, dropping unusable and too old ones and repeats within the feed."""
    oldest = state.now - state.options.max_article_age
    seen: set[str] = set()
    candidates: list[_Candidate] = []
    for item in parsed.items:
        url = canonical_url(item.link) if item.link else None
        if url is None or len(url) > MAX_URL_LENGTH:
            counts.unusable += 1
            continue
        published = to_utc(item.published, state.now)
        if published < oldest:
            counts.too_old += 1
            continue
        guid = item.guid.strip() if item.guid else None
        if guid and len(guid) > MAX_GUID_LENGTH:
            guid = "sha256:" + hashlib.sha256(guid.encode()).hexdigest()
        content = html_to_text(item.content_html)
        teaser = html_to_text(item.summary_html)
        if len(content) >= state.options.fulltext_min_chars:
            text, kind = content, TextKind.FULL_TEXT
        else:
            text, kind = max(content, teaser, key=len), TextKind.TEASER
        title = (item.title or text[:120] or url)[:MAX_TITLE_LENGTH]
        digest = content_hash(url, title, text)
        keys = {url, digest} | ({f"guid:{guid}"} if guid else set())
        if keys & seen:  # the feed repeats an item (duplicate GUIDs, the same link twice)
            counts.duplicate += 1
            continue
        seen |= keys
        candidates.append(_Candidate(guid, url, title, text, kind, published, digest))
    if counts.duplicate:
        log.warning(
            "feed %s repeats %d items (same GUID, link or content); kept the first",
            feed.url,
            counts.duplicate,
            extra={"feed": feed.url},
        )
    return candidates


def _in_chunks(column: InstrumentedAttribute[Any], values: Iterable[str]) -> Iterable[ColumnElement[bool]]:
    ordered = sorted(set(values))
    for start in range(0, len(ordered), IN_CHUNK):
        yield column.in_(ordered[start : start + IN_CHUNK])


def _stored_duplicates(session: Session, feed_id: int, candidates: Sequence[_Candidate]) -> set[int]:
    """Indexes of the candidates that match a stored article by canonical URL, content hash or feed GUID."""
    urls: set[str] = set()
    hashes: set[str] = set()
    guids: set[str] = set()
    for condition in _in_chunks(Article.canonical_url, (c.url for c in candidates)):
        urls.update(session.scalars(select(Article.canonical_url).where(condition)))
    for condition in _in_chunks(Article.content_hash, (c.content_hash for c in candidates)):
        hashes.update(session.scalars(select(Article.content_hash).where(condition)))
    for condition in _in_chunks(Article.guid, (c.guid for c in candidates if c.guid)):
        guids.update(g for g in session.scalars(select(Article.guid).where(Article.feed_id == feed_id, condition)) if g)
    return {
        index
        for index, c in enumerate(candidates)
        if c.url in urls or c.content_hash in hashes or (c.guid is not None and c.guid in guids)
    }


def _unseen(state: _Pass, feed: _FeedState, candidates: list[_Candidate], counts: _Counts) -> list[_Candidate]:
    """The candidates that are neither stored nor taken by another feed of this pass; claims them."""
    if not candidates:
        return []
    with state.database.session() as session:
        stored = _stored_duplicates(session, feed.id, candidates)
    fresh = []
    for index, candidate in enumerate(candidates):
        if index in stored or candidate.url in state.claimed or candidate.content_hash in state.claimed:
            counts.duplicate += 1
            continue
        state.claimed.update((candidate.url, candidate.content_hash))
        fresh.append(candidate)
    return fresh


def _same_host(url: str, other: str) -> bool:
    return (urlsplit(url).hostname or "").lower() == (urlsplit(other).hostname or "").lower()


@dataclass(frozen=True)
class PageText:
    """What an article's page made of its feed text: the URL to keep, the text and its label."""

    url: str
    text: str
    kind: TextKind


async def fetch_page_text(
    http: HttpClient, url: str, teaser: str, *, feed_url: str, feed_allow_private: bool
) -> PageText:
    """Fetch a teaser's article page for its full text, rel=canonical and blocked label.

    A 401/402/403/451, a bot challenge or a paywall gives `BLOCKED` with the teaser kept; any other failure, a
    page that is not HTML, or one with less text than the teaser keeps the teaser. New items and backlog items
    (`bot.news.backfill`) both go through here, so they are treated alike.
    """
    # A trusted feed vouches for its own host only: an item linking elsewhere goes through the SSRF guard.
    allow_private = feed_allow_private and _same_host(url, feed_url)
    unchanged = PageText(url, teaser, TextKind.TEASER)
    try:
        response = await http.get(url, allow_private=allow_private, accept=PAGE_ACCEPT)
    except HTTPStatusError as error:
        log.info("page %s (feed %s): %s", url, feed_url, error, extra={"feed": feed_url})
        return replace(unchanged, kind=TextKind.BLOCKED) if blocked_by_status(error.status) else unchanged
    except FetchError as error:
        log.info("page %s (feed %s) not fetched: %s", url, feed_url, error, extra={"feed": feed_url})
        return unchanged
    if response.media_type not in PAGE_MEDIA_TYPES:
        return unchanged
    page = await asyncio.to_thread(
        extract_page, response.content, url=response.url, http_charset=response.charset, teaser=teaser
    )
    final = page.canonical_url or canonical_url(response.url) or url
    if len(final) > MAX_URL_LENGTH:
        final = url
    if page.blocked is not None:
        log.info("page %s (feed %s) blocked: %s", url, feed_url, page.blocked.value, extra={"feed": feed_url})
        return PageText(final, teaser, TextKind.BLOCKED)
    if len(page.text) > len(teaser):
        return PageText(final, page.text, TextKind.FULL_TEXT)
    return PageText(final, teaser, TextKind.TEASER)


async def _complete_text(state: _Pass, feed: _FeedState, candidate: _Candidate) -> _Candidate:
    """A teaser candidate with the text, URL and label its page gives (other candidates as they are)."""
    if candidate.kind is not TextKind.TEASER:
        return candidate
    page = await fetch_page_text(
        state.http, candidate.url, candidate.text, feed_url=feed.url, feed_allow_private=feed.allow_private
    )
    return replace(candidate, url=page.url, text=page.text, kind=page.kind)


def _with_languages(candidates: list[_Candidate], fallback: str | None) -> list[_Candidate]:
    languages = [detect_language(f"{c.title}\n{c.text}", fallback) for c in candidates]
    if fallback is None:
        # A feed that declares no language: an item too short to tell is in the language most of its items are in
        # (when most are in one), rather than of unknown language, which story clustering would take as English.
        counts = Counter(language for language in languages if language)
        if counts:
            usual, count = counts.most_common(1)[0]
            if count * 2 > len(languages):
                languages = [language or usual for language in languages]
    return [replace(c, language=language) for c, language in zip(candidates, languages, strict=True)]


def _record_success(
    state: _Pass,
    feed: _FeedState,
    candidates: Sequence[_Candidate],
    *,
    etag: str | None,
    last_modified: str | None,
) -> int:
    """Store the new articles and the feed's success in one transaction; returns how many were stored.

    Duplicates are checked again here, because another feed of the pass (or another process) may have stored
    the same article while this one was fetching pages. A unique-constraint race with another process is
    retried once.
    """
    for attempt in range(2):
        try:
            with state.database.session() as session:
                return _store(session, state, feed, candidates, etag=etag, last_modified=last_modified)
        except IntegrityError:
            if attempt:
                raise
            log.info(
                "feed %s: an article was stored concurrently; checking duplicates again",
                feed.url,
                extra={"feed": feed.url},
            )
    raise AssertionError("unreachable")


def _store(
    session: Session,
    state: _Pass,
    feed: _FeedState,
    candidates: Sequence[_Candidate],
    *,
    etag: str | None,
    last_modified: str | None,
) -> int:
    duplicates = _stored_duplicates(session, feed.id, candidates) if candidates else set()
    taken: set[str] = set()  # page canonical URLs can make two candidates one article
    stored = 0
    for index, c in enumerate(candidates):
        if index in duplicates or c.url in taken:
            continue
        taken.add(c.url)
        session.add(
            Article(
                canonical_url=c.url,
                guid=c.guid,
                content_hash=c.content_hash,
                title=c.title,
                outlet=feed.name,
                feed_id=feed.id,
                published_at=c.published_at,
                fetched_at=state.now,
                text=c.text,
                language=c.language,
                text_kind=c.kind,
                is_backlog=not feed.backlog_loaded,
                # a backlog teaser's page is fetched later, in the background (bot.news.backfill)
                page_pending=not feed.backlog_loaded and c.kind is TextKind.TEASER and state.options.fetch_pages,
            )
        )
        stored += 1
    row = session.get_one(Feed, feed.id)
    row.etag, row.last_modified = etag, last_modified
    row.backlog_loaded = True
    row.last_fetched_at = row.last_success_at = state.now
    row.consecutive_failures = 0
    row.last_error = None
    row.retry_after = None
    return stored


def _describe(error: Exception) -> str:
    # Our own errors carry a message meant for people; anything else is named, never dumped.
    message = str(error) if isinstance(error, BotError) else f"internal error ({type(error).__name__})"
    return message[:MAX_ERROR_LENGTH]


def _record_failure(state: _Pass, feed: _FeedState, error: Exception) -> FeedResult:
    """Record a failed poll and schedule the next try with exponential backoff."""
    failures = feed.consecutive_failures + 1
    # Counted in polls: retry at the next poll after one failure, then after 2, 4, 8 ... polls, capped at
    # MAX_BACKOFF. Half a poll is taken off so that the scheduler's jitter never pushes a try one poll later.
    interval = state.options.poll_interval
    delay = min(MAX_BACKOFF, interval * 2.0 ** min(failures - 1, 20)) - interval / 2
    retry_after = state.now + delay
    if isinstance(error, HTTPStatusError) and error.retry_after:
        retry_after = max(retry_after, state.now + timedelta(seconds=error.retry_after))
    message = _describe(error)
    with state.database.session() as session:
        row = session.get_one(Feed, feed.id)
        row.last_fetched_at = state.now
        row.consecutive_failures = failures
        row.last_error = message
        row.retry_after = retry_after
    log.error(
        "feed %s failed (%d in a row, next try after %s): %s",
        feed.url,
        failures,
        retry_after,
        message,
        extra={"feed": feed.url},
    )
    return FeedResult(
        feed.url,
        feed.name,
        FeedOutcome.FAILED,
        error=message,
        consecutive_failures=failures,
        retry_after=retry_after,
    )
