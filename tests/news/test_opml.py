"""OPML: reading subscription lists (nested, sloppy, hostile), writing them, FEEDS=file.opml, and `feeds import`."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.errors import ConfigError, UserInputError
from bot.news.feeds import add_feed, import_feeds, list_feeds, remove_feed
from bot.news.opml import MAX_OPML_BYTES, OpmlFeed, parse_opml, to_opml
from bot.news.sources import FeedSource, configured_sources
from bot.storage import Database, Feed

READER_EXPORT = b"""<?xml version="1.0" encoding="UTF-8"?>
<opml version="1.0">
  <head><title>My subscriptions</title></head>
  <body>
    <outline text="World" title="World">
      <outline type="rss" text="BBC World" title="BBC News - World" xmlUrl="https://feeds.bbci.co.uk/news/world/rss.xml"
               htmlUrl="https://www.bbc.co.uk/news/world" language="en-GB"/>
      <outline type="rss" text="Le Monde  international" xmlUrl="https://www.lemonde.fr/international/rss_full.xml"/>
    </outline>
    <outline type="link" text="Just a page" url="https://example.org/"/>
    <outline type="rss" text="BBC again" xmlURL="https://feeds.bbci.co.uk/news/world/rss.xml"/>
    <outline type="rss" xmlUrl="https://www.example.org/feed"/>
  </body>
</opml>"""


def test_reader_export_gives_every_feed_once_folders_flattened():
    """Nested folders, title or text as the name, en-GB as en, any attribute case, the first of a repeated URL."""
    assert parse_opml(READER_EXPORT) == [
        OpmlFeed("https://feeds.bbci.co.uk/news/world/rss.xml", "BBC News - World", "en"),
        OpmlFeed("https://www.lemonde.fr/international/rss_full.xml", "Le Monde international"),
        OpmlFeed("https://www.example.org/feed", ""),
    ]


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (b"<opml><body><outline", "not well-formed XML"),
        (b"<rss version='2.0'><channel/></rss>", "root element is <rss>"),
        (b"<opml version='2.0'><body><outline text='folder'/></body></opml>", "no outline with an xmlUrl"),
        (
            b'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>'
            b"<opml><body><outline xmlUrl='https://a.example/&b;'/></body></opml>",
            "not well-formed XML",
        ),
        (b"<opml>" + b" " * MAX_OPML_BYTES + b"</opml>", "larger than 5 MB"),
    ],
)
def test_broken_or_hostile_documents_are_refused_with_the_reason(document: bytes, message: str):
    """Malformed XML, another format, no feeds, a DTD with entities (expansion bombs) and huge files say why."""
    with pytest.raises(ValueError, match=message):
        parse_opml(document)


def test_written_opml_reads_back_the_same():
    """`to_opml` writes OPML 2.0 that `parse_opml` (and feed readers) read back: names, languages, countries."""
    sources = [
        FeedSource("https://a.example/rss", "A & Sons <World>", "GB", "en"),
        FeedSource("https://b.example/atom?x=1&y=2", "B"),
    ]
    document = to_opml(sources, title="Geobrief feeds", created=datetime(2026, 12, 1, tzinfo=UTC))
    assert document.startswith(b"<?xml version='1.0' encoding='utf-8'?>\n<opml version=\"2.0\">")
    assert b"<dateCreated>Tue, 01 Dec 2026 00:00:00 GMT</dateCreated>" in document
    assert parse_opml(document) == [
        OpmlFeed("https://a.example/rss", "A & Sons <World>", "en", "GB"),
        OpmlFeed("https://b.example/atom?x=1&y=2", "B"),
    ]


def test_feeds_setting_takes_an_opml_file(tmp_path: Path):
    """FEEDS=subscriptions.opml polls its feeds; unnamed ones are named after their host."""
    path = tmp_path / "subscriptions.OPML"
    path.write_bytes(READER_EXPORT)
    assert configured_sources(str(path)) == [
        FeedSource("https://feeds.bbci.co.uk/news/world/rss.xml", "BBC News - World", None, "en"),
        FeedSource("https://www.lemonde.fr/international/rss_full.xml", "Le Monde international"),
        FeedSource("https://www.example.org/feed", "example.org"),
    ]


def test_feeds_setting_names_the_file_and_entry_that_is_wrong(tmp_path: Path):
    """A bad entry or an unreadable file stops start-up with a ConfigError that points at it."""
    path = tmp_path / "feeds.opml"
    path.write_text("<opml><body><outline xmlUrl='https://a.example/rss'/><outline xmlUrl='gopher://b'/></body></opml>")
    with pytest.raises(ConfigError, match=r"FEEDS: .*feeds.opml, feed #2: a feed URL must start with http"):
        configured_sources(str(path))
    with pytest.raises(ConfigError, match=r"FEEDS: cannot read .*missing.opml"):
        configured_sources(str(tmp_path / "missing.opml"))


def test_import_adds_new_feeds_and_reports_listed_ones(database: Database):
    """Feeds already polled are left alone and reported; a removed one comes back; the rest are added."""
    add_feed(database, "https://feeds.bbci.co.uk/news/world/rss.xml", name="BBC World")
    add_feed(database, "https://www.example.org/feed")
    remove_feed(database, "https://www.example.org/feed")
    report = import_feeds(database, parse_opml(READER_EXPORT))
    assert [(feed.name, feed.language) for feed in report.added] == [
        ("Le Monde international", None),
        ("example.org", None),
    ]
    assert report.already_listed == ("https://feeds.bbci.co.uk/news/world/rss.xml",)
    assert [feed.name for feed in list_feeds(database)] == ["BBC World", "Le Monde international", "example.org"]
    with database.session() as session:
        assert not any(feed.allow_private for feed in session.scalars(select(Feed)))


def test_import_checks_every_feed_as_add_does_and_adds_nothing_if_one_is_bad(database: Database):
    """A private address or a bad language anywhere in the file: nothing is added, and each bad entry is named."""
    entries = [
        OpmlFeed("https://good.example/rss", "Good"),
        OpmlFeed("http://192.168.1.1/rss", "Router"),
        OpmlFeed("https://lang.example/rss", "Lang", language="english"),
    ]
    with pytest.raises(UserInputError) as caught:
        import_feeds(database, entries)
    message = str(caught.value)
    assert message.startswith("Nothing was imported: 2 of 3 feeds are invalid.")
    assert "#2 http://192.168.1.1/rss: that address is on a private network" in message
    assert "#3 https://lang.example/rss: language must be a code such as en or de" in message
    assert list_feeds(database, include_removed=True) == []
    # An operator's intranet list passes with --allow-private, as with `feeds add`.
    report = import_feeds(database, entries[:2], allow_private=True)
    assert [feed.url for feed in report.added] == ["https://good.example/rss", "http://192.168.1.1/rss"]
