"""The console platform: the same digests and answers as Discord and Slack, as plain terminal text."""

from __future__ import annotations

import sys
import textwrap
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TextIO

from bot.digests.model import ChannelRef, Digest, DigestItem
from bot.intelligence.results import Answer

if TYPE_CHECKING:
    from bot.service import LinkSummary

WIDTH = 100
CONSOLE_CHANNEL = ChannelRef("console", "local", "terminal")


def _when(item: DigestItem) -> str:
    return item.updated_at.strftime("%d %b %H:%M UTC")


def _wrap(text: str, indent: str) -> str:
    return textwrap.fill(text, WIDTH, initial_indent=indent, subsequent_indent=" " * len(indent))


def render_item(item: DigestItem, number: int, detailed: bool) -> str:
    """One story: title, meta line, summary lines with their source numbers, then the numbered sources."""
    tags = " · ".join([*item.countries[:4], *item.topics[:2]])
    meta = f"{item.outlet_count} outlet{'s' if item.outlet_count != 1 else ''} · {item.label} · {_when(item)}"
    lines = [_wrap(item.title, f"{number}. "), f"   {meta}" + (f" · {tags}" if tags else "")]
    summary = item.summary if detailed else item.summary[:2]
    lines += [_wrap(f"{line.text} [{line.source + 1}]", "   - ") for line in summary]
    sources = item.sources if detailed else item.sources[:3]
    for index, source in enumerate(sources, start=1):
        lines.append(f"   [{index}] {source.outlet}: {source.url} ({source.label})")
    lines += [_wrap(f"{related.title} (story {related.story_id})", "   Related: ") for related in item.related]
    return "\n".join(lines)


def render_digest(digest: Digest) -> str:
    """A digest as terminal text."""
    header = digest.heading  # a scheduled digest's heading carries its local time; a brief says "as of" below
    if "as_of" in digest.extra:
        header += f" (as of {datetime.fromisoformat(digest.extra['as_of']):%d %b %Y %H:%M UTC})"
    if not digest.items:
        return f"{header}\n\n{digest.empty_message}\n"
    detailed = digest.style == "detailed"
    body = "\n\n".join(render_item(item, n, detailed) for n, item in enumerate(digest.items, start=1))
    return f"{header}\n{'=' * min(len(header), WIDTH)}\n\n{body}\n"


def render_link_summary(summary: LinkSummary) -> str:
    """A link summary (`summarize URL`): title, site and what it was based on, the sentences, then the link."""
    lines = [_wrap(summary.title, ""), f"{summary.site} · summary based on: {summary.label}", ""]
    lines += [_wrap(sentence, "  - ") for sentence in summary.sentences]
    if summary.note:
        if summary.sentences:
            lines.append("")
        lines.append(_wrap(summary.note, ""))
    lines += ["", summary.url]
    return "\n".join(lines) + "\n"


QUOTES = '"“”„«»'


def render_answer(answer: Answer) -> str:
    """An answer: its message, each sentence quoted with its citation and the outlets that also report it, any
    note on articles not searched yet, then the "as of" stamp."""
    lines = [answer.message]
    for number, sentence in enumerate(answer.sentences, start=1):
        quoted = sentence.text.strip().strip(QUOTES)  # the sentence's own quotation marks would double ours
        lines.append(_wrap(f"“{quoted}”", f"{number}. "))
        lines.append(f"   — {sentence.outlet}: “{sentence.title}”, {sentence.published_at:%d %b %Y} ({sentence.label})")
        lines.append(f"     {sentence.url}")
        if sentence.also_reported_by:
            others = ", ".join(f"{other.outlet} ({other.url})" for other in sentence.also_reported_by)
            lines.append(_wrap(f"also reported by {others}", "     "))
    if answer.note:
        lines.append(_wrap(f"Note: {answer.note}", ""))
    lines.append(f"As of {answer.as_of.astimezone(UTC):%d %b %Y %H:%M UTC}.")
    return "\n".join(lines) + "\n"


class ConsolePublisher:
    """Publishes digests to a text stream (standard output by default)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout
        self.posted = 0

    async def publish(
        self, channel: ChannelRef, digest: Digest, idempotency_key: str, *, retry_since: datetime | None = None
    ) -> str:
        """Write the digest; the message id is a running count."""
        self.stream.write(render_digest(digest) + "\n")
        self.stream.flush()
        self.posted += 1
        return f"console-{self.posted}"
