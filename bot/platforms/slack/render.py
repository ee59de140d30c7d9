"""Block Kit for Slack: digests, answers, link summaries, settings and sources, always within Slack's limits.

Pure functions: data in, message payloads out. Every piece of text that comes from an article or a user is escaped
for mrkdwn (``&``, ``<``, ``>``), which also disarms ``<!everyone>``, ``<!channel>``, ``<!here>`` and ``<@U…>`` that
a feed might carry. Limits enforced here (https://api.slack.com/reference/block-kit/blocks):

- 50 blocks per message; a longer digest is split, and the publisher posts the rest as thread replies;
- 3000 characters per section text and per context element, 10 elements per context block;
- 150 characters per header text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from bot.digests.model import Digest
from bot.digests.present import PresentedItem, ShownSource, more_command, present_digest, present_update
from bot.digests.subscriptions import SubscriptionInfo
from bot.intelligence.results import Answer
from bot.intelligence.storyview import Report, StoryView
from bot.news.feeds import FeedHealth
from bot.replies import LinkSummary

Block = dict[str, Any]

MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_CONTEXT_TEXT = 3000
MAX_CONTEXT_ELEMENTS = 10
MAX_HEADER_TEXT = 150
MAX_FALLBACK_TEXT = 500  # the notification text; Slack allows far more, but a notification is one line
MAX_LINE = 1200  # one sentence or title; keeps any single line well inside a section
MAX_LINK_URL = 1000  # longer URLs are shown without a link rather than crowding out the text
TIME_FORMAT = "%d %b %Y %H:%M UTC"
ELLIPSIS = "…"


@dataclass(frozen=True)
class Message:
    """One Slack message: blocks plus the plain fallback text Slack shows in notifications."""

    text: str
    blocks: tuple[Block, ...]

    def payload(self) -> dict[str, Any]:
        """Keyword arguments for chat.postMessage, respond() or ack()."""
        return {"text": self.text, "blocks": list(self.blocks)}


# -- text ------------------------------------------------------------------------------------------------------
def escape(text: str) -> str:
    """Escape text for mrkdwn: the three characters Slack treats as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    """Shorten plain text to `limit` characters, marking the cut with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + ELLIPSIS


def escape_clipped(text: str, limit: int) -> str:
    """Escape text for mrkdwn and shorten it so that the *escaped* form fits `limit` (never cutting an entity)."""
    escaped = escape(" ".join(text.split()))
    if len(escaped) <= limit:
        return escaped
    cut = limit
    while cut > 0:
        candidate = escape(clip(text, cut))
        if len(candidate) <= limit:
            return candidate
        cut -= max(1, len(candidate) - limit)
    return ELLIPSIS


def link(url: str, label: str) -> str:
    """A mrkdwn link to an http(s) URL, or just the escaped label when the URL cannot be linked safely."""
    # A "|" in the label would read as a second separator; the look-alike "¦" keeps the text readable.
    label = escape(" ".join(label.split()) or url).replace("|", "¦")
    if urlsplit(url).scheme not in {"http", "https"}:
        return label
    # In <url|label> a "|" or ">" in the URL would end it early; escaping is what Slack documents for "&<>".
    target = escape(url).replace("|", "%7C").replace(" ", "%20")
    if len(target) > MAX_LINK_URL:
        return label
    return f"<{target}|{label}>"


def _take_lines(lines: Sequence[str], limit: int, *, more: str = "") -> tuple[str, int]:
    """Join escaped lines until the next would pass `limit`; return the text and how many lines it holds.

    When lines are left out and `more` is given, it ends the text (room for it is kept).
    """
    kept: list[str] = []
    size = 0
    for index, line in enumerate(lines):
        grown = size + len(line) + (1 if kept else 0)
        reserve = len(more) + 1 if more and index < len(lines) - 1 else 0
        if grown + reserve > limit:
            break
        kept.append(line)
        size = grown
    count = len(kept)
    if count < len(lines) and more:
        kept.append(more)
    return "\n".join(kept), count


def _fit_lines(lines: Sequence[str], limit: int, *, more: str = "") -> str:
    """Join escaped lines until the next would pass `limit`; `more` marks that some were left out."""
    return _take_lines(lines, limit, more=more)[0]


def _join_within(parts: Sequence[str], limit: int, separator: str = " · ") -> str:
    """Join escaped parts until the next would pass `limit`, then say how many were left out."""
    text = ""
    for index, part in enumerate(parts):
        candidate = f"{text}{separator}{part}" if text else part
        left = len(parts) - index - 1
        tail = f"{separator}+{left} more" if left else ""
        if len(candidate) + len(tail) > limit:
            rest = f"+{len(parts) - index} more"
            return f"{text}{separator}{rest}" if text else rest
        text = candidate
    return text


# -- blocks ----------------------------------------------------------------------------------------------------
def header(text: str) -> Block:
    """A header block (plain text, so nothing in it is interpreted)."""
    return {"type": "header", "text": {"type": "plain_text", "text": clip(text, MAX_HEADER_TEXT) or "-", "emoji": True}}


def section(mrkdwn: str) -> Block:
    """A section block of mrkdwn text that the caller escaped; cut to the section limit as a last resort."""
    if len(mrkdwn) > MAX_SECTION_TEXT:
        mrkdwn = _fit_lines(mrkdwn.split("\n"), MAX_SECTION_TEXT, more=ELLIPSIS)
    return {"type": "section", "text": {"type": "mrkdwn", "text": mrkdwn or " "}}


def context(*texts: str) -> Block:
    """A context block: small grey labels (mrkdwn, already escaped)."""
    elements = [{"type": "mrkdwn", "text": text[:MAX_CONTEXT_TEXT]} for text in texts if text][:MAX_CONTEXT_ELEMENTS]
    return {"type": "context", "elements": elements or [{"type": "mrkdwn", "text": " "}]}


def divider() -> Block:
    """A horizontal rule between stories."""
    return {"type": "divider"}


def fields_section(pairs: Sequence[tuple[str, str]]) -> Block:
    """A section of up to 10 label/value fields (values already escaped)."""
    fields = [{"type": "mrkdwn", "text": clip_mrkdwn(f"*{label}*\n{value}", 2000)} for label, value in pairs[:10]]
    return {"type": "section", "fields": fields}


def clip_mrkdwn(text: str, limit: int) -> str:
    """Cut escaped mrkdwn at a line boundary so that no link or entity is broken."""
    return text if len(text) <= limit else _fit_lines(text.split("\n"), limit, more=ELLIPSIS)


def _when(moment: datetime) -> str:
    return moment.strftime(TIME_FORMAT)


def _plural(count: int, word: str, plural: str = "") -> str:
    return f"{count} {word if count == 1 else plural or word + 's'}"


# -- digests ---------------------------------------------------------------------------------------------------
def _source_entry(shown: ShownSource) -> str:
    source = shown.source
    return f"{link(source.url, f'[{shown.number}] {source.outlet}')} ({escape(source.label)})"


def render_item(shown: PresentedItem) -> list[Block]:
    """One story: its title and summary lines citing their sources, then a context block of labels and sources."""
    item = shown.item
    urls = {each.number: each.source.url for each in shown.sources}
    lines = [f"*{shown.number}. {escape_clipped(item.title, MAX_LINE)}*"]
    lines += [
        f"• {escape_clipped(line.text, MAX_LINE)} {link(urls[line.number], f'[{line.number}]')}" for line in shown.lines
    ]
    lines += [f"_Related:_ {escape_clipped(r.title, MAX_LINE)} (story {r.story_id})" for r in item.related]
    meta = [
        _plural(item.outlet_count, "outlet"),
        escape(item.label),
        f"updated {_when(item.updated_at)}",
        *(escape_clipped(tag, 100) for tag in shown.tags),
        f"more: `{escape(more_command(item))}`",
    ]
    entries = [_source_entry(each) for each in shown.sources]
    if shown.more_sources:
        entries.append(f"+{shown.more_sources} more")
    return [
        section(_fit_lines(lines, MAX_SECTION_TEXT, more=ELLIPSIS)),
        context(_join_within(meta, MAX_CONTEXT_TEXT), _join_within(entries, MAX_CONTEXT_TEXT)),
    ]


def _fallback(title: str, lines: Sequence[str] = ()) -> str:
    return escape_clipped(" — ".join([title, *lines]) if lines else title, MAX_FALLBACK_TEXT)


def render_digest(digest: Digest, *, note: str = "") -> list[Message]:
    """A digest as one or more messages: the first opens with the heading, the rest continue it (in a thread).

    Stories are never split across messages; each message stays within 50 blocks. `note` (plain text) is shown
    under the heading.
    """
    intro = [
        header(digest.heading),
        context(
            f"{_when(digest.generated_at)} · {_plural(len(digest.items), 'story', 'stories')}"
            " · summary lines quote the sources they cite, [n]"
        ),
    ]
    if note:
        intro.insert(1, section(escape_clipped(note, MAX_LINE)))
    if not digest.items:
        return [Message(_fallback(digest.heading), (*intro, section(escape_clipped(digest.empty_message, MAX_LINE))))]
    stories = [render_item(shown) for shown in present_digest(digest)]
    chunks: list[list[Block]] = [list(intro)]
    for blocks in stories:
        current = chunks[-1]
        unit = [divider(), *blocks] if current else blocks
        room = MAX_BLOCKS - (1 if len(chunks) > 1 else 0)  # a continuation starts with a "continued" label
        if len(current) + len(unit) > room:
            chunks.append(list(blocks))
        else:
            current.extend(unit)
    total = len(chunks)
    titles = [item.title for item in digest.items[:3]]
    messages = []
    for index, blocks in enumerate(chunks, start=1):
        if index == 1:
            text = _fallback(digest.heading, titles)
        else:
            label = f"{escape_clipped(digest.heading, 200)} (continued, part {index} of {total})"
            blocks.insert(0, context(label))
            text = _fallback(f"{digest.heading} (continued, part {index} of {total})")
        messages.append(Message(text, tuple(blocks)))
    return messages


def render_update(digest: Digest, *, standalone: bool = False) -> Message:
    """A story's update, for its thread: "New since 08:00" and only the new lines, each cited, then the new sources.

    ``standalone`` (the original message is gone) names the story and when it was first posted in the channel.
    """
    update = present_update(digest)
    if update is None:
        return render_digest(digest)[0]
    shown, follow_up, since = update.shown, update.follow_up, update.since
    item = shown.item
    urls = {each.number: each.source.url for each in shown.sources}
    blocks: list[Block] = []
    if standalone:
        blocks.append(header(f"Update: {item.title}"))
        blocks.append(
            context(
                f"First posted in this channel {_when(follow_up.first_posted_at)}; that message is no longer there."
            )
        )
    lines = [f"*{escape(since)}:*"]
    lines += [
        f"• {escape_clipped(line.text, MAX_LINE)} {link(urls[line.number], f'[{line.number}]')}" for line in shown.lines
    ]
    first: dict[str, int] = {}
    for each in shown.sources:
        if each.source.outlet in follow_up.new_outlets:
            first.setdefault(each.source.outlet, each.number)
    if first:
        outlets = ", ".join(f"{escape_clipped(outlet, 100)} {link(urls[n], f'[{n}]')}" for outlet, n in first.items())
        lines.append(f"• Now also reported by {outlets}")
    if follow_up.new_countries:
        lines.append(f"• First coverage from {escape_clipped(', '.join(follow_up.new_countries), 300)}")
    blocks.append(section(_fit_lines(lines, MAX_SECTION_TEXT, more=ELLIPSIS)))
    entries = [_source_entry(each) for each in shown.sources]
    blocks.append(
        context(_join_within(entries, MAX_CONTEXT_TEXT), f"`{escape(more_command(item))}` for the whole story")
    )
    text = _fallback(f"{since}: {item.title}", [line.text for line in shown.lines[:1]])
    return Message(text, tuple(blocks))


def _reporter(report: Report) -> str:
    return escape_clipped(f"{report.outlet} ({report.country})" if report.country else report.outlet, 200)


def render_story(view: StoryView) -> Message:
    """A story in full: summary, timeline of first reports, related storylines, how each outlet tells it, and the
    facts only some outlets report, each cited."""
    item = view.item
    (shown,) = present_digest(Digest(heading=item.title, generated_at=view.as_of, items=(item,), style="detailed"))
    urls = {each.number: each.source.url for each in shown.sources}
    blocks: list[Block] = [header(f"Story {item.story_id}: {item.title}")]
    countries = f" from {_plural(view.country_count, 'country', 'countries')}" if view.country_count else ""
    meta = [f"{_plural(view.outlet_count, 'outlet')}{countries}", f"as of {_when(view.as_of)}"]
    if view.merged_from is not None:
        meta.append(f"story {view.merged_from} became part of this story")
    blocks.append(context(*meta))
    summary = [
        f"• {escape_clipped(line.text, MAX_LINE)} {link(urls[line.number], f'[{line.number}]')}" for line in shown.lines
    ]
    if summary:
        blocks.append(section(_fit_lines(summary, MAX_SECTION_TEXT, more=ELLIPSIS)))
    timeline = ["*Timeline*"]
    for number, report in enumerate(view.timeline):
        label = "first report" if number == 0 else "first from"
        headline = link(report.url, clip(report.title, 300))
        timeline.append(f"• {_when(report.published_at)} {label} *{_reporter(report)}*: {headline}")
    if view.more_outlets:
        timeline.append(f"+{view.more_outlets} more outlets")
    blocks.append(section(_fit_lines(timeline, MAX_SECTION_TEXT, more=ELLIPSIS)))
    if view.related:
        related = ["*Related storylines*"]
        related += [f"• {escape_clipped(r.title, 300)} (`/news story {r.story_id}`)" for r in view.related]
        blocks.append(section(_fit_lines(related, MAX_SECTION_TEXT, more=ELLIPSIS)))
    blocks.append(divider())
    blocks.append(section("*How it is told*" + ("" if len(view.tellings) > 1 else "\nOnly one outlet so far.")))
    for telling in view.tellings:
        lines = [f"*{_reporter(telling.report)}*: {link(telling.report.url, clip(telling.report.title, 300))}"]
        if telling.sentence and telling.sentence_report is not None:
            quote = escape_clipped(telling.sentence, MAX_LINE)
            lines.append(f"    _“{quote}”_ {link(telling.sentence_report.url, '[source]')}")
        blocks.append(section(_fit_lines(lines, MAX_SECTION_TEXT, more=ELLIPSIS)))
    if view.partial_facts:
        facts = ["*Reported by some outlets only*"]
        for fact in view.partial_facts:
            who = escape_clipped(", ".join(fact.outlets), 300)
            facts.append(f"• _{who}:_ {escape_clipped(fact.text, MAX_LINE)} {link(fact.report.url, '[source]')}")
        blocks.append(section(_fit_lines(facts, MAX_SECTION_TEXT, more=ELLIPSIS)))
    if view.other_matches:
        others = ", ".join(f"{escape_clipped(o.title, 150)} (`/news story {o.story_id}`)" for o in view.other_matches)
        blocks.append(context(f"Other stories matching: {others}"))
    return Message(_fallback(f"Story {item.story_id}: {item.title}"), tuple(blocks[:MAX_BLOCKS]))


# -- answers and link summaries ----------------------------------------------------------------------------------
def render_answer(answer: Answer) -> Message:
    """A cited answer: the question, the answer sentences with [n] links, the sources and an "as of" label."""
    blocks: list[Block] = [section(f"*Question:* {escape_clipped(answer.question, MAX_LINE)}")]
    as_of = f"As of {_when(answer.as_of)} · {_plural(answer.searched, 'article')} searched"
    note = [context(escape_clipped(answer.note, MAX_LINE))] if answer.note else []
    if not answer.found or not answer.sentences:
        blocks.append(section(escape_clipped(answer.message or "I have nothing on that in the archive.", MAX_LINE)))
        blocks += [*note, context(as_of)]
        return Message(_fallback(answer.message or "Nothing found"), tuple(blocks))
    urls: list[str] = []
    for sentence in answer.sentences:
        if sentence.url not in urls:
            urls.append(sentence.url)
    lines = [escape_clipped(answer.message, MAX_LINE)] if answer.message else []
    for sentence in answer.sentences:
        number = urls.index(sentence.url) + 1
        lines.append(f"• {escape_clipped(sentence.text, MAX_LINE)} {link(sentence.url, f'[{number}]')}")
        if sentence.also_reported_by:
            others = ", ".join(link(other.url, clip(other.outlet, 100)) for other in sentence.also_reported_by)
            lines.append(f"    _also reported by {others}_")
    blocks.append(section(_fit_lines(lines, MAX_SECTION_TEXT, more=ELLIPSIS)))
    first = {sentence.url: sentence for sentence in reversed(answer.sentences)}
    entries = []
    for number, url in enumerate(urls, start=1):
        cited = first[url]
        title = clip(f"[{number}] {cited.outlet}: {cited.title}", 200)
        entries.append(f"{link(url, title)} ({escape(cited.label)}, {cited.published_at:%d %b %Y})")
    blocks.append(context(_join_within(entries, MAX_CONTEXT_TEXT)))
    blocks += [*note, context(f"{as_of} · answers quote stored articles word for word")]
    return Message(_fallback(answer.sentences[0].text), tuple(blocks))


def render_link_summary(summary: LinkSummary) -> Message:
    """A summary of a page a user gave: title, sentences (or why there are none), and what it was based on."""
    blocks: list[Block] = [header(summary.title)]
    lines = [f"• {escape_clipped(sentence, MAX_LINE)}" for sentence in summary.sentences]
    if summary.note:
        lines.append(f"_{escape_clipped(summary.note, MAX_LINE)}_")
    blocks.append(section(_fit_lines(lines, MAX_SECTION_TEXT, more=ELLIPSIS) or "No summary."))
    based_on = f"based on: {escape(summary.label)}"
    method = f"method: {escape_clipped(summary.method, 100)}"
    blocks.append(context(link(summary.url, summary.site), based_on, method))
    first = summary.sentences[0] if summary.sentences else summary.note
    return Message(_fallback(summary.title, [first] if first else []), tuple(blocks))


# -- settings, sources, notes ------------------------------------------------------------------------------------
def render_subscription(info: SubscriptionInfo | None, *, lead: str = "") -> Message:
    """A channel's subscription as `/news settings` shows it, with the pause reason when paused.

    `lead` is a mrkdwn line (already escaped) shown first, e.g. who changed it.
    """
    if info is None:
        text = "This channel has no news subscription. `/news subscribe` sets one up (`/news help` shows how)."
        return Message(text, (section(text),))
    blocks: list[Block] = [section(lead or "*News digest for this channel*")]
    if info.paused_reason:
        blocks.append(section(f":double_vertical_bar: *Paused:* {escape_clipped(info.paused_reason, MAX_LINE)}"))
    if info.next_digest_at is not None:
        local = info.next_digest_at.astimezone(ZoneInfo(info.timezone))
        next_digest = f"{local:%a %d %b %H:%M} ({escape(info.timezone)})"
    else:
        next_digest = "none while paused" if info.paused_reason else "none scheduled"
    blocks.append(
        fields_section(
            [
                ("Schedule", f"{escape(info.schedule)} ({escape(info.timezone)})"),
                ("Next digest", next_digest),
                ("Filters", escape_clipped(info.describe_filters(), 1500)),
                ("Size and style", f"up to {_plural(info.max_items, 'story', 'stories')}, {escape(info.style)}"),
                ("Follow-ups", escape_clipped(info.describe_follow_ups(), 1500)),
            ]
        )
    )
    blocks.append(context("Change it with `/news subscribe key=value …`; stop it with `/news unsubscribe`."))
    state = "paused" if info.paused_reason else "active"
    return Message(_fallback(f"News digest for this channel ({state}): {info.schedule} {info.timezone}"), tuple(blocks))


def render_sources(feeds: Sequence[FeedHealth]) -> Message:
    """The feeds and their health, one line each, in as many sections as needed (within the block limit)."""
    active = [feed for feed in feeds if feed.enabled]
    blocks: list[Block] = [header(f"News sources ({len(active)})")]
    lines = []
    for feed in sorted(active, key=lambda each: each.name.lower()):
        where = f" ({escape(feed.country)})" if feed.country else ""
        problem = f" — {escape_clipped(feed.last_error, 200)}" if feed.last_error and feed.status != "ok" else ""
        lines.append(f"• *{escape_clipped(feed.name, 200)}*{where} · {feed.status} · {link(feed.url, 'feed')}{problem}")
    remaining = lines
    while remaining and len(blocks) < MAX_BLOCKS - 2:  # room for the two context blocks below
        text, taken = _take_lines(remaining, MAX_SECTION_TEXT)
        if taken == 0:  # cannot happen (every part of a line is clipped), but never loop forever
            text, taken = clip_mrkdwn(remaining[0], MAX_SECTION_TEXT), 1
        blocks.append(section(text))
        remaining = remaining[taken:]
    if remaining:
        blocks.append(context(f"+{len(remaining)} more sources not shown"))
    blocks.append(
        context(
            "Managers can add or remove feeds: `/news sources add &lt;url&gt;`, `/news sources remove &lt;url&gt;`."
        )
    )
    return Message(_fallback(f"News sources ({len(active)})"), tuple(blocks))


def render_note(text: str, *, detail: str = "") -> Message:
    """A short message (a confirmation, a refusal, an error), with optional small print under it."""
    blocks: list[Block] = [section(escape_clipped(text, MAX_SECTION_TEXT))]
    if detail:
        blocks.append(context(escape_clipped(detail, MAX_CONTEXT_TEXT)))
    return Message(_fallback(text), tuple(blocks))


def render_mrkdwn(text: str, *, fallback: str) -> Message:
    """Our own mrkdwn text (help, usage), which may hold formatting; split into sections on blank lines."""
    blocks = [section(part) for part in text.split("\n\n") if part.strip()][:MAX_BLOCKS]
    return Message(_fallback(fallback), tuple(blocks))
