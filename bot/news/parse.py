"""Feed parsing: RSS 0.9x/1.0/2.0 and Atom through feedparser, behind safety checks.

Before feedparser sees a byte, the body is decoded with a charset that actually fits it (feeds often declare the
wrong one or none), DOCTYPE declarations with an internal subset or any ENTITY declaration are refused (billion
laughs, external entities), a plain DOCTYPE is removed so nothing external is ever loaded, and the items are
counted so a feed of 10,000 items is refused before it costs any parsing. Two common defects are repaired, since
real feeds are full of them: a bare `&` and HTML named entities such as `&nbsp;`. Anything else that is not
well-formed XML is an error, not a guess.

Errors (all are `FeedParseError`, a `BotError`, with a short message naming the problem):
    UnsafeFeedError, NotAFeedError, MalformedFeedError, TooManyItemsError
"""

from __future__ import annotations

import calendar
import codecs
import email.utils
import html.entities
import io
import re
import time
import unicodedata
import xml.sax
from dataclasses import dataclass
from typing import Any

import feedparser

from bot.errors import BotError
from bot.news.normalize import html_to_text, primary_language, strip_invisible

XML_DECLARATION = re.compile(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._:-]+)[\"']")
XML_DECLARATION_TEXT = re.compile(r"^\s*<\?xml[^>]*\?>")
ROOT_ELEMENT = re.compile(r"<([A-Za-z_][\w.:-]*)")
DOCTYPE = re.compile(r"<!DOCTYPE[^>\[]*(\[)?[^>]*>", re.IGNORECASE)
ITEM_TAG = re.compile(r"<(?:[\w-]+:)?(?:item|entry)[\s>/]")
CDATA = re.compile(r"(<!\[CDATA\[.*?\]\]>)", re.DOTALL)
AMPERSAND = re.compile(r"&(?:(#[0-9]+|#x[0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);)?")
XML_ENTITIES = frozenset({"amp", "lt", "gt", "quot", "apos"})
UTF_16_32 = ("utf-16", "utf-32")
# Without a byte-order mark, UTF-16 and UTF-32 show in the first bytes of "<" (XML 1.0, appendix F).
XML_FIRST_BYTES = (
    (b"\x00\x00\x00<", "utf-32-be"),
    (b"<\x00\x00\x00", "utf-32-le"),
    (b"\x00<", "utf-16-be"),
    (b"<\x00", "utf-16-le"),
)
BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

# Month names and abbreviations (accents folded, no trailing dot) in the languages of the bundled feeds, for
# RFC 822 dates written in them ("Seg, 24 Set 2018 19:42:40 -0300"), which feedparser knows only in English.
LOCAL_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            "jan janeiro ene enero januar janner janv janvier gen gennaio",
            "fev fevereiro feb febrero februar fevr fevrier febbraio",
            "mar marco marzo mrz marz mars",
            "abr abril apr april avr avril aprile",
            "mai maio may mayo mag maggio",
            "jun junho junio juni juin giu giugno",
            "jul julho julio juli juil juillet lug luglio",
            "ago agosto aug august aout",
            "set setembro sep sept septiembre setiembre september septembre settembre",
            "out outubro oct octubre okt oktober octobre ott ottobre",
            "nov novembro noviembre november novembre",
            "dez dezembro dic diciembre dezember dec decembre dicembre",
        ),
        start=1,
    )
    for name in names.split()
}
# Zone names feedparser does not know that German feeds use.
LOCAL_ZONES = {"mez": "+0100", "mesz": "+0200"}


class FeedParseError(BotError):
    """The body could not be used as a feed."""


class UnsafeFeedError(FeedParseError):
    """The document declares entities or a DTD subset (entity expansion, external entities)."""


class NotAFeedError(FeedParseError):
    """The body is empty, an HTML page, or XML that is neither RSS nor Atom."""


class MalformedFeedError(FeedParseError):
    """The document is not well-formed XML."""


class TooManyItemsError(FeedParseError):
    """The feed has more items than allowed."""


