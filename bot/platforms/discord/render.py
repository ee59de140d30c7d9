"""Digests, answers, link summaries, settings and feed lists as Discord messages that respect Discord's limits.

Pure: this module builds `discord.Embed`s and text and sends nothing. Every string that comes from outside the bot
(article titles and sentences, outlet and feed names, page titles, what users typed) goes through `clean()` or
`plain()`, which flatten whitespace, escape Markdown where Discord renders it and break mentions, so a headline can
neither reformat a message nor ping anyone, whatever `allowed_mentions` says.

Long output is split at story boundaries: one embed per story, embeds packed into messages of at most ten embeds and
6000 embed characters. A story too long for its card loses its last summary lines and sources (with a "+N more"),
never half a link.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

import discord

from bot.digests.model import Digest, SourceLink
from bot.digests.present import PresentedItem, ShownSource, more_command, present_digest, present_update
from bot.digests.subscriptions import SubscriptionInfo
from bot.intelligence.results import Answer, CitedSentence
from bot.intelligence.storyview import Report, StoryView
from bot.news.feeds import FeedHealth
from bot.platforms.spec import Usage
from bot.replies import LinkSummary

# Discord's limits: https://discord.com/developers/docs/resources/message#embed-object-embed-limits
CONTENT_LIMIT = 2000
TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
FIELDS_PER_EMBED = 25
FOOTER_LIMIT = 2048
AUTHOR_LIMIT = 256
EMBED_CHARS_PER_MESSAGE = 6000  # title, description, fields, footer and author of all the message's embeds together
EMBEDS_PER_MESSAGE = 10

# Our own budgets, well inside the limits: a story reads as a card, and five short cards fit in one message.
# A story card is at most 256 + 1800 + 8 + 1024 + 300 characters, so one card alone always fits a message.
STORY_SUMMARY_CHARS = 1800
SENTENCE_CHARS = 500
FOOTER_CHARS = 300
HEADING_CHARS = 300
LIST_DESCRIPTION_CHARS = 3000  # one embed of a feed list; two of them stay under 6000
MAX_URL_CHARS = 512  # longer links are shown as plain outlet names rather than eat the card's budget

DIGEST_COLOUR = discord.Colour(0x2B6CB0)
ANSWER_COLOUR = discord.Colour(0x2F855A)
PAUSED_COLOUR = discord.Colour(0xDD6B20)

FEED_ICONS = {"ok": "🟢", "new": "🆕", "erroring": "🟠", "failing": "🔴", "removed": "⚫"}

_WHITESPACE = re.compile(r"\s+")
# "@" before a name, "everyone"/"here", or an id: a zero-width space after it means it can never become a mention.
_MENTION = re.compile(r"@(?=[\w!&])")
# Markdown that only counts at the start of a line: headings, quotes, bullet and numbered lists, subtext.
_LINE_START = re.compile(r"^([#>*+-])")
_NUMBERED = re.compile(r"^(\d+)\.(?= )")
_ZWSP = "\u200b"


@dataclass(frozen=True)
class DiscordMessage:
    """One message to send: text and up to ten embeds, within Discord's limits."""

    content: str = ""
    embeds: tuple[discord.Embed, ...] = ()


# -- text ------------------------------------------------------------------------------------------------------------
def plain(text: str) -> str:
    """Outside text for places Discord shows as is (footers, author names): one line, mentions broken."""
    return _MENTION.sub("@" + _ZWSP, _WHITESPACE.sub(" ", text).strip())


def clean(text: str) -> str:
    """Outside text for places Discord renders Markdown: one line, Markdown escaped, mentions broken."""
    flat = _WHITESPACE.sub(" ", text).strip()
    escaped = discord.utils.escape_markdown(flat).replace("]", "\\]")
    escaped = _NUMBERED.sub(r"\1\\.", _LINE_START.sub(r"\\\1", escaped))
    return _MENTION.sub("@" + _ZWSP, escaped)


def fit(text: str, limit: int) -> str:
    """`text` cut to `limit` characters with an ellipsis, at a word boundary when one is near the end."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit * 0.6:
        cut = cut[:space]
    # A trailing backslash would escape the ellipsis, and a cut escape shows a stray backslash.
    return cut.rstrip(" \\") + "…"


def http_url(url: str) -> str | None:
    """The URL if it is a plain http(s) link short enough to show, else None."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.netloc or len(url) > MAX_URL_CHARS or _WHITESPACE.search(url):
        return None
    return url


