"""The platform-neutral Digest: what every platform renders, and what the outbox stores as JSON.

Each summary line names the source it was extracted from, so renderers can cite it and readers can check it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Literal

from bot.storage.models import TextKind

Style = Literal["short", "detailed"]
# A scheduled or requested digest; an update to a story the channel has (posted in its thread); a breaking alert.
DigestKind = Literal["digest", "update", "alert"]

TEXT_KIND_LABELS = {
    TextKind.FULL_TEXT: "full text",
    TextKind.TEASER: "feed teaser only",
    TextKind.BLOCKED: "fetch blocked",
}


@dataclass(frozen=True)
class SourceLink:
    """One article behind a digest item."""

    outlet: str
    title: str
    url: str
    published_at: datetime
    text_kind: TextKind

    @property
    def label(self) -> str:
        """What the summary of this article was based on, in words."""
        return TEXT_KIND_LABELS[self.text_kind]


@dataclass(frozen=True)
class SummaryLine:
    """A sentence extracted from a source, with the index of that source in its item's `sources`."""

    text: str
    source: int


@dataclass(frozen=True)
class RelatedStory:
    """Another story of the same developing situation (a storyline link), by id and title."""

    story_id: int
    title: str


@dataclass(frozen=True)
class DigestItem:
    """One story in a digest; ``related`` are other stories of its storyline (briefs show them)."""

    story_id: int
    title: str
    summary: tuple[SummaryLine, ...]
    sources: tuple[SourceLink, ...]
    updated_at: datetime
    countries: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    related: tuple[RelatedStory, ...] = ()
    language: str | None = None  # ISO 639-1 of the story's articles
    # "in Portuguese" when the story is not in the channel's usual language (renderers show it as it is)
    language_label: str = ""
    all_outlets: int = 0  # outlets covering the story, also those whose sources are not listed (0: unknown)

    @property
    def outlet_count(self) -> int:
        """How many different outlets covered the story (at least those of the listed sources)."""
        return max(self.all_outlets, len({source.outlet for source in self.sources}))

    @property
    def label(self) -> str:
        """What the summary was based on: full text if any cited source had it, else the weakest label."""
        kinds = {self.sources[line.source].text_kind for line in self.summary} or {s.text_kind for s in self.sources}
        for kind in (TextKind.FULL_TEXT, TextKind.TEASER, TextKind.BLOCKED):
            if kind in kinds:
                return TEXT_KIND_LABELS[kind]
        return TEXT_KIND_LABELS[TextKind.BLOCKED]


@dataclass(frozen=True)
class FollowUp:
    """Where an update to a story goes and what it adds: its one item holds only the new lines and sources.

    ``reply_to`` is the platform message that carried the story (a Slack ts, a Discord message id); None, or a
    message that is gone, makes the update a new post that names the earlier one (``first_posted_at``).
    """

    since: datetime  # when the channel last heard of the story
    first_posted_at: datetime
    since_label: str = ""  # that time as the channel reads it: "08:00", or "Tue 01 Dec 08:00"
    reply_to: str | None = None
    new_outlets: tuple[str, ...] = ()
    new_countries: tuple[str, ...] = ()


@dataclass(frozen=True)
class Digest:
    """A titled list of stories for one channel or one request (or one story's update, or a breaking alert).

    ``as_of`` is when the archive a brief was drawn from was last brought up to date (None for a scheduled digest,
    whose heading carries its local time).
    """

    heading: str
    generated_at: datetime
    items: tuple[DigestItem, ...]
    style: Style = "short"
    empty_message: str = "Nothing new since the last digest."
    as_of: datetime | None = None
    kind: DigestKind = "digest"
    follow_up: FollowUp | None = None  # set on updates

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (times as ISO strings) for the outbox."""
        data: dict[str, Any] = _jsonable(asdict(self))
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Digest:
        """Rebuild a digest stored by `to_json` (also the older form that kept ``as_of`` under ``extra``)."""
        items = tuple(
            DigestItem(
                story_id=item["story_id"],
                title=item["title"],
                summary=tuple(SummaryLine(**line) for line in item["summary"]),
                sources=tuple(
                    SourceLink(
                        outlet=source["outlet"],
                        title=source["title"],
                        url=source["url"],
                        published_at=datetime.fromisoformat(source["published_at"]),
                        text_kind=TextKind(source["text_kind"]),
                    )
                    for source in item["sources"]
                ),
                updated_at=datetime.fromisoformat(item["updated_at"]),
                countries=tuple(item["countries"]),
                regions=tuple(item["regions"]),
                topics=tuple(item["topics"]),
                related=tuple(RelatedStory(**related) for related in item.get("related", ())),
                language=item.get("language"),
                language_label=item.get("language_label", ""),
                all_outlets=item.get("all_outlets", 0),
            )
            for item in data["items"]
        )
        as_of = data.get("as_of") or data.get("extra", {}).get("as_of")
        return cls(
            heading=data["heading"],
            generated_at=datetime.fromisoformat(data["generated_at"]),
            items=items,
            style=data["style"],
            empty_message=data["empty_message"],
            as_of=datetime.fromisoformat(as_of) if as_of else None,
            kind=data.get("kind", "digest"),
            follow_up=_follow_up(data.get("follow_up")),
        )


def _follow_up(data: dict[str, Any] | None) -> FollowUp | None:
    if data is None:
        return None
    return FollowUp(
        since=datetime.fromisoformat(data["since"]),
        first_posted_at=datetime.fromisoformat(data["first_posted_at"]),
        since_label=data.get("since_label", ""),
        reply_to=data.get("reply_to"),
        new_outlets=tuple(data.get("new_outlets", ())),
        new_countries=tuple(data.get("new_countries", ())),
    )


def _jsonable(value: Any) -> Any:  # noqa: ANN401 - walks arbitrary JSON-like structures
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, TextKind):
        return value.value
    return value


@dataclass(frozen=True)
class ChannelRef:
    """Where a digest goes: a channel in a Discord guild, a Slack workspace, or the console."""

    platform: str
    workspace_id: str
    channel_id: str

    def __str__(self) -> str:
        return f"{self.platform}:{self.workspace_id}/{self.channel_id}"
