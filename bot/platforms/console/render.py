"""The console's text: the same digests, answers and link summaries as Discord and Slack, as plain terminal text."""

from __future__ import annotations

import textwrap
from dataclasses import replace
from datetime import UTC
from typing import TYPE_CHECKING

from bot.digests.model import Digest, DigestItem
from bot.digests.present import PresentedItem, more_command, present_digest, present_update
from bot.intelligence.results import Answer
from bot.replies import LinkSummary

if TYPE_CHECKING:
    from bot.intelligence.storyview import Report, StoryView

WIDTH = 100
CONSOLE_COMMAND = "python -m bot"


def _when(item: DigestItem) -> str:
    return item.updated_at.strftime("%d %b %H:%M UTC")


def _wrap(text: str, indent: str) -> str:
    return textwrap.fill(text, WIDTH, initial_indent=indent, subsequent_indent=" " * len(indent))


def render_item(shown: PresentedItem) -> str:
    """One story: title, meta line, summary lines with their source numbers, then the numbered sources."""
    item = shown.item
    tags = " · ".join(shown.tags)
    meta = f"{item.outlet_count} outlet{'s' if item.outlet_count != 1 else ''} · {item.label} · {_when(item)}"
    lines = [_wrap(item.title, f"{shown.number}. "), f"   {meta}" + (f" · {tags}" if tags else "")]
    lines += [_wrap(f"{line.text} [{line.number}]", "   - ") for line in shown.lines]
    lines += [
        f"   [{each.number}] {each.source.outlet}: {each.source.url} ({each.source.label})" for each in shown.sources
    ]
    if shown.more_sources:
        lines.append(f"   +{shown.more_sources} more")
    lines += [_wrap(f"{related.title} (story {related.story_id})", "   Related: ") for related in item.related]
    lines.append(f"   More: {more_command(item, CONSOLE_COMMAND)}")
    return "\n".join(lines)


def render_update(digest: Digest, *, standalone: bool = False) -> str:
    """A story's update as a reply under its story: "New since 08:00", only the new lines, each cited.

    ``standalone`` (the original is gone) names the story and when it was first posted.
    """
    update = present_update(digest)
    if update is None:
        return render_digest(digest)
    shown, follow_up, since = update.shown, update.follow_up, update.since
    item = shown.item
    if standalone:
        lines = [_wrap(f"Update: {item.title}", ""), f"(first posted {follow_up.first_posted_at:%d %b %H:%M UTC})"]
        indent = ""
    else:
        lines = [_wrap(f"Update to: {item.title} (story {item.story_id})", "  ↳ ")]
        indent = "    "
    lines.append(f"{indent}{since}:")
    lines += [_wrap(f"{line.text} [{line.number}]", f"{indent}- ") for line in shown.lines]
    first: dict[str, int] = {}
    for each in shown.sources:
        if each.source.outlet in follow_up.new_outlets:
            first.setdefault(each.source.outlet, each.number)
    if first:
        outlets = ", ".join(f"{outlet} [{number}]" for outlet, number in first.items())
        lines.append(_wrap(f"Now also reported by {outlets}", f"{indent}- "))
    if follow_up.new_countries:
        lines.append(_wrap(f"First coverage from {', '.join(follow_up.new_countries)}", f"{indent}- "))
    lines += [
        f"{indent}[{each.number}] {each.source.outlet}: {each.source.url} ({each.source.label})"
        for each in shown.sources
    ]
    return "\n".join(lines) + "\n"


def render_digest(digest: Digest) -> str:
    """A digest as terminal text."""
    header = digest.heading  # a scheduled digest's heading carries its local time; a brief says "as of" below
    if digest.as_of is not None:
        header += f" (as of {digest.as_of.astimezone(UTC):%d %b %Y %H:%M UTC})"
    if not digest.items:
        return f"{header}\n\n{digest.empty_message}\n"
    body = "\n\n".join(render_item(shown) for shown in present_digest(digest))
    return f"{header}\n{'=' * min(len(header), WIDTH)}\n\n{body}\n"


def _reporter(report: Report) -> str:
    return f"{report.outlet} ({report.country})" if report.country else report.outlet


def render_story(view: StoryView) -> str:
    """A story in full: summary, timeline of first reports, related storylines, and how each outlet tells it."""
    item = view.item
    header = f"Story {item.story_id}: {item.title}"
    lines = [_wrap(header, ""), "=" * min(len(header), WIDTH)]
    if view.merged_from is not None:
        lines.append(f"(story {view.merged_from} became part of this story)")
    countries = f" from {view.country_count} countries" if view.country_count else ""
    outlets = f"{view.outlet_count} outlet{'s' if view.outlet_count != 1 else ''}"
    lines.append(f"{outlets}{countries} · as of {view.as_of:%d %b %Y %H:%M UTC}")
    shown = present_digest(replace(_single(item), style="detailed"))[0]
    lines += [_wrap(f"{line.text} [{line.number}]", "  - ") for line in shown.lines]
    lines += ["", "Timeline"]
    for number, report in enumerate(view.timeline):
        label = "first report" if number == 0 else "first from"
        lines.append(_wrap(f"{report.published_at:%d %b %H:%M} {label} {_reporter(report)}: {report.title}", "  "))
        lines.append(f"      {report.url}")
    if view.more_outlets:
        lines.append(f"  +{view.more_outlets} more outlets")
    if view.related:
        lines += ["", "Related storylines"]
        lines += [_wrap(f"{related.title} (story {related.story_id})", "  - ") for related in view.related]
    lines += ["", "How it is told"]
    if len(view.tellings) < 2:
        lines.append("  Only one outlet has covered it so far.")
    for telling in view.tellings:
        lines.append(_wrap(f"{_reporter(telling.report)}: “{telling.report.title}”", "  "))
        if telling.sentence and telling.sentence_report is not None:
            lines.append(_wrap(f"“{telling.sentence.strip().strip(QUOTES)}”", "      "))
            lines.append(f"      {telling.sentence_report.url}")
    if view.partial_facts:
        lines += ["", "Reported by some outlets only"]
        for fact in view.partial_facts:
            who = ", ".join(fact.outlets)
            lines.append(_wrap(f"{who}: “{fact.text.strip().strip(QUOTES)}”", "  - "))
            lines.append(f"      {fact.report.url}")
    if view.other_matches:
        lines += ["", "Other stories matching those words"]
        lines += [_wrap(f"{other.title} (story {other.story_id})", "  - ") for other in view.other_matches]
    return "\n".join(lines) + "\n"


def _single(item: DigestItem) -> Digest:
    return Digest(heading=item.title, generated_at=item.updated_at, items=(item,))


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