def link(label: str, url: str) -> str:
    """A Markdown link around an already cleaned label, or the label alone when the URL is unusable."""
    target = http_url(url)
    if target is None:
        return label
    # Parentheses would end the link target early; their percent-encodings mean the same URL.
    return f"[{label}]({target.replace('(', '%28').replace(')', '%29')})"


def timestamp(moment: datetime, style: str = "f") -> str:
    """A Discord timestamp, shown in each reader's own timezone and locale."""
    return f"<t:{int(moment.timestamp())}:{style}>"


def join_within(lines: Iterable[str], limit: int, more: str = "+{} more") -> str:
    """Lines joined by newlines, as many as fit in `limit` characters, then "+N more" for the rest."""
    pending = list(lines)
    kept: list[str] = []
    used = 0
    for index, line in enumerate(pending):
        remaining = len(pending) - index - 1
        reserve = len(more.format(remaining)) + 1 if remaining else 0
        if used + len(line) + 1 + reserve > limit:
            tail = more.format(len(pending) - index)
            if kept and used + len(tail) + 1 <= limit:
                kept.append(tail)
            elif not kept:
                kept.append(fit(line, limit))
            break
        kept.append(line)
        used += len(line) + 1
    return "\n".join(kept)


def pack(content: str, embeds: Sequence[discord.Embed]) -> list[DiscordMessage]:
    """Embeds packed in order into as few messages as Discord allows; `content` heads each, numbered if several."""
    batches: list[list[discord.Embed]] = []
    size = 0
    for embed in embeds:
        if not batches or len(batches[-1]) == EMBEDS_PER_MESSAGE or size + len(embed) > EMBED_CHARS_PER_MESSAGE:
            batches.append([])
            size = 0
        batches[-1].append(embed)
        size += len(embed)
    if not batches:
        return [DiscordMessage(fit(content, CONTENT_LIMIT))]
    total = len(batches)
    return [
        DiscordMessage(_numbered(content, number, total), tuple(batch)) for number, batch in enumerate(batches, start=1)
    ]


def _numbered(content: str, number: int, total: int) -> str:
    return fit(f"{content} ({number}/{total})" if content and total > 1 else content, CONTENT_LIMIT)


def notice(text: str) -> DiscordMessage:
    """A short text reply (confirmations and errors); it may quote what a user typed, so mentions are broken."""
    return DiscordMessage(fit(_MENTION.sub("@" + _ZWSP, text), CONTENT_LIMIT))


# -- digests ---------------------------------------------------------------------------------------------------------
def _plural(count: int, word: str, plural: str | None = None) -> str:
    return f"{count} {word if count == 1 else plural or word + 's'}"


def _source_line(number: int, source: SourceLink) -> str:
    return f"[{number}] {link(clean(source.outlet), source.url)} · {source.label}"


def story_embed(shown: PresentedItem) -> discord.Embed:
    """One story as a card: linked title, cited summary lines, numbered sources, and a footer with its tags."""
    item = shown.item
    top_url = next((url for url in (http_url(source.url) for source in item.sources) if url), None)
    lines = [f"• {fit(clean(line.text), SENTENCE_CHARS)} [{line.number}]" for line in shown.lines]
    description = join_within(lines, STORY_SUMMARY_CHARS, more="…and {} more sentences") or f"*{item.label}*"
    embed = discord.Embed(
        title=fit(f"{shown.number}. {clean(item.title)}", TITLE_LIMIT),
        url=top_url,
        description=description,
        colour=DIGEST_COLOUR,
        timestamp=item.updated_at,
    )
    if shown.sources:
        sources = join_within((_source_line(each.number, each.source) for each in shown.sources), FIELD_VALUE_LIMIT)
        if shown.more_sources and len(sources) + 12 <= FIELD_VALUE_LIMIT:
            sources += f"\n+{shown.more_sources} more"
        embed.add_field(name="Sources", value=sources, inline=False)
    if item.related:
        related = join_within(
            (f"{fit(clean(r.title), 200)} (story {r.story_id})" for r in item.related), FIELD_VALUE_LIMIT
        )
        embed.add_field(name="Related", value=related, inline=False)
    footer = " · ".join(
        [_plural(item.outlet_count, "outlet"), f"based on {item.label}", *shown.tags, f"more: {more_command(item)}"]
    )
    embed.set_footer(text=fit(plain(footer), FOOTER_CHARS))
    return embed


