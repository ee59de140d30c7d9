"""Group articles about the same event into stories, incrementally, as they arrive.

An article joins the most similar open story when the encoder similarity to the story's centroid, plus a bonus
for shared names and figures and for shared countries, passes a threshold, and the story's coverage is recent
enough (a time window). Otherwise it starts a new story. Stories never merge or split afterwards, so a story id
stays valid for as long as the story exists (threads in chat platforms hang on it).

Thresholds were tuned on the gold clustering of tests/intelligence/data/articles.toml (see docs/intelligence.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

__all__ = [
    "ArticleSignature",
    "Assignment",
    "StoryClusterer",
    "StoryState",
    "article_vector",
    "cluster",
    "representative",
]

LEAD_SENTENCES = 3  # the article vector is the title plus the mean of this many opening sentences
# Coverage more than this apart is a new story, even about the same subject (tomorrow's strike is new news).
STORY_WINDOW = timedelta(hours=72)
# A story that has run this long starts afresh, so one long war does not swallow every article about it.
MAX_STORY_SPAN = timedelta(days=7)
JOIN_THRESHOLD = 0.65  # similarity to the centroid + bonuses needed to join
MIN_SIMILARITY = 0.45  # below this no bonus can make two articles one story
ENTITY_BONUS = 0.05  # per shared name or figure ("Strait Thunder-2026B", "117")
ENTITY_BONUS_CAP = 2  # shared entities beyond this add nothing (large stories share much by chance)
COUNTRY_BONUS = 0.05  # when the article and the story share a salient country
MAX_STORY_ENTITIES = 200  # a story remembers at most this many entities (the most frequent)


def article_vector(title_vector: np.ndarray | None, sentence_vectors: np.ndarray) -> np.ndarray:
    """The vector that stands for an article: its title plus its lead, which say what the event is.

    Args:
        title_vector: the encoder vector of the headline, if there is one.
        sentence_vectors: the vectors of the body's sentences, in order.

    Returns:
        A unit-length float32 vector (zeros when there is no text at all).
    """
    parts = []
    if title_vector is not None:
        parts.append(np.asarray(title_vector, dtype=np.float32))
    if len(sentence_vectors):
        parts.append(np.asarray(sentence_vectors[:LEAD_SENTENCES], dtype=np.float32).mean(axis=0))
    if not parts:
        return np.zeros(sentence_vectors.shape[1] if sentence_vectors.ndim == 2 else 0, dtype=np.float32)
    return _unit(np.sum(parts, axis=0))


def representative(vectors: np.ndarray, centroid: np.ndarray) -> int:
    """Index of the vector closest to the centroid: the article whose title best names the story."""
    return int(np.argmax(np.asarray(vectors, dtype=np.float32) @ _unit(centroid)))


def _unit(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    return (vector / norm).astype(np.float32) if norm > 0 else vector.astype(np.float32)


@dataclass(frozen=True, slots=True)
class ArticleSignature:
    """What clustering needs to know about an article."""

    vector: np.ndarray
    published_at: datetime
    entities: frozenset[str] = frozenset()
    countries: frozenset[str] = frozenset()


@dataclass(slots=True)
class StoryState:
    """A story as clustering sees it; ``story_id`` is None until the caller has stored a new story.

    ``mean`` is the mean article vector (not normalised, so that it can be updated exactly).
    """

    story_id: int | None
    mean: np.ndarray
    size: int
    first_published: datetime
    last_published: datetime
    entities: dict[str, int] = field(default_factory=dict)
    countries: set[str] = field(default_factory=set)

    @property
    def unit(self) -> np.ndarray:
        """The centroid direction."""
        return _unit(self.mean)

    def distance_in_time(self, when: datetime) -> timedelta:
        """How far ``when`` lies outside the story's coverage period (zero inside it)."""
        if when < self.first_published:
            return self.first_published - when
        if when > self.last_published:
            return when - self.last_published
        return timedelta(0)

    def add(self, article: ArticleSignature) -> None:
        """Add an article: update the mean, the time range, the entities and the countries."""
        self.mean = (self.mean * self.size + article.vector) / (self.size + 1)
        self.size += 1
        self.first_published = min(self.first_published, article.published_at)
        self.last_published = max(self.last_published, article.published_at)
        for entity in article.entities:
            self.entities[entity] = self.entities.get(entity, 0) + 1
        if len(self.entities) > MAX_STORY_ENTITIES:
            kept = sorted(self.entities, key=lambda name: -self.entities[name])[:MAX_STORY_ENTITIES]
            self.entities = {name: self.entities[name] for name in kept}
        self.countries |= article.countries

    @classmethod
    def start(cls, article: ArticleSignature, story_id: int | None = None) -> StoryState:
        """A new story made of one article."""
        state = cls(story_id, np.zeros_like(article.vector), 0, article.published_at, article.published_at)
        state.add(article)
        return state


