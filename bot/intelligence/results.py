"""What news intelligence returns: answers with cited sentences and story briefs, ready for any platform to render.

Briefs reuse the digest's `SourceLink` and `SummaryLine`, so a brief converts to a `DigestItem` as is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.digests.model import TEXT_KIND_LABELS, DigestItem, RelatedStory, SourceLink, SummaryLine
from bot.storage.models import TextKind
from summarizer.languages import ENGLISH, language_name

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
    """One story: its title, summary sentences citing their sources, the sources, and its tags.

    Attributes:
        story_id: the stored story's id (stable as coverage grows).
        title: the headline of the article that best represents the story.
        summary: sentences from the articles, each pointing at its entry in ``sources``.
        sources: the articles, newest first.
        countries: names of the countries the story is about, most salient first.
        regions: names of its regions and blocs; ``topics`` the labels of its topics.
        outlet_count: independent outlets covering it; ``country_count`` the countries those outlets are in.
        updated_at: when its newest article was published; ``score`` its rank score.
        related: other stories of the same storyline (related, not merged), most alike first.
        language: the ISO 639-1 code most of its articles are in (None: unknown).
    """

    story_id: int
    title: str
    summary: tuple[SummaryLine, ...]
    sources: tuple[SourceLink, ...]
    countries: tuple[str, ...]
    regions: tuple[str, ...]
    topics: tuple[str, ...]
    outlet_count: int
    country_count: int
    updated_at: datetime
    score: float = 0.0
    related: tuple[RelatedStory, ...] = ()
    language: str | None = None

    def to_digest_item(self, channel_language: str = ENGLISH) -> DigestItem:
        """The same story as a digest item, labelled with its language when that is not ``channel_language``."""
        other = self.language is not None and self.language != channel_language
        return DigestItem(
            story_id=self.story_id,
            title=self.title,
            summary=self.summary,
            sources=self.sources,
            updated_at=self.updated_at,
            countries=self.countries,
            regions=self.regions,
            topics=self.topics,
            related=self.related,
            language=self.language,
            language_label=f"in {language_name(self.language)}" if other and self.language else "",
        )


@dataclass(frozen=True)
class Brief:
    """The top stories for a topic, country or region (or for everything).

    Attributes:
        query: what was asked for, as typed.
        description: what it was understood as ("nuclear and missiles · Japan", or "all stories").
        stories: the stories, in the order to show them.
        as_of: the time the archive was last brought up to date.
        message: a line for when there are no stories.
    """

    query: str
    description: str
    stories: tuple[StoryBrief, ...]
    as_of: datetime
    message: str = ""