def render_digest(digest: Digest) -> list[DiscordMessage]:
    """A digest as messages: the heading as text, then one card per story, split over messages when large."""
    heading = f"**{fit(clean(digest.heading), HEADING_CHARS)}**"
    if not digest.items:
        return [DiscordMessage(fit(f"{heading}\n{clean(digest.empty_message)}", CONTENT_LIMIT))]
    embeds = [story_embed(shown) for shown in present_digest(digest)]
    subtitle = f"-# {_plural(len(digest.items), 'story', 'stories')} · as of {timestamp(digest.generated_at)}"
    return pack(f"{heading}\n{subtitle}", embeds)


def render_update(digest: Digest, *, standalone: bool = False) -> list[DiscordMessage]:
    """A story's update: "New since 08:00" and only the new lines, each cited, with the new sources.

    In the story's thread it needs no title; ``standalone`` (the original message is gone) names the story and when
    it was first posted here.
    """
    update = present_update(digest)
    if update is None:
        return render_digest(digest)
    shown, follow_up, since = update.shown, update.follow_up, update.since
    item = shown.item
    if standalone:
        content = (
            f"**Update: {fit(clean(item.title), HEADING_CHARS)}**\n-# First posted here "
            f"{timestamp(follow_up.first_posted_at)}; that message is gone."
        )
    else:
        content = f"**{since}**"
    lines = [f"• {fit(clean(line.text), SENTENCE_CHARS)} [{line.number}]" for line in shown.lines]
    outlets = _new_outlets(shown, follow_up.new_outlets)
    if outlets:
        lines.append(f"• Now also reported by {outlets}")
    if follow_up.new_countries:
        lines.append(f"• First coverage from {clean(', '.join(follow_up.new_countries))}")
    embed = discord.Embed(
        title=fit(f"{since}: {clean(item.title)}", TITLE_LIMIT) if standalone else None,
        description=join_within(lines, STORY_SUMMARY_CHARS, more="…and {} more") or "*New coverage*",
        colour=DIGEST_COLOUR,
        timestamp=item.updated_at,
    )
    sources = join_within((_source_line(each.number, each.source) for each in shown.sources), FIELD_VALUE_LIMIT)
    if sources:
        embed.add_field(name="New sources", value=sources, inline=False)
    embed.set_footer(text=fit(plain(f"{more_command(item)} for the whole story"), FOOTER_CHARS))
    return [DiscordMessage(fit(content, CONTENT_LIMIT), (embed,))]


def _new_outlets(shown: PresentedItem, names: Sequence[str]) -> str:
    """The outlets new to the story, each linked to its first new article, with that source's number."""
    first: dict[str, ShownSource] = {}
    for each in shown.sources:
        if each.source.outlet in names:
            first.setdefault(each.source.outlet, each)
    return ", ".join(f"{link(clean(e.source.outlet), e.source.url)} [{e.number}]" for e in first.values())


def _reporter(report: Report) -> str:
    return clean(f"{report.outlet} ({report.country})" if report.country else report.outlet)


