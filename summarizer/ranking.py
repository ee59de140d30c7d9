"""Rank stories for a digest or a brief, and pick a set that spreads across regions.

A story's importance grows with the number of independent outlets that covered it and with the number of
countries those outlets are based in (five outlets from five countries beat five from one), and decays with age.
For a channel, stories it has already received count only when there is new coverage since, and the channel's
filters (countries, regions, topics, keywords, sources) decide what is eligible. Selection is greedy and
MMR-like: each pick lowers the score of other stories from the same region and of stories that look alike.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

__all__ = [
    "ChannelFilters",
    "ChannelHistory",
    "RankedStory",
    "StorySignals",
    "importance",
    "novelty",
    "select_stories",
]

OUTLET_WEIGHT = 1.0  # per doubling of independent outlets
COUNTRY_WEIGHT = 1.0  # per doubling of publisher countries: a spread of countries is what "big news" looks like
RECENCY_HALF_LIFE_HOURS = 24.0  # a day-old story counts half as much as a fresh one...
RECENCY_FLOOR = 0.1  # ...but a big story never drops below a tenth of its weight while still in the window
UPDATED_NOVELTY = 0.5  # a story the channel already got, with new coverage since, counts half
REGION_PENALTY = 0.5  # each story already picked from the same region halves the next one's score
SIMILARITY_PENALTY = 1.0  # subtract this times the cosine to the most similar picked story (MMR)
WORLD = "world"  # the region of stories that name no place


@dataclass(frozen=True, slots=True)
class StorySignals:
    """What ranking knows about a story.

    Attributes:
        story_id: the stored story's id.
        outlets: names of the outlets that covered it.
        publisher_countries: ISO codes of those outlets' countries.
        last_published_at: when its newest article was published.
        region: the region that selection spreads over (the primary region of its main country), or "world".
        countries: ISO codes of the countries it is about; ``regions`` and ``topics`` its region and topic ids.
        text: title and summary, for keyword filters.
        vector: the story centroid (unit length), for redundancy; optional.
    """

    story_id: int
    outlets: frozenset[str]
    publisher_countries: frozenset[str]
    last_published_at: datetime
    region: str = WORLD
    countries: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    text: str = ""
    vector: np.ndarray | None = field(default=None, compare=False)
    language: str | None = None  # ISO 639-1 of most of its articles (None: not known, taken as English)


@dataclass(frozen=True, slots=True)
class ChannelFilters:
    """A channel's filters: a story must match every non-empty group (any member of that group).

    ``countries`` are ISO codes, ``regions`` region/bloc ids, ``topics`` topic ids, ``keywords`` words matched in
    the title and summary (case-insensitive), ``sources`` outlet names (case-insensitive), ``languages``
    ISO 639-1 codes (a story of unknown language counts as English).
    """

    countries: frozenset[str] = frozenset()
    regions: frozenset[str] = frozenset()
    topics: frozenset[str] = frozenset()
    keywords: frozenset[str] = frozenset()
    sources: frozenset[str] = frozenset()
    languages: frozenset[str] = frozenset()

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> ChannelFilters:
        """Build filters from ``Subscription.filters`` ({"countries": [...], "regions": [...], ...})."""
        data = data or {}

        def group(key: str, fold: bool = False) -> frozenset[str]:
            return frozenset(str(value).lower() if fold else str(value) for value in data.get(key, []) or [])

        return cls(
            countries=frozenset(code.upper() for code in group("countries")),
            regions=group("regions"),
            topics=group("topics"),
            keywords=group("keywords", fold=True),
            sources=group("sources", fold=True),
            languages=group("languages", fold=True),
        )

    def matches(self, story: StorySignals) -> bool:
        """True when the story passes every filter group that is set."""
        if self.countries and not self.countries & set(story.countries):
            return False
        if self.regions and not self.regions & set(story.regions):
            return False
        if self.topics and not self.topics & set(story.topics):
            return False
        if self.keywords and not any(word in story.text.lower() for word in self.keywords):
            return False
        if self.languages and (story.language or "en") not in self.languages:
            return False
        return not (self.sources and not self.sources & {outlet.lower() for outlet in story.outlets})


@dataclass(frozen=True, slots=True)
class ChannelHistory:
    """What a channel has already received: story id -> when it was delivered."""

    delivered: Mapping[int, datetime] = field(default_factory=dict)


def importance(story: StorySignals, now: datetime) -> float:
    """How important a story is now: independent outlets and publisher countries, decayed by age."""
    breadth = OUTLET_WEIGHT * math.log2(1 + len(story.outlets)) + COUNTRY_WEIGHT * math.log2(
        1 + len(story.publisher_countries)
    )
    age_hours = max((now - story.last_published_at).total_seconds() / 3600.0, 0.0)
    recency = 0.5 ** (age_hours / RECENCY_HALF_LIFE_HOURS)
    return float(breadth * (RECENCY_FLOOR + (1.0 - RECENCY_FLOOR) * recency))


def novelty(story: StorySignals, history: ChannelHistory | None) -> float:
    """1 for a story the channel has not had; ``UPDATED_NOVELTY`` if it has, with coverage since; else 0."""
    if history is None or story.story_id not in history.delivered:
        return 1.0
    return UPDATED_NOVELTY if story.last_published_at > history.delivered[story.story_id] else 0.0


@dataclass(frozen=True, slots=True)
class RankedStory:
    """A selected story with the numbers behind its place."""

    story_id: int
    score: float
    importance: float
    novelty: float
    region: str


def select_stories(
    stories: Iterable[StorySignals],
    now: datetime,
    limit: int = 5,
    filters: ChannelFilters | None = None,
    history: ChannelHistory | None = None,
) -> list[RankedStory]:
    """Choose up to ``limit`` stories, most important first, spread across regions.

    Args:
        stories: the candidates (typically the stories updated within the digest window).
        now: the time of the digest (recency is measured from it).
        limit: how many stories to return.
        filters: the channel's filters; ``None`` lets everything through.
        history: what the channel already received; ``None`` means nothing.

    Returns:
        The chosen stories in the order to show them.
    """
    pool: list[tuple[StorySignals, float, float]] = []
    for story in stories:
        if filters is not None and not filters.matches(story):
            continue
        fresh = novelty(story, history)
        if fresh > 0:
            pool.append((story, importance(story, now), fresh))
    chosen: list[RankedStory] = []
    chosen_vectors: list[np.ndarray] = []
    per_region: dict[str, int] = {}
    while pool and len(chosen) < limit:
        best_index, best_score = 0, float("-inf")
        for index, (story, weight, fresh) in enumerate(pool):
            score = weight * fresh * REGION_PENALTY ** per_region.get(story.region, 0)
            score -= SIMILARITY_PENALTY * _max_similarity(story.vector, chosen_vectors) * weight * fresh
            if score > best_score:
                best_index, best_score = index, score
        story, weight, fresh = pool.pop(best_index)
        chosen.append(RankedStory(story.story_id, best_score, weight, fresh, story.region))
        per_region[story.region] = per_region.get(story.region, 0) + 1
        if story.vector is not None:
            chosen_vectors.append(story.vector)
    return chosen


def _max_similarity(vector: np.ndarray | None, others: Sequence[np.ndarray]) -> float:
    """The largest positive cosine between ``vector`` and any of ``others`` (0 when there is nothing to compare)."""
    if vector is None or not others:
        return 0.0
    return max(0.0, float(np.max(np.stack(others) @ vector)))
