"""Feed management that the service layer and the CLI call: add, import, remove, list with health, seed from config.

Removing a feed disables its row rather than deleting it: its health history stays, and a configured list that
still names it does not bring it back at the next start. Adding it again re-enables it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot.errors import UserInputError
from bot.news.opml import OpmlFeed
from bot.news.sources import (
    MAX_NAME_LENGTH,
    FeedSource,
    check_feed_url,
    normalise_country,
    normalise_language,
)
from bot.storage import Article, Database, Feed

log = logging.getLogger(__name__)

# After this many failed polls in a row a feed counts as failing, and users are told.
FAILING_AFTER = 3


@dataclass(frozen=True)
class FeedHealth:
    """A feed and how its polling goes, for `/news feeds` and `python -m bot feeds`."""

    url: str
    name: str
    country: str | None
    language: str | None
    enabled: bool
    last_fetched_at: datetime | None
    last_success_at: datetime | None
    consecutive_failures: int
    last_error: str | None
    retry_after: datetime | None  # no poll before this time
    pages_waiting: int = 0  # backlog articles whose page the backfill has not fetched yet

    @property
    def status(self) -> str:
        """One word: removed, new (never fetched), ok, erroring (a few failures) or failing."""
        if not self.enabled:
            return "removed"
        if self.consecutive_failures >= FAILING_AFTER:
            return "failing"
        if self.consecutive_failures:
            return "erroring"
        return "ok" if self.last_success_at else "new"

    @classmethod
    def of(cls, feed: Feed, pages_waiting: int = 0) -> FeedHealth:
        """The health of a stored feed."""
        return cls(
            url=feed.url,
            name=feed.name,
            country=feed.country,
            language=feed.language,
            enabled=feed.enabled,
            last_fetched_at=feed.last_fetched_at,
            last_success_at=feed.last_success_at,
            consecutive_failures=feed.consecutive_failures,
            last_error=feed.last_error,
            retry_after=feed.retry_after,
            pages_waiting=pages_waiting,
        )


def check_new_feed(
    url: str,
    *,
    name: str | None = None,
    country: str | None = None,
    language: str | None = None,
    allow_private: bool = False,
) -> FeedSource:
    """Check a feed that someone asks to add (`add_feed`, `import_feeds`); ValueError says what is wrong.

    Returns:
        The feed as it will be stored: URL stripped, name defaulting to the host, codes normalised.
    """
    url = check_feed_url(url, allow_private=allow_private)
    country = normalise_country(country)
    language = normalise_language(language)
    name = " ".join((name or "").split()) or (urlsplit(url).hostname or url).removeprefix("www.")
    if len(name) > MAX_NAME_LENGTH:
        raise ValueError(f"the name is longer than {MAX_NAME_LENGTH} characters")
    return FeedSource(url=url, name=name, country=country, language=language)


def add_feed(
    database: Database,
    url: str,
    *,
    name: str | None = None,
    country: str | None = None,
    language: str | None = None,
    allow_private: bool = False,
) -> FeedHealth:
    """Add a feed (or re-enable a removed one); it is polled from the next scheduler sync on.

    Its first fetch stores the items it already carries as backlog, so adding a feed never floods a digest.

    Args:
        database: where feeds live.
        url: the feed's http(s) URL.
        name: the outlet name shown in digests; defaults to the host.
        country: ISO 3166-1 alpha-2 code of the publisher.
        language: ISO 639-1 code of the feed.
        allow_private: trust the URL with private addresses (operators only; never for a chat user's URL).

    Raises:
        UserInputError: the URL, name, country or language is invalid, or the feed is already polled.
    """
    try:
        source = check_new_feed(url, name=name, country=country, language=language, allow_private=allow_private)
    except ValueError as error:
        raise UserInputError(f"Cannot add that feed: {error}.") from None
    with database.session() as session:
        feed = session.scalars(select(Feed).where(Feed.url == source.url)).one_or_none()
        if feed is not None and feed.enabled:
            raise UserInputError(f"{source.url} is already on the feed list, as {feed.name!r}.")
        return _store_new_feed(session, feed, source, allow_private=allow_private)


def _store_new_feed(session: Session, feed: Feed | None, source: FeedSource, *, allow_private: bool) -> FeedHealth:
    """Insert the feed, or re-enable its removed row."""
    if feed is None:
        feed = Feed(
            url=source.url,
            name=source.name,
            country=source.country,
            language=source.language,
            allow_private=allow_private,
        )
        session.add(feed)
    else:
        feed.enabled = True
        feed.name = source.name
        feed.country, feed.language = source.country or feed.country, source.language or feed.language
        feed.allow_private = feed.allow_private or allow_private
        # Back after a pause: what it carries now is backlog, not news, and old failures are forgotten.
        feed.backlog_loaded = False
        feed.consecutive_failures, feed.last_error, feed.retry_after = 0, None, None
    session.flush()
    log.info("feed %s added as %r", source.url, source.name, extra={"feed": source.url})
    return FeedHealth.of(feed)


@dataclass(frozen=True)
class ImportReport:
    """What `import_feeds` did: the feeds added, and the URLs that were already on the list."""

    added: tuple[FeedHealth, ...]
    already_listed: tuple[str, ...]


def import_feeds(database: Database, entries: Sequence[OpmlFeed], *, allow_private: bool = False) -> ImportReport:
    """Add the feeds of a subscription list, with the checks of `add_feed`, all or nothing.

    Every entry is checked first; if any is invalid, nothing is added and the error lists each bad entry by its
    position. Feeds already on the list are left as they are and reported.

    Raises:
        UserInputError: one or more entries are invalid (nothing was added).
    """
    problems: list[str] = []
    sources: dict[str, FeedSource] = {}
    for number, entry in enumerate(entries, start=1):
        try:
            source = check_new_feed(
                entry.url,
                name=entry.name,
                country=entry.country,
                language=entry.language,
                allow_private=allow_private,
            )
        except ValueError as error:
            problems.append(f"  #{number} {entry.url[:200]}: {error}")
            continue
        sources.setdefault(source.url, source)
    if problems:
        count = f"{len(problems)} of {len(entries)} feeds are" if len(problems) > 1 else f"1 of {len(entries)} feeds is"
        raise UserInputError(f"Nothing was imported: {count} invalid.\n" + "\n".join(problems))
    added: list[FeedHealth] = []
    already: list[str] = []
    with database.session() as session:
        existing = {feed.url: feed for feed in session.scalars(select(Feed).where(Feed.url.in_(list(sources))))}
        for source in sources.values():
            feed = existing.get(source.url)
            if feed is not None and feed.enabled:
                already.append(source.url)
            else:
                added.append(_store_new_feed(session, feed, source, allow_private=allow_private))
    return ImportReport(tuple(added), tuple(already))


def remove_feed(database: Database, url: str) -> FeedHealth:
    """Stop polling a feed; its articles stay. Raises UserInputError when no polled feed has that URL."""
    with database.session() as session:
        feed = session.scalars(select(Feed).where(Feed.url == url.strip(), Feed.enabled)).one_or_none()
        if feed is None:
            raise UserInputError(f"No feed with the URL {url.strip()!r} is being polled; list the feeds to see them.")
        feed.enabled = False
        # No more requests to it: backlog articles still waiting for their page stay the teasers they are.
        session.execute(
            update(Article).where(Article.feed_id == feed.id, Article.page_pending).values(page_pending=False)
        )
        log.info("feed %s removed", feed.url, extra={"feed": feed.url})
        return FeedHealth.of(feed)


def list_feeds(database: Database, *, include_removed: bool = False) -> list[FeedHealth]:
    """The feeds with their health, by name."""
    query = select(Feed).order_by(Feed.name, Feed.url)
    if not include_removed:
        query = query.where(Feed.enabled)
    waiting = pages_waiting(database)
    with database.session() as session:
        return [FeedHealth.of(feed, waiting.get(feed.id, 0)) for feed in session.scalars(query)]


def pages_waiting(database: Database) -> dict[int | None, int]:
    """How many backlog articles wait for their page (see bot.news.backfill), by feed id."""
    query = select(Article.feed_id, func.count()).where(Article.page_pending).group_by(Article.feed_id)
    with database.session() as session:
        return {feed_id: int(count) for feed_id, count in session.execute(query)}


def failing_feeds(database: Database) -> list[FeedHealth]:
    """Enabled feeds that failed FAILING_AFTER polls in a row or more: what users should be told about."""
    return [health for health in list_feeds(database) if health.status == "failing"]


def sync_sources(database: Database, sources: Iterable[FeedSource]) -> int:
    """Make sure every configured feed has a row; returns how many were added.

    Configured feeds are trusted (`allow_private`), and their name, country and language follow the configuration.
    A configured feed that was removed stays removed.
    """
    added = 0
    with database.session() as session:
        existing = {feed.url: feed for feed in session.scalars(select(Feed))}
        for source in sources:
            feed = existing.get(source.url)
            if feed is None:
                feed = Feed(url=source.url, name=source.name, country=source.country, language=source.language)
                session.add(feed)
                existing[source.url] = feed
                added += 1
            else:
                feed.name = source.name
                feed.country = source.country or feed.country
                feed.language = source.language or feed.language
            feed.allow_private = True
    if added:
        log.info("added %d configured feeds", added)
    return added