@dataclass(frozen=True)
class FeedItem:
    """One entry of a feed, as the feed gives it; links are not yet canonical."""

    guid: str | None
    link: str | None
    title: str
    summary_html: str  # RSS description / Atom summary: often a teaser
    content_html: str  # content:encoded / Atom content: the full text when the feed carries it
    published: time.struct_time | None  # UTC, as feedparser normalises it


@dataclass(frozen=True)
class ParsedFeed:
    """A parsed feed: its title, declared language and items in document order."""

    title: str
    language: str | None
    items: list[FeedItem]


def decode_body(body: bytes, http_charset: str | None = None) -> str:
    """Decode a feed or page body with the first charset that fits it.

    The order is: a byte-order mark; UTF-16/32 recognised by how "<" starts the document; a declared UTF-16/32
    (whose bytes often also pass as UTF-8); UTF-8, since bytes that decode as UTF-8 almost never are anything else;
    then the XML declaration's and the HTTP header's charsets; then Windows-1252 and Latin-1, which accept any bytes.
    """
    for bom, encoding in BOMS:
        if body.startswith(bom):
            return body.decode(encoding, errors="replace")
    for first, encoding in XML_FIRST_BYTES:
        if body.startswith(first):
            return body.decode(encoding, errors="replace")
    match = XML_DECLARATION.match(body[:200])
    declared = match.group(1).decode("ascii").lower() if match else None
    candidates = [declared] if declared and declared.startswith(UTF_16_32) else []
    candidates += ["utf-8", declared, http_charset, "windows-1252", "latin-1"]
    for encoding in candidates:
        if not encoding:
            continue
        try:
            return body.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
    raise AssertionError("unreachable: latin-1 decodes any bytes")


def _prepare(text: str, max_items: int) -> str:
    """Safety checks and repairs on the decoded document; returns the text feedparser will see."""
    text = XML_DECLARATION_TEXT.sub("", text.lstrip("\ufeff"), count=1)
    root = ROOT_ELEMENT.search(text)
    if root is None:
        raise NotAFeedError("not a feed: no XML element found")
    if root.group(1).lower() == "html":
        raise NotAFeedError("not a feed: the server sent an HTML page")
    prolog = text[: root.start()]
    if "<!entity" in prolog.lower():
        raise UnsafeFeedError("refused: the document declares entities")
    doctype = DOCTYPE.search(prolog)
    if doctype and doctype.group(1):
        raise UnsafeFeedError("refused: the document has a DTD internal subset")
    if doctype:
        # An external DTD reference (RSS 0.91 has one) is dropped, so no parser ever tries to load it.
        text = text[: doctype.start()] + text[doctype.end() :]
    items = len(ITEM_TAG.findall(text))
    if items > max_items:
        raise TooManyItemsError(f"the feed has {items} items; at most {max_items} are accepted")
    return _repair_entities(text)


def _repair_entity(match: re.Match[str]) -> str:
    name = match.group(1)
    if name is None:
        return "&amp;"  # a bare ampersand
    if name.startswith("#") or name in XML_ENTITIES:
        return match.group(0)
    codepoint = html.entities.name2codepoint.get(name)
    return f"&#{codepoint};" if codepoint is not None else "&amp;" + name + ";"


def _repair_entities(text: str) -> str:
    # CDATA sections are left alone: an ampersand in them is already literal.
    parts = CDATA.split(text)
    return "".join(part if part.startswith("<![CDATA[") else AMPERSAND.sub(_repair_entity, part) for part in parts)


def _link(entry: dict[str, Any]) -> str | None:
    link = entry.get("link")
    if link:
        return str(link)
    for candidate in entry.get("links", []):
        if candidate.get("rel", "alternate") == "alternate" and candidate.get("href"):
            return str(candidate["href"])
    # RSS items often have only a permalink GUID.
    guid = entry.get("id")
    return str(guid) if guid and str(guid).startswith(("http://", "https://")) else None


