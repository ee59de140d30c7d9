"""One presentation for every platform: the same items show the same lines, sources and tags on Discord, Slack and
the console, and every source number a line cites is listed, next to the source it stands for."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from bot.digests.model import Digest, DigestItem, SourceLink, SummaryLine
from bot.digests.present import SHORT_SOURCES, present_digest
from bot.platforms.console import render as console
from bot.platforms.discord import render as discord_render
from bot.platforms.slack import render as slack_render
from bot.storage import TextKind

WHEN = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
OUTLETS = ("Alpha News", "Bravo Times", "Charlie Post", "Delta Wire", "Echo Daily", "Foxtrot Herald")


def _item(story_id: int, cites: tuple[int, ...]) -> DigestItem:
    sources = tuple(
        SourceLink(
            outlet,
            f"Article by {outlet}",
            f"https://{outlet.split()[0].lower()}.example/{story_id}",
            WHEN - timedelta(hours=n),
            TextKind.FULL_TEXT,
        )
        for n, outlet in enumerate(OUTLETS)
    )
    summary = tuple(SummaryLine(f"Line {n} of story {story_id} from {OUTLETS[i]}.", i) for n, i in enumerate(cites))
    return DigestItem(
        story_id=story_id,
        title=f"Story {story_id}",
        summary=summary,
        sources=sources,
        updated_at=WHEN,
        countries=("Japan", "South Korea", "North Korea", "China", "Russia"),
        regions=("East Asia", "Asia-Pacific", "Indo-Pacific"),
        topics=("nuclear and missiles", "diplomacy", "trade"),
    )


# The first line cites the fifth source: the short style once showed "[5]" but listed only [1]-[3].
ITEMS = (_item(1, (4, 0, 5)), _item(2, (5, 3, 1, 2)), _item(3, (0, 1)))


def _discord(digest: Digest) -> list[tuple[list[tuple[str, int]], dict[int, str], str]]:
    """Per story: (line text, cited number) pairs, listed number -> outlet, and the footer."""
    stories = []
    for message in discord_render.render_digest(digest):
        for embed in message.embeds:
            lines = [
                (match[1], int(match[2]))
                for match in re.finditer(r"^• (.*) \[(\d+)\]$", embed.description or "", re.MULTILINE)
            ]
            sources = next(field.value or "" for field in embed.fields if field.name == "Sources")
            listed = {int(m[1]): m[2] for m in re.finditer(r"^\[(\d+)\] \[([^\]]+)\]", sources, re.MULTILINE)}
            stories.append((lines, listed, embed.footer.text or ""))
    return stories


def _slack(digest: Digest) -> list[tuple[list[tuple[str, int]], dict[int, str], str]]:
    stories = []
    (message,) = slack_render.render_digest(digest)
    blocks = list(message.blocks)
    for index, block in enumerate(blocks):
        if block["type"] != "section" or not block["text"]["text"].startswith("*"):
            continue
        text = block["text"]["text"]
        lines = [(m[1], int(m[2])) for m in re.finditer(r"^• (.*) <[^|>]+\|\[(\d+)\]>$", text, re.MULTILINE)]
        meta, entries = (element["text"] for element in blocks[index + 1]["elements"])
        listed = {int(m[1]): m[2] for m in re.finditer(r"\|\[(\d+)\] ([^>]+)>", entries)}
        stories.append((lines, listed, meta))
    return stories


def _console(digest: Digest) -> list[tuple[list[tuple[str, int]], dict[int, str], str]]:
    stories = []
    for block in console.render_digest(digest).split("\n\n")[1:]:
        rows = block.splitlines()
        lines = [(m[1], int(m[2])) for m in re.finditer(r"^   - (.*) \[(\d+)\]$", block, re.MULTILINE)]
        listed = {int(m[1]): m[2] for m in re.finditer(r"^   \[(\d+)\] ([^:]+):", block, re.MULTILINE)}
        stories.append((lines, listed, rows[1]))
    return stories


@pytest.mark.parametrize("style", ["short", "detailed"])
@pytest.mark.parametrize("platform", [_discord, _slack, _console], ids=["discord", "slack", "console"])
def test_every_cited_source_is_listed_as_the_source_it_stands_for(platform, style):
    """On each platform, each shown line's "[n]" is listed, and the listed [n] is the outlet the line came from."""
    digest = Digest(heading="Morning briefing", generated_at=WHEN, items=ITEMS, style=style)
    stories = platform(digest)
    assert len(stories) == len(ITEMS)
    for item, (lines, listed, _tags) in zip(ITEMS, stories, strict=True):
        shown_lines = item.summary if style == "detailed" else item.summary[:2]
        assert len(lines) == len(shown_lines)
        for (text, number), line in zip(lines, shown_lines, strict=True):
            assert text == line.text
            assert listed.get(number) == item.sources[line.source].outlet, (text, number, listed)
        if style == "short":
            assert len(listed) == max(SHORT_SOURCES, len({line.source for line in shown_lines}))
            assert sorted(listed) == list(range(1, len(listed) + 1))  # numbered as listed: 1, 2, 3
        else:
            assert len(listed) == len(OUTLETS)


@pytest.mark.parametrize("style", ["short", "detailed"])
def test_all_platforms_show_the_same_sources_and_tags(style):
    """The three platforms list the same outlets under the same numbers and show the same tags."""
    digest = Digest(heading="Morning briefing", generated_at=WHEN, items=ITEMS, style=style)
    expected = [
        ({each.number: each.source.outlet for each in shown.sources}, shown.tags) for shown in present_digest(digest)
    ]
    assert expected[0][1] == (
        "Japan",
        "South Korea",
        "North Korea",
        "China",
        "East Asia",
        "Asia-Pacific",
        "nuclear and missiles",
        "diplomacy",
    )
    for platform in (_discord, _slack, _console):
        stories = platform(digest)
        for (listed, tags), (_lines, shown, meta) in zip(expected, stories, strict=True):
            assert shown == listed, platform.__name__
            assert all(tag in meta for tag in tags), (platform.__name__, meta)
            assert "Russia" not in meta and "Indo-Pacific" not in meta and "trade" not in meta, platform.__name__


def test_short_style_renumbers_a_cited_fifth_source():
    """A short item whose first line cites the fifth of six sources lists it as [3], after the first two, "+3 more"."""
    (shown, *_rest) = present_digest(Digest(heading="h", generated_at=WHEN, items=ITEMS, style="short"))
    assert [(line.number, line.text.split(" from ")[1]) for line in shown.lines] == [
        (3, "Echo Daily."),
        (1, "Alpha News."),
    ]
    assert [(each.number, each.source.outlet) for each in shown.sources] == [
        (1, "Alpha News"),
        (2, "Bravo Times"),
        (3, "Echo Daily"),
    ]
    assert shown.more_sources == 3


def test_a_line_citing_a_missing_source_is_dropped():
    """A line pointing past the item's sources is left out rather than shown with a number nobody lists."""
    item = _item(9, (0, 1))
    broken = DigestItem(**{**item.__dict__, "summary": (SummaryLine("Dangling.", 17), *item.summary)})
    (shown,) = present_digest(Digest(heading="h", generated_at=WHEN, items=(broken,), style="short"))
    assert [line.text for line in shown.lines] == [line.text for line in item.summary]
