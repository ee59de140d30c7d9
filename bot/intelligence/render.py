"""Plain-text rendering of answers and briefs, for the terminal (`python -m bot ask`, `python -m bot brief`)."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.intelligence.results import Answer, Brief, StoryBrief


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%d %b %Y %H:%M UTC")


def _day(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%d %b %Y")


def render_answer(answer: Answer) -> str:
    """The answer as text: each sentence quoted with its citation, then the "as of" stamp."""
    lines = [answer.message]
    for number, sentence in enumerate(answer.sentences, start=1):
        lines.append(f"{number}. “{sentence.text}”")
        lines.append(f"   — {sentence.outlet}: “{sentence.title}”, {_day(sentence.published_at)} ({sentence.label})")
        lines.append(f"     {sentence.url}")
    lines.append(f"As of {_when(answer.as_of)}.")
    return "\n".join(lines) + "\n"


def render_story(story: StoryBrief, number: int) -> list[str]:
    """One story of a brief: title, counts and tags, summary lines with source numbers, then the sources."""
    outlets = f"{story.outlet_count} outlet{'s' if story.outlet_count != 1 else ''}"
    countries = f"{story.country_count} countr{'ies' if story.country_count != 1 else 'y'}"
    tags = " · ".join(part for part in (", ".join(story.countries[:4]), ", ".join(story.topics)) if part)
    lines = [f"{number}. {story.title}", f"   {outlets} · {countries}" + (f" · {tags}" if tags else "")]
    lines += [f"   • {line.text} [{line.source + 1}]" for line in story.summary]
    for index, source in enumerate(story.sources, start=1):
        lines.append(f"   [{index}] {source.outlet}, {_day(source.published_at)} ({source.label}): {source.url}")
    return lines


def render_brief(brief: Brief) -> str:
    """The brief as text: a heading with the "as of" stamp, then each story."""
    lines = [f"Top stories: {brief.description} (as of {_when(brief.as_of)})", ""]
    if not brief.stories:
        lines.append(brief.message)
    for number, story in enumerate(brief.stories, start=1):
        lines += [*render_story(story, number), ""]
    return "\n".join(lines).rstrip() + "\n"
