"""How a digest item is presented in a style: the one place that decides what a reader sees, on every platform.

A `DigestItem` holds everything known about a story; a `PresentedItem` is what one style shows of it: which summary
lines, which sources (numbered as shown, so every "[n]" a line cites is listed as "[n]"), which tags, and how many
sources were left out. Discord, Slack and the console only format a `PresentedItem` (links, escaping, limits); none of
them chooses lines, sources or tags of its own.

Rules:
- "detailed" shows every summary line and every source, numbered in stored order.
- "short" shows the first `SHORT_SUMMARY_LINES` lines and `SHORT_SOURCES` sources: the sources those lines cite
  first, then the newest others, listed in stored order and renumbered 1, 2, 3… (a line citing the fifth source of
  the story may read "[3]"). When the shown lines cite more than `SHORT_SOURCES` sources, all of them are listed.
- A line citing a source the item does not have is dropped rather than shown with a dangling number.
- Tags: at most `TAG_LIMITS` countries, regions and topics, most salient first, in every style.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from bot.digests.model import Digest, DigestItem, FollowUp, SourceLink, Style

SHORT_SUMMARY_LINES = 2
SHORT_SOURCES = 3
TAG_LIMITS = {"countries": 4, "regions": 2, "topics": 2}


@dataclass(frozen=True)
class ShownLine:
    """A summary line as shown: its text and the number ("[n]") of the listed source it cites."""

    text: str
    number: int


@dataclass(frozen=True)
class ShownSource:
    """A listed source with the number lines cite it by."""

    number: int
    source: SourceLink


@dataclass(frozen=True)
class PresentedItem:
    """What a style shows of one digest item; renderers format this and nothing else of the item's content.

    Attributes:
        number: the item's position in its digest, from 1.
        item: the item itself, for its title, times, labels and related stories.
        lines: the summary lines to show, each citing a number in ``sources``.
        sources: the sources to list, numbered from 1 in the order to list them.
        more_sources: how many of the item's sources are not listed.
        tags: the item's language label when it has one, then countries, regions and topics within `TAG_LIMITS`.
    """

    number: int
    item: DigestItem
    lines: tuple[ShownLine, ...]
    sources: tuple[ShownSource, ...]
    more_sources: int
    tags: tuple[str, ...]

    @property
    def cited(self) -> frozenset[int]:
        """The source numbers the shown lines cite (each one is in ``sources``)."""
        return frozenset(line.number for line in self.lines)


def present_item(item: DigestItem, number: int, style: Style) -> PresentedItem:
    """Choose and number the lines, sources and tags that `style` shows of `item` (see the module's rules)."""
    valid = [line for line in item.summary if 0 <= line.source < len(item.sources)]
    if style == "detailed":
        lines = valid
        shown = list(range(len(item.sources)))
    else:
        lines = valid[:SHORT_SUMMARY_LINES]
        cited = list(dict.fromkeys(line.source for line in lines))
        others = [index for index in range(len(item.sources)) if index not in cited]
        shown = sorted([*cited, *others][: max(SHORT_SOURCES, len(cited))])
    numbers = {index: position for position, index in enumerate(shown, start=1)}
    tags = (
        *((item.language_label,) if item.language_label else ()),  # "in Portuguese": not the channel's language
        *item.countries[: TAG_LIMITS["countries"]],
        *item.regions[: TAG_LIMITS["regions"]],
        *item.topics[: TAG_LIMITS["topics"]],
    )
    return PresentedItem(
        number=number,
        item=item,
        lines=tuple(ShownLine(line.text, numbers[line.source]) for line in lines),
        sources=tuple(ShownSource(numbers[index], item.sources[index]) for index in shown),
        more_sources=len(item.sources) - len(shown),
        tags=tags,
    )


def present_digest(digest: Digest) -> tuple[PresentedItem, ...]:
    """Every item of `digest`, numbered from 1, as its style shows it."""
    return tuple(present_item(item, number, digest.style) for number, item in enumerate(digest.items, start=1))


@dataclass(frozen=True)
class PresentedUpdate:
    """A story's update as every platform shows it: its one item in full, where it goes, and its heading."""

    shown: PresentedItem
    follow_up: FollowUp
    since: str  # "New since 08:00", or "New" when the channel's last time is unknown


def present_update(digest: Digest) -> PresentedUpdate | None:
    """The update `digest` carries (its one item in the detailed style); None when it is not an update."""
    if digest.follow_up is None or not digest.items:
        return None
    (shown,) = present_digest(replace(digest, style="detailed"))
    label = digest.follow_up.since_label
    return PresentedUpdate(shown, digest.follow_up, f"New since {label}" if label else "New")


def more_command(item: DigestItem, command: str = "/news") -> str:
    """The command that shows the whole story: its timeline, related storylines and how each outlet tells it."""
    return f"{command} story {item.story_id}"