@dataclass(frozen=True, slots=True)
class Assignment:
    """Where an article went: the story (new or existing) and the score that decided it."""

    story: StoryState
    created: bool
    score: float
    similarity: float


class StoryClusterer:
    """Assigns articles to stories one at a time, keeping the stories it knows in memory.

    Args:
        stories: the open stories to start from (those whose coverage is recent enough to be joined).

    Example:
        >>> clusterer = StoryClusterer(open_stories)
        >>> for signature in new_articles_in_time_order:
        ...     assignment = clusterer.assign(signature)
    """

    def __init__(self, stories: Iterable[StoryState] = ()) -> None:
        self.stories: list[StoryState] = list(stories)

    def score(self, article: ArticleSignature, story: StoryState) -> tuple[float, float]:
        """The join score and the plain encoder similarity of an article to a story."""
        similarity = float(story.unit @ article.vector)
        shared = sum(1 for entity in article.entities if entity in story.entities)
        bonus = ENTITY_BONUS * min(shared, ENTITY_BONUS_CAP)
        if article.countries & story.countries:
            bonus += COUNTRY_BONUS
        return similarity + bonus, similarity

    def candidates(self, article: ArticleSignature) -> list[StoryState]:
        """The stories this article may join: close enough in time, and not grown too long by joining."""
        result = []
        for story in self.stories:
            if story.distance_in_time(article.published_at) > STORY_WINDOW:
                continue
            start = min(story.first_published, article.published_at)
            end = max(story.last_published, article.published_at)
            if end - start <= MAX_STORY_SPAN:
                result.append(story)
        return result

    def assign(self, article: ArticleSignature) -> Assignment:
        """Put the article into the best matching story, or start a new one; returns what happened."""
        best: StoryState | None = None
        best_score = best_similarity = float("-inf")
        for story in self.candidates(article):
            score, similarity = self.score(article, story)
            if similarity >= MIN_SIMILARITY and score >= JOIN_THRESHOLD and score > best_score:
                best, best_score, best_similarity = story, score, similarity
        if best is None:
            story = StoryState.start(article)
            self.stories.append(story)
            return Assignment(story, created=True, score=1.0, similarity=1.0)
        best.add(article)
        return Assignment(best, created=False, score=best_score, similarity=best_similarity)

    def forget_before(self, when: datetime) -> None:
        """Drop stories whose coverage ended more than the window before ``when`` (they can no longer grow)."""
        self.stories = [story for story in self.stories if when - story.last_published <= STORY_WINDOW]


def cluster(articles: Sequence[ArticleSignature]) -> list[int]:
    """Cluster a batch from scratch (in time order); returns a story number per article, in input order."""
    clusterer = StoryClusterer()
    numbers: dict[int, int] = {}
    labels = [0] * len(articles)
    for index in sorted(range(len(articles)), key=lambda i: articles[i].published_at):
        story = clusterer.assign(articles[index]).story
        labels[index] = numbers.setdefault(id(story), len(numbers))
    return labels
