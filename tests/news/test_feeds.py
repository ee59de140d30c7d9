"""Feed management (add, remove, list, seed from config) and the feed registry."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from bot.errors import ConfigError, UserInputError
from bot.news.feeds import add_feed, failing_feeds, list_feeds, remove_feed, sync_sources
from bot.news.sources import BUNDLED_FEEDS, FeedSource, configured_sources, load_sources_file
from bot.storage import Database, Feed


def test_bundled_registry_is_varied_and_complete():
    """The default list has about 25 feeds from many countries, each with name, URL, country and language."""
    sources = configured_sources("")
    assert 20 <= len(sources) <= 30
    assert all(s.name and s.url.startswith(("http://", "https://")) and s.country and s.language for s in sources)
    assert len({s.country for s in sources}) >= 15
    assert len({s.language for s in sources}) >= 3
    assert len({s.url for s in sources}) == len(sources)


def test_feeds_setting_with_urls_replaces_the_registry():
    """FEEDS as comma-separated URLs gives exactly those feeds, named by host."""
    sources = configured_sources(" https://www.example.org/rss , http://127.0.0.1:8080/feed.xml,")
    assert sources == [
        FeedSource("https://www.example.org/rss", "example.org"),
        FeedSource("http://127.0.0.1:8080/feed.xml", "127.0.0.1"),
    ]


def test_feeds_setting_with_a_path_reads_that_file(tmp_path: Path):
    """FEEDS as a path reads a file in the bundled format."""
    path = tmp_path / "mine.toml"
    path.write_text('[[feeds]]\nname = "Mine"\nurl = "https://mine.example/rss"\ncountry = "nz"\nlanguage = "EN"\n')
    assert configured_sources(str(path)) == [FeedSource("https://mine.example/rss", "Mine", "NZ", "en")]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not toml [", "cannot read"),
        ('[[feeds]]\nname = "x"\n', "feed #1: every entry needs a url"),
        ('[[feeds]]\nname = "x"\nurl = "ftp://x.example/"\n', "feed #1: a feed URL must start with http"),
        ('[[feeds]]\nname = "x"\nurl = "https://x.example/"\ncountry = "Germany"\n', "two-letter code"),
        ("title = 'no feeds'\n", "has no"),
    ],
)
def test_bad_feeds_file_is_a_config_error(tmp_path: Path, content: str, message: str):
    """A broken feeds file stops start-up with a message naming the file and the problem."""
    path = tmp_path / "feeds.toml"
    path.write_text(content)
    with pytest.raises(ConfigError, match=message):
        load_sources_file(path)


def test_missing_feeds_file_is_a_config_error():
    """A FEEDS path that does not exist is reported."""
    with pytest.raises(ConfigError, match="cannot read"):
        configured_sources("/nonexistent/feeds.toml")


def test_bundled_file_is_the_default():
    """The bundled registry is the file shipped next to the code."""
    assert configured_sources("") == load_sources_file(BUNDLED_FEEDS)


def test_add_list_remove_and_re_add(database: Database):
    """A feed added by a user is listed as new, removed, and re-enabled (as backlog) when added again."""
    health = add_feed(database, " https://news.example/world.rss ", name="Example World", country="fr", language="FR")
    assert (health.url, health.name, health.country, health.language, health.status) == (
        "https://news.example/world.rss",
        "Example World",
        "FR",
        "fr",
        "new",
    )
    assert [h.url for h in list_feeds(database)] == ["https://news.example/world.rss"]

    removed = remove_feed(database, "https://news.example/world.rss")
    assert removed.status == "removed"
    assert list_feeds(database) == []
    assert [h.status for h in list_feeds(database, include_removed=True)] == ["removed"]

    with database.session() as session:
        session.scalars(select(Feed)).one().backlog_loaded = True
    add_feed(database, "https://news.example/world.rss")
    with database.session() as session:
        feed = session.scalars(select(Feed)).one()
        assert (feed.enabled, feed.backlog_loaded, feed.allow_private) == (True, False, False)


def test_added_feed_is_named_after_its_host(database: Database):
    """Without a name, the host (without www.) names the feed."""
    assert add_feed(database, "https://www.example.org/rss").name == "example.org"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("not a url", "without spaces"),
        ("ftp://news.example/feed", "must start with http"),
        ("https://user:secret@news.example/feed", "user name or password"),
        ("http://127.0.0.1/feed", "private network"),
        ("http://localhost:8080/feed", "private network"),
        ("http://10.0.0.5/feed", "private network"),
        ("http://printer.local/feed", "private network"),
        ("https://news.example:99999/feed", "not a valid URL"),
    ],
)
def test_add_feed_refuses_bad_urls_politely(database: Database, url: str, message: str):
    """Bad or private URLs from users raise a UserInputError that says what is wrong."""
    with pytest.raises(UserInputError, match=message):
        add_feed(database, url)
    assert list_feeds(database, include_removed=True) == []


def test_add_feed_refuses_duplicates_and_bad_metadata(database: Database):
    """A feed already polled, a bad country or language, or a huge name is refused."""
    add_feed(database, "https://news.example/rss")
    with pytest.raises(UserInputError, match="already on the feed list"):
        add_feed(database, "https://news.example/rss")
    with pytest.raises(UserInputError, match="two-letter"):
        add_feed(database, "https://other.example/rss", country="FRA")
    with pytest.raises(UserInputError, match="language"):
        add_feed(database, "https://other.example/rss", language="english")
    with pytest.raises(UserInputError, match="name"):
        add_feed(database, "https://other.example/rss", name="x" * 300)


def test_remove_unknown_feed_is_a_user_error(database: Database):
    """Removing a URL that is not polled says so."""
    with pytest.raises(UserInputError, match="No feed"):
        remove_feed(database, "https://nowhere.example/rss")


def test_operator_may_add_private_feeds(database: Database):
    """allow_private (CLI, operator) accepts an intranet feed and remembers the trust."""
    add_feed(database, "http://10.0.0.5/feed", allow_private=True)
    with database.session() as session:
        assert session.scalars(select(Feed)).one().allow_private


def test_sync_sources_adds_configured_feeds_once_and_respects_removal(database: Database):
    """Configured feeds are added once, trusted and kept in step; one that was removed is not brought back."""
    sources = [FeedSource("http://127.0.0.1:1/a", "A", "GB", "en"), FeedSource("http://127.0.0.1:1/b", "B")]
    assert sync_sources(database, sources) == 2
    assert sync_sources(database, sources) == 0
    remove_feed(database, "http://127.0.0.1:1/b")
    sync_sources(database, [FeedSource("http://127.0.0.1:1/a", "A renamed"), sources[1]])
    assert [(h.name, h.country, h.enabled) for h in list_feeds(database, include_removed=True)] == [
        ("A renamed", "GB", True),
        ("B", None, False),
    ]
    with database.session() as session:
        assert all(feed.allow_private for feed in session.scalars(select(Feed)))


def test_failing_feeds_are_those_with_three_failures(database: Database):
    """failing_feeds lists enabled feeds with three or more failures in a row."""
    add_feed(database, "https://a.example/rss")
    add_feed(database, "https://b.example/rss")
    with database.session() as session:
        feed = session.scalars(select(Feed).where(Feed.url == "https://a.example/rss")).one()
        feed.consecutive_failures, feed.last_error = 3, "HTTP 503 Service Unavailable"
    assert [(h.url, h.last_error) for h in failing_feeds(database)] == [
        ("https://a.example/rss", "HTTP 503 Service Unavailable")
    ]