def _title(entry: dict[str, Any]) -> str:
    title = str(entry.get("title", ""))
    detail = entry.get("title_detail") or {}
    if "html" in str(detail.get("type", "")):
        title = html_to_text(title)
    return " ".join(strip_invisible(title).split())


def _content(entry: dict[str, Any]) -> str:
    values = [str(part.get("value", "")) for part in entry.get("content", [])]
    return max(values, key=len, default="")


def _published(entry: dict[str, Any]) -> time.struct_time | None:
    # Plain dict lookups: feedparser's own fallback from updated to published only adds a DeprecationWarning.
    for key in ("published", "updated", "created"):
        value = dict.get(entry, f"{key}_parsed")
        if value:
            return time.struct_time(value)
        raw = dict.get(entry, key)
        localized = parse_localized_date(str(raw)) if raw else None
        if localized is not None:
            return localized
    return None


def _fold(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word.casefold().rstrip("."))
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def parse_localized_date(text: str) -> time.struct_time | None:
    """An RFC 822 date whose day and month names are Portuguese, Spanish, German, French or Italian, in UTC.

    The weekday is ignored (it only repeats the date); a missing zone counts as UTC, as feedparser treats it.
    None when the text is not such a date.
    """
    words = text.split()
    if words and not words[0][:1].isdigit():  # "Seg," or "Seg., " or "Montag,": the weekday
        words = words[1:]
    if len(words) < 4 or not words[0].isdigit():
        return None
    month = LOCAL_MONTHS.get(_fold(words[1]))
    if month is None:
        return None
    zone = [LOCAL_ZONES.get(word.casefold(), word) for word in words[4:5]]
    english = " ".join([words[0], calendar.month_abbr[month], words[2], words[3], *zone])
    parts = email.utils.parsedate_tz(english)
    if parts is None or not 1 <= parts[2] <= calendar.monthrange(parts[0], month)[1]:  # no 31 Fev
        return None
    try:
        return time.gmtime(calendar.timegm(parts[:9]) - (parts[9] or 0))
    except (OverflowError, ValueError):
        return None


def parse_feed(body: bytes, *, url: str, http_charset: str | None = None, max_items: int = 1000) -> ParsedFeed:
    """Parse an RSS or Atom document.

    Args:
        body: the response body, undecoded.
        url: the feed's URL, against which relative links are resolved.
        http_charset: the charset the server declared, if any (often wrong; used only when it fits).
        max_items: more items than this is an error.

    Raises:
        FeedParseError: one of its subclasses, see the module docstring.
    """
    if not body.strip():
        raise NotAFeedError("not a feed: the response is empty")
    text = _prepare(decode_body(body, http_charset), max_items)
    document = ('<?xml version="1.0" encoding="utf-8"?>\n' + text).encode("utf-8")
    # A stream, never bytes or str: feedparser treats a string as a URL or a file name and would open it.
    result = feedparser.parse(
        io.BytesIO(document),
        response_headers={"content-type": "application/xml; charset=utf-8", "content-location": url},
    )
    problem = result.get("bozo_exception")
    if isinstance(problem, xml.sax.SAXParseException):
        line = (problem.getLineNumber() or 1) - 1  # one line was added in front: the new XML declaration
        raise MalformedFeedError(f"malformed XML: {problem.getMessage()} (line {line})")
    if not result.get("version"):  # a feed with no items and no title is still a valid, empty feed
        raise NotAFeedError("not a feed: neither RSS nor Atom")
    if len(result.entries) > max_items:
        raise TooManyItemsError(f"the feed has {len(result.entries)} items; at most {max_items} are accepted")
    items = [
        FeedItem(
            guid=str(entry["id"]) if entry.get("id") else None,
            link=_link(entry),
            title=_title(entry),
            summary_html=str(entry.get("summary", "")),
            content_html=_content(entry),
            published=_published(entry),
        )
        for entry in result.entries
    ]
    return ParsedFeed(
        title=" ".join(strip_invisible(str(result.feed.get("title", ""))).split()),
        language=primary_language(result.feed.get("language")),
        items=items,
    )
