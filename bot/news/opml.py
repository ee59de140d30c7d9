"""OPML subscription lists, the format feed readers and other feed bots import and export.

Reading takes every ``<outline>`` with an ``xmlUrl``, at any depth (folders are flattened), named by its ``title``
or ``text``; ``language`` (OPML 2.0) and ``country`` (an extra attribute that `to_opml` writes, as OPML allows)
are read when present. The file is parsed with defusedxml and no DTD, so entity tricks cannot blow it up, and it
is read only up to MAX_OPML_BYTES. What the entries are worth is checked by whoever stores them: the FEEDS
setting (`load_opml_sources`) or `feeds import` (`bot.news.feeds.import_feeds`, the checks of `feeds add`).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import urlsplit

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from bot.errors import ConfigError
from bot.news.sources import MAX_NAME_LENGTH, FeedSource, check_feed_url, normalise_country, normalise_language

MAX_OPML_BYTES = 5_000_000
MAX_OUTLINES = 10_000


@dataclass(frozen=True)
class OpmlFeed:
    """One feed outline as the file gives it (not validated yet)."""

    url: str
    name: str = ""
    language: str | None = None
    country: str | None = None


def parse_opml(data: bytes) -> list[OpmlFeed]:
    """The feed outlines of an OPML document, in document order, each URL once (the first wins).

    Raises:
        ValueError: the document is not OPML, is malformed or too big, or has no feed outline.
    """
    if len(data) > MAX_OPML_BYTES:
        raise ValueError(f"it is larger than {MAX_OPML_BYTES // 1_000_000} MB")
    try:
        root = fromstring(data, forbid_dtd=True)
    except (ET.ParseError, DefusedXmlException) as error:
        raise ValueError(f"it is not well-formed XML ({error})") from None
    if root.tag.lower() != "opml":
        raise ValueError(f"its root element is <{root.tag}>, not <opml>")
    feeds: dict[str, OpmlFeed] = {}
    for outline in root.iter():
        if outline.tag.lower() != "outline":
            continue
        attributes = {key.lower(): value.strip() for key, value in outline.attrib.items()}
        url = attributes.get("xmlurl", "")
        if not url:
            continue  # a folder, or a plain link
        if len(feeds) >= MAX_OUTLINES:
            raise ValueError(f"it lists more than {MAX_OUTLINES} feeds")
        language = attributes.get("language", "").replace("_", "-").split("-")[0] or None  # en-US -> en
        name = " ".join((attributes.get("title") or attributes.get("text") or "").split())
        feeds.setdefault(url, OpmlFeed(url, name, language, attributes.get("country") or None))
    if not feeds:
        raise ValueError("it has no outline with an xmlUrl")
    return list(feeds.values())


def read_opml(path: Path) -> list[OpmlFeed]:
    """Read and parse an OPML file; ValueError says what is wrong with it (OSError when it cannot be read)."""
    with path.open("rb") as handle:
        data = handle.read(MAX_OPML_BYTES + 1)
    return parse_opml(data)


def load_opml_sources(path: Path) -> list[FeedSource]:
    """The feeds an OPML file names, as configured sources for FEEDS; ConfigError names the file and the entry."""
    try:
        entries = read_opml(path)
    except (OSError, ValueError) as error:
        raise ConfigError(f"FEEDS: cannot read {path}: {error}") from None
    sources = []
    for number, entry in enumerate(entries, start=1):
        try:
            url = check_feed_url(entry.url, allow_private=True)
            if len(entry.name) > MAX_NAME_LENGTH:
                raise ValueError(f"the name is longer than {MAX_NAME_LENGTH} characters")
            sources.append(
                FeedSource(
                    url=url,
                    name=entry.name or (urlsplit(url).hostname or url).removeprefix("www."),
                    country=normalise_country(entry.country),
                    language=normalise_language(entry.language),
                )
            )
        except ValueError as error:
            raise ConfigError(f"FEEDS: {path}, feed #{number}: {error}") from None
    return sources


def to_opml(sources: Iterable[FeedSource], *, title: str, created: datetime) -> bytes:
    """An OPML 2.0 document listing `sources`, readable by feed readers and by `parse_opml`."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    ET.SubElement(head, "dateCreated").text = format_datetime(created, usegmt=True)
    body = ET.SubElement(root, "body")
    for source in sources:
        attributes = {"type": "rss", "text": source.name, "title": source.name, "xmlUrl": source.url}
        if source.language:
            attributes["language"] = source.language
        if source.country:
            attributes["country"] = source.country
        ET.SubElement(body, "outline", attributes)
    ET.indent(root)
    document: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return document + b"\n"
