"""Builders for feed documents and article pages used by the news tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from xml.sax.saxutils import escape

ARTICLE_TEXT = (
    "Foreign ministers from twelve countries met in Geneva on Tuesday to discuss a ceasefire proposal. "
    "The talks, which lasted more than nine hours, ended with a joint statement that called for an immediate "
    "halt to hostilities and the opening of humanitarian corridors. Diplomats said the agreement was fragile "
    "and depended on guarantees that neither side had yet accepted. Observers noted that the envoy had spent "
    "weeks shuttling between capitals before the meeting. A second round of negotiations is expected next month, "
    "when military representatives are due to join the delegations for the first time."
)


@dataclass(frozen=True)
class Item:
    title: str
    link: str
    guid: str | None = None
    description: str = "A short teaser about the talks."
    content: str | None = None
    published: datetime | None = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def rss(items: list[Item], *, title: str = "Test feed", encoding: str = "utf-8", declaration: bool = True) -> bytes:
    """An RSS 2.0 document with content:encoded for items that have content."""
    parts = []
    for item in items:
        fields = [f"<title>{escape(item.title)}</title>", f"<link>{escape(item.link)}</link>"]
        if item.guid is not None:
            fields.append(f'<guid isPermaLink="false">{escape(item.guid)}</guid>')
        fields.append(f"<description>{escape(item.description)}</description>")
        if item.content is not None:
            fields.append(f"<content:encoded><![CDATA[{item.content}]]></content:encoded>")
        if item.published is not None:
            fields.append(f"<pubDate>{format_datetime(item.published, usegmt=True)}</pubDate>")
        parts.append("<item>" + "".join(fields) + "</item>")
    head = f'<?xml version="1.0" encoding="{encoding}"?>\n' if declaration else ""
    document = (
        f'{head}<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
        f"<channel><title>{escape(title)}</title><link>http://example.org/</link><language>en</language>"
        + "".join(parts)
        + "</channel></rss>"
    )
    return document.encode(encoding)


def article_page(title: str, text: str = ARTICLE_TEXT, *, canonical: str | None = None, extra_head: str = "") -> str:
    """An article page with navigation and footer around the text, as trafilatura meets them."""
    link = f'<link rel="canonical" href="{canonical}">' if canonical else ""
    paragraphs = "".join(f"<p>{sentence.strip()}.</p>" for sentence in text.split(". ") if sentence.strip())
    return (
        f"<!DOCTYPE html><html><head><title>{title}</title>{link}{extra_head}</head><body>"
        "<nav><a href='/'>Home</a> <a href='/world'>World</a> <a href='/sport'>Sport</a></nav>"
        f"<article><h1>{title}</h1>{paragraphs}</article>"
        "<footer>© Example News. All rights reserved. Contact us. Privacy policy.</footer></body></html>"
    )
