"""What news intelligence returns: answers with cited sentences and story briefs, ready for any platform to render.

A brief's stories are `DigestItem`s, the one story type every platform renders, with their ranking beside them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.digests.model import TEXT_KIND_LABELS, DigestItem
from bot.storage.models import TextKind

NOTHING_FOUND = "I have nothing on that in the archive."


@dataclass(frozen=True)
class AlsoReported:
    """Another outlet's article that states the same fact as a cited sentence."""

    outlet: str
    title: str
    url: str


@dataclass(frozen=True)
class CitedSentence:
    """A sentence taken word for word from a stored article, with what is needed to cite it.

    ``also_reported_by`` lists other outlets whose articles state the same fact (one article per outlet).
    """

    text: str
    article_id: int
    title: str
    outlet: str
    url: str
    published_at: datetime
    text_kind: TextKind
    score: float
    also_reported_by: tuple[AlsoReported, ...] = ()

    @property
    def label(self) -> str:
        """What the article's stored text is ("full text", "feed teaser only", ...)."""
        return TEXT_KIND_LABELS[self.text_kind]


@dataclass(frozen=True)
class Answer:
    """The reply to a question: 1 to 3 cited sentences, or a plain "nothing on that" when nothing answers it.

    Attributes:
        question: the question as asked.
        sentences: the best answering sentence, then at most two from other outlets that add something, each
            citing its article (empty when ``found`` is False).
        as_of: the time the archive was last brought up to date (the newest stored article's fetch time).
        found: whether the archive holds anything relevant.
        message: a line to show above the sentences, or instead of them.
        searched: how many articles were in the searched window.
        note: a line saying which stored articles could not be searched yet ("" when none).
    """

    question: str
    sentences: tuple[CitedSentence, ...]
    as_of: datetime
    found: bool
    message: str
    searched: int = 0
    note: str = ""


@dataclass(frozen=True)
class StoryBrief:
    """One story as ranked for a brief or a digest: the story as every platform shows it, and how it ranked.

    Attributes:
        item: the story (title, summary lines citing their sources, sources newest first, tags, related stories).
        outlet_count: independent outlets covering it, all of them (``item`` lists at most a few sources).
        country_count: the countries those outlets are in.
        score: its rank score.
    """

    item: DigestItem
    outlet_count: int
    country_count: int
    score: float = 0.0

    @property
    def story_id(self) -> int:
        """The stored story's id (stable as coverage grows)."""
        return self.item.story_id


@dataclass(frozen=True)
class Brief:
    """The top stories for a topic, country or region (or for everything).

    Attributes:
        query: what was asked for, as typed.
        description: what it was understood as ("nuclear and missiles · Japan"), "" for everything.
        stories: the stories, in the order to show them.
        as_of: the time the archive was last brought up to date.
        message: a line for when there are no stories.
    """

    query: str
    description: str
    stories: tuple[StoryBrief, ...]
    as_of: datetime
    message: str = ""