def render_story(view: StoryView) -> list[DiscordMessage]:
    """A story in full as cards: summary and timeline; how each outlet tells it; facts only some report."""
    item = view.item
    (shown,) = present_digest(Digest(heading=item.title, generated_at=view.as_of, items=(item,), style="detailed"))
    countries = f" from {_plural(view.country_count, 'country', 'countries')}" if view.country_count else ""
    lines = [f"• {fit(clean(line.text), SENTENCE_CHARS)} [{line.number}]" for line in shown.lines]
    summary = discord.Embed(
        title=fit(f"Story {item.story_id}: {clean(item.title)}", TITLE_LIMIT),
        description=join_within(lines, STORY_SUMMARY_CHARS) or None,
        colour=DIGEST_COLOUR,
        timestamp=view.as_of,
    )
    if shown.sources:
        sources = join_within((_source_line(each.number, each.source) for each in shown.sources), FIELD_VALUE_LIMIT)
        summary.add_field(name="Sources", value=sources, inline=False)
    timeline = [
        f"{timestamp(report.published_at, 'f')} {'first report' if n == 0 else 'first from'} **{_reporter(report)}**: "
        f"{link(fit(clean(report.title), 150), report.url)}"
        for n, report in enumerate(view.timeline)
    ]
    if view.more_outlets:
        timeline.append(f"+{view.more_outlets} more outlets")
    summary.add_field(name="Timeline", value=join_within(timeline, FIELD_VALUE_LIMIT), inline=False)
    if view.related:
        related = (f"{fit(clean(r.title), 200)} (`/news story {r.story_id}`)" for r in view.related)
        summary.add_field(name="Related storylines", value=join_within(related, FIELD_VALUE_LIMIT), inline=False)
    merged = f" · story {view.merged_from} became part of it" if view.merged_from is not None else ""
    summary.set_footer(
        text=fit(plain(f"{_plural(view.outlet_count, 'outlet')}{countries}{merged} · as of"), FOOTER_CHARS)
    )
    told = discord.Embed(title="How it is told", colour=DIGEST_COLOUR)
    if len(view.tellings) < 2:
        told.description = "Only one outlet so far."
    for telling in view.tellings[:FIELDS_PER_EMBED]:
        parts = [link(fit(clean(telling.report.title), 300), telling.report.url)]
        if telling.sentence and telling.sentence_report is not None:  # whole lines only: a link is never cut
            parts.append(f"> {fit(clean(telling.sentence), 300)} {link('source', telling.sentence_report.url)}")
        name = fit(_reporter(telling.report), FIELD_NAME_LIMIT)
        told.add_field(name=name, value=join_within(parts, FIELD_VALUE_LIMIT), inline=False)
    embeds = [summary, told]
    if view.partial_facts:
        facts = [
            f"• *{fit(clean(', '.join(fact.outlets)), 200)}:* {fit(clean(fact.text), SENTENCE_CHARS)} "
            f"{link('source', fact.report.url)}"
            for fact in view.partial_facts
        ]
        embeds.append(
            discord.Embed(
                title="Reported by some outlets only",
                description=join_within(facts, DESCRIPTION_LIMIT),
                colour=DIGEST_COLOUR,
            )
        )
    content = ""
    if view.other_matches:
        others = ", ".join(f"{fit(clean(o.title), 100)} (`/news story {o.story_id}`)" for o in view.other_matches)
        content = f"-# Other stories matching: {others}"
    return pack(content, [_within_message(embed) for embed in embeds])


def _within_message(embed: discord.Embed) -> discord.Embed:
    """A card that fits one message on its own: fields are dropped from the end until it does."""
    while len(embed) > EMBED_CHARS_PER_MESSAGE and embed.fields:
        embed.remove_field(len(embed.fields) - 1)
    return embed


# -- answers and link summaries --------------------------------------------------------------------------------------
def _cited_source_line(number: int, sentence: CitedSentence) -> str:
    title = fit(clean(sentence.title), 120)
    return (
        f"[{number}] {link(clean(sentence.outlet), sentence.url)} · {title} · {sentence.label} · "
        f"{timestamp(sentence.published_at, 'd')}"
    )


def render_answer(answer: Answer) -> list[DiscordMessage]:
    """An answer as one card: the question, sentences quoted from articles with citations, and the articles."""
    embed = discord.Embed(title=fit(clean(answer.question), TITLE_LIMIT), colour=ANSWER_COLOUR, timestamp=answer.as_of)
    note = [f"*{clean(answer.note)}*"] if answer.note else []
    if not answer.found or not answer.sentences:
        embed.description = join_within([clean(answer.message), *note], DESCRIPTION_LIMIT)
        embed.set_footer(text=f"Searched {_plural(answer.searched, 'article')} · archive as of")
        return [DiscordMessage(embeds=(embed,))]
    numbers: dict[int, int] = {}
    for sentence in answer.sentences:
        numbers.setdefault(sentence.article_id, len(numbers) + 1)
    lines = []
    for s in answer.sentences:
        lines.append(f"• {fit(clean(s.text), SENTENCE_CHARS)} [{numbers[s.article_id]}]")
        if s.also_reported_by:
            others = ", ".join(link(clean(other.outlet), other.url) for other in s.also_reported_by)
            lines.append(f"  also reported by {others}")
    intro = [clean(answer.message)] if answer.message else []
    embed.description = join_within([*intro, *lines, *note], DESCRIPTION_LIMIT)
    firsts = {sentence.article_id: sentence for sentence in reversed(answer.sentences)}
    sources = [_cited_source_line(number, firsts[article]) for article, number in numbers.items()]
    embed.add_field(name="Sources", value=join_within(sources, FIELD_VALUE_LIMIT), inline=False)
    embed.set_footer(text=f"Quoted word for word · searched {_plural(answer.searched, 'article')} · archive as of")
    return [DiscordMessage(embeds=(embed,))]


def render_link_summary(summary: LinkSummary) -> list[DiscordMessage]:
    """A page summary as one card, saying what it was based on (full text, teaser, or blocked)."""
    lines = [f"• {fit(clean(sentence), SENTENCE_CHARS)}" for sentence in summary.sentences]
    if summary.note:
        lines.append(f"*{clean(summary.note)}*")
    embed = discord.Embed(
        title=fit(clean(summary.title), TITLE_LIMIT),
        url=http_url(summary.url),
        description=join_within(lines, DESCRIPTION_LIMIT) or "*No summary.*",
        colour=DIGEST_COLOUR,
    )
    method = f" · {summary.method} summary" if summary.method != "none" else ""
    embed.set_footer(text=fit(plain(f"{summary.site} · based on {summary.label}{method}"), FOOTER_CHARS))
    return [DiscordMessage(embeds=(embed,))]


# -- help ------------------------------------------------------------------------------------------------------------
def render_help(lines: Sequence[Usage]) -> discord.Embed:
    """`/news help`: each command's options and what it does, one line each (our own text, from the spec)."""
    body = "\n".join(f"`{line.syntax}` — {line.summary}" for line in lines)
    return discord.Embed(title="How to use /news", description=fit(body, DESCRIPTION_LIMIT), colour=DIGEST_COLOUR)


# -- settings and sources --------------------------------------------------------------------------------------------
def render_subscription(info: SubscriptionInfo | None, *, heading: str = "") -> list[DiscordMessage]:
    """A channel's subscription as a card (`/news settings`, and the reply to `/news subscribe`), pause reason first."""
    if info is None:
        return [
            notice(
                "This channel has no news digest. Someone with Manage Channels can start one with `/news subscribe`."
            )
        ]
    embed = discord.Embed(title="News digest for this channel", colour=DIGEST_COLOUR)
    if info.paused_reason:
        embed.colour = PAUSED_COLOUR
        embed.description = fit(
            f"⏸️ **Paused:** {clean(info.paused_reason)}\nFix that, then run `/news subscribe` again to resume.",
            DESCRIPTION_LIMIT,
        )
    embed.add_field(name="Schedule", value=fit(f"{clean(info.schedule)} ({clean(info.timezone)})", FIELD_VALUE_LIMIT))
    if info.next_digest_at is not None:
        moment = info.next_digest_at
        embed.add_field(name="Next digest", value=f"{timestamp(moment, 'F')} ({timestamp(moment, 'R')})")
    else:
        embed.add_field(name="Next digest", value="paused" if info.paused_reason else "not scheduled")
    embed.add_field(name="Stories", value=f"up to {info.max_items}, {clean(info.style)}")
    embed.add_field(name="Filters", value=fit(clean(info.describe_filters()), FIELD_VALUE_LIMIT), inline=False)
    embed.add_field(name="Follow-ups", value=fit(clean(info.describe_follow_ups()), FIELD_VALUE_LIMIT), inline=False)
    return [DiscordMessage(fit(heading, CONTENT_LIMIT), (embed,))]


def _feed_line(feed: FeedHealth) -> str:
    line = f"{FEED_ICONS.get(feed.status, '⚪')} {link(clean(feed.name), feed.url)} · {feed.status}"
    if feed.country:
        line += f" · {clean(feed.country)}"
    if feed.status in {"erroring", "failing"} and feed.last_error:
        line += f" — {fit(clean(feed.last_error), 120)}"
    elif feed.last_success_at is not None:
        line += f" · updated {timestamp(feed.last_success_at, 'R')}"
    return line


def render_sources(feeds: Sequence[FeedHealth]) -> list[DiscordMessage]:
    """The polled feeds with their health, in as many cards and messages as the list needs."""
    active = [feed for feed in feeds if feed.enabled]
    if not active:
        return [notice("No news sources are configured.")]
    chunks: list[list[str]] = [[]]
    used = 0
    for line in (fit(_feed_line(feed), LIST_DESCRIPTION_CHARS) for feed in active):
        if chunks[-1] and used + len(line) + 1 > LIST_DESCRIPTION_CHARS:
            chunks.append([])
            used = 0
        chunks[-1].append(line)
        used += len(line) + 1
    failing = sum(feed.status in {"erroring", "failing"} for feed in active)
    removed = len(feeds) - len(active)
    footer = f"{_plural(len(active), 'source')} · {failing} with errors" + (f" · {removed} removed" if removed else "")
    footer += " · managers add or remove feeds with /news sources action:add|remove url:<feed>"
    embeds = []
    for number, chunk in enumerate(chunks, start=1):
        embed = discord.Embed(description="\n".join(chunk), colour=DIGEST_COLOUR)
        if number == 1:
            embed.title = "News sources"
        if number == len(chunks):
            embed.set_footer(text=footer)
        embeds.append(embed)
    return pack("", embeds)
