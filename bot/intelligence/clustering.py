"""Stories from stored articles: re-cluster the open window, keep story ids stable, link storylines.

Each processing batch re-clusters every processed article published since `WINDOW` before the batch's oldest one
(`summarizer.stories.cluster_articles`), so stories can split and merge as coverage accumulates, and then keeps
the ids that channels and deliveries know:

- a story id stays with the part holding most of its delivered articles, then most of its articles
  (`keep_story_ids`); a story left with no article is marked ``merged_into`` the story that took most of them;
- a channel that has had a story has had every part of it: when articles that were in a delivered story move to
  another one (a merge, or a new story split off), that story counts as delivered to the channel too, so "a
  story reaches a channel once" holds through every split and merge (an article "was in" the story when it
  was processed before the delivery was recorded);
- a story that began more than `MAX_STORY_SPAN` before its newest article is not continued: the coverage starts
  a new story, linked to the old one as related.

Related stories (storylines) are pairs whose headline-and-lead profiles are alike without being one event: the
mean of their centroid cosine and the idf-weighted overlap of their names reaches `RELATED_THRESHOLD`, within
`RELATED_WINDOW` of each other.
"""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import delete, func, insert, or_, select
from sqlalchemy.orm import Session

from bot.storage import Database
from bot.storage.db import PerDatabase
from bot.storage.models import Article, ArticleAnalysis, DeliveredStory, Delivery, Story, StoryLink, utcnow
from summarizer.encoder import ENGLISH_ONLY
from summarizer.sentences import split_sentences
from summarizer.stories import (
    LEAD_SENTENCES,
    StoryFeatures,
    cluster_articles,
    keep_story_ids,
    related_pairs,
    weighted_terms,
)

WINDOW = timedelta(hours=72)  # articles published this long before the newest are re-clustered together
MAX_STORY_SPAN = timedelta(days=7)  # coverage this long after a story began starts a new, related story
RELATED_WINDOW = timedelta(days=7)  # stories this far apart in time are not linked
VECTOR_DTYPE = np.float32
_FETCH_CHUNK = 500  # ids per IN (...)


def story_terms(title: str, text: str, language: str | None = None) -> dict[str, float]:
    """The word profile clustering compares, from an article's headline, text and language."""
    lead = " ".join(s.text for s in split_sentences(text, limit=LEAD_SENTENCES, language=language))
    return weighted_terms(title, lead, text, language)


@dataclass(frozen=True, slots=True)
class _Member:
    article_id: int
    story_id: int | None
    processed_at: datetime
    features: StoryFeatures


class _FeatureCache:
    """Clustering features by article id, kept per database: they never change once an article is processed."""

    def __init__(self) -> None:
        self.features: dict[int, StoryFeatures] = {}
        self.lock = threading.Lock()

    def get(self, session: Session, ids: Sequence[int]) -> dict[int, StoryFeatures]:
        """The features of ``ids``, reading the missing ones; articles not in ``ids`` are forgotten."""
        with self.lock:
            wanted = set(ids)
            self.features = {key: value for key, value in self.features.items() if key in wanted}
            missing = [article_id for article_id in ids if article_id not in self.features]
            for start in range(0, len(missing), _FETCH_CHUNK):
                chunk = missing[start : start + _FETCH_CHUNK]
                query = (
                    select(
                        Article.id,
                        Article.title,
                        Article.text,
                        Article.published_at,
                        Article.language,
                        ArticleAnalysis.vector,
                        ArticleAnalysis.story_terms,
                    )
                    .join(ArticleAnalysis, ArticleAnalysis.article_id == Article.id)
                    .where(Article.id.in_(chunk))
                )
                for row in session.execute(query):
                    terms = row.story_terms
                    if terms is None:
                        terms = story_terms(row.title, row.text, row.language)
                    vector = np.frombuffer(row.vector, dtype=VECTOR_DTYPE).astype(np.float32)
                    self.features[row.id] = StoryFeatures.of(vector, terms, row.published_at, row.language)
            return dict(self.features)


_cache_for = PerDatabase(_FeatureCache)


def recluster(
    database: Database,
    session: Session,
    oldest: datetime,
    encoder_languages: frozenset[str] | None = ENGLISH_ONLY,
) -> set[int]:
    """Re-cluster the processed articles published since ``oldest - WINDOW``; returns the stories that changed.

    Articles get their (new or kept) story; stories emptied by a merge are marked merged; delivered marks follow
    the articles (see the module docstring). The caller refreshes the returned stories' profiles.
    ``encoder_languages`` are the languages the encoder covers (None: multilingual, languages may mix).
    """
    rows = session.execute(
        select(Article.id, Article.story_id, ArticleAnalysis.processed_at)
        .join(ArticleAnalysis, ArticleAnalysis.article_id == Article.id)
        .where(Article.published_at >= oldest - WINDOW)
        .order_by(Article.published_at, Article.id)
    ).all()
    if not rows:
        return set()
    features = _cache_for(database).get(session, [row.id for row in rows])
    members = [_Member(row.id, row.story_id, row.processed_at, features[row.id]) for row in rows]
    clusters = cluster_articles(
        [member.features for member in members],
        multilingual=encoder_languages is None,
        encoder_languages=encoder_languages or (),
    )
    last_delivered = _last_delivered(session, {m.story_id for m in members if m.story_id is not None})
    delivered = [m.story_id in last_delivered and m.processed_at <= last_delivered[m.story_id] for m in members]
    kept = keep_story_ids(clusters, [m.story_id for m in members], delivered=delivered)
    _drop_stale(session, kept, clusters, members)
    story_of = _story_ids(session, kept, clusters, members)
    moves = [(m, story_of[c]) for m, c in zip(members, clusters, strict=True) if m.story_id != story_of[c]]
    if not moves:
        return set()
    for member, story_id in moves:
        session.get_one(Article, member.article_id).story_id = story_id
    session.flush()
    _follow_deliveries(session, moves)
    touched = {story_id for _, story_id in moves} | {m.story_id for m, _ in moves if m.story_id is not None}
    _mark_merged(session, touched, moves)
    return touched


def _last_delivered(session: Session, story_ids: set[int]) -> dict[int, datetime]:
    """When each of the stories was last recorded for a channel (only those that were): what it held then was seen."""
    result: dict[int, datetime] = {}
    ids = sorted(story_ids)
    for start in range(0, len(ids), _FETCH_CHUNK):
        query = (
            select(DeliveredStory.story_id, func.max(Delivery.created_at))
            .join(Delivery, Delivery.id == DeliveredStory.delivery_id)
            .where(DeliveredStory.story_id.in_(ids[start : start + _FETCH_CHUNK]))
            .group_by(DeliveredStory.story_id)
        )
        result.update({story_id: when for story_id, when in session.execute(query)})
    return result


def _drop_stale(
    session: Session, kept: dict[int, int | None], clusters: Sequence[int], members: Sequence[_Member]
) -> None:
    """Do not continue a story that began more than MAX_STORY_SPAN before the cluster's newest article."""
    newest: dict[int, datetime] = {}
    for cluster, member in zip(clusters, members, strict=True):
        when = member.features.published_at
        newest[cluster] = max(newest.get(cluster, when), when)
    ids = [story_id for story_id in kept.values() if story_id is not None]
    began: dict[int, datetime] = {}
    for start in range(0, len(ids), _FETCH_CHUNK):
        query = select(Story.id, Story.first_published_at).where(Story.id.in_(ids[start : start + _FETCH_CHUNK]))
        began.update({story_id: when for story_id, when in session.execute(query) if when is not None})
    for cluster, story_id in kept.items():
        if story_id in began and newest[cluster] - began[story_id] > MAX_STORY_SPAN:
            kept[cluster] = None


def _story_ids(
    session: Session, kept: dict[int, int | None], clusters: Sequence[int], members: Sequence[_Member]
) -> dict[int, int]:
    """The story id of every cluster: the kept one, or a new story named after its first article."""
    first_article: dict[int, int] = {}
    for cluster, member in zip(clusters, members, strict=True):
        first_article.setdefault(cluster, member.article_id)
    story_of: dict[int, int] = {}
    for cluster, story_id in kept.items():
        if story_id is None:
            story = Story(title=session.get_one(Article, first_article[cluster]).title[:500], first_seen_at=utcnow())
            session.add(story)
            session.flush()
            story_id = story.id
        story_of[cluster] = story_id
    return story_of


def _follow_deliveries(session: Session, moves: Sequence[tuple[_Member, int]]) -> None:
    """Channels that had a story whose articles moved count as having their new story too."""
    by_origin: dict[int, dict[int, datetime]] = defaultdict(dict)  # origin story -> new story -> first moved
    for member, story_id in moves:
        if member.story_id is not None:
            seen = by_origin[member.story_id].get(story_id)
            by_origin[member.story_id][story_id] = min(seen, member.processed_at) if seen else member.processed_at
    if not by_origin:
        return
    marks = session.execute(
        select(DeliveredStory.subscription_id, DeliveredStory.story_id, DeliveredStory.delivery_id, Delivery.created_at)
        .join(Delivery, Delivery.id == DeliveredStory.delivery_id)
        .where(DeliveredStory.story_id.in_(list(by_origin)))
    ).all()
    wanted: dict[tuple[int, int], int] = {}
    for subscription_id, origin, delivery_id, recorded_at in marks:
        for story_id, first_processed in by_origin[origin].items():
            if first_processed <= recorded_at:  # the moved articles were part of what the channel had
                wanted.setdefault((subscription_id, story_id), delivery_id)
    if not wanted:
        return
    query = select(DeliveredStory.subscription_id, DeliveredStory.story_id).where(
        DeliveredStory.story_id.in_({story_id for _, story_id in wanted})
    )
    existing = {(subscription_id, story_id) for subscription_id, story_id in session.execute(query)}
    rows = [
        {"subscription_id": subscription_id, "story_id": story_id, "delivery_id": delivery_id}
        for (subscription_id, story_id), delivery_id in wanted.items()
        if (subscription_id, story_id) not in existing
    ]
    if rows:
        session.execute(insert(DeliveredStory), rows)


def _mark_merged(session: Session, touched: set[int], moves: Sequence[tuple[_Member, int]]) -> None:
    """Stories left without articles point to the story that took most of theirs."""
    counts = select(Article.story_id, func.count()).where(Article.story_id.in_(touched)).group_by(Article.story_id)
    remaining = {story_id: count for story_id, count in session.execute(counts)}
    went: dict[int, Counter[int]] = defaultdict(Counter)
    for member, story_id in moves:
        if member.story_id is not None:
            went[member.story_id][story_id] += 1
    for story_id in touched:
        if remaining.get(story_id, 0) == 0 and went.get(story_id):
            story = session.get_one(Story, story_id)
            story.merged_into_id = went[story_id].most_common(1)[0][0]
            story.article_count = 0


def link_related(session: Session, story_ids: Iterable[int]) -> None:
    """Recompute the storyline links of the given stories against stories near them in time."""
    ids = sorted(set(story_ids))
    if not ids:
        return
    stories = session.execute(
        select(Story.id, Story.centroid, Story.entities, Story.first_published_at, Story.last_published_at).where(
            Story.id.in_(ids), Story.article_count > 0
        )
    ).all()
    if not stories:
        return
    earliest = min(s.first_published_at for s in stories if s.first_published_at) - RELATED_WINDOW
    latest = max(s.last_published_at for s in stories if s.last_published_at) + RELATED_WINDOW
    nearby = session.execute(
        select(Story.id, Story.centroid, Story.entities, Story.first_published_at, Story.last_published_at).where(
            Story.article_count > 0,
            Story.centroid.is_not(None),
            Story.last_published_at >= earliest,
            Story.first_published_at <= latest,
        )
    ).all()
    index = {row.id: position for position, row in enumerate(nearby)}
    profiles = [
        StoryFeatures.of(
            np.frombuffer(row.centroid, dtype=VECTOR_DTYPE).astype(np.float32),
            {name: 1.0 for name in row.entities},
            row.last_published_at,
        )
        for row in nearby
    ]
    focus = [index[row.id] for row in stories if row.id in index]
    session.execute(delete(StoryLink).where(or_(StoryLink.story_id.in_(ids), StoryLink.related_id.in_(ids))))
    links = {}
    for a, b, score in related_pairs(profiles, focus):
        first, second = sorted((nearby[a].id, nearby[b].id))
        apart = max(
            nearby[b].first_published_at - nearby[a].last_published_at,
            nearby[a].first_published_at - nearby[b].last_published_at,
        )
        if apart <= RELATED_WINDOW:
            links[(first, second)] = score
    if links:
        session.execute(
            insert(StoryLink),
            [{"story_id": a, "related_id": b, "score": score} for (a, b), score in links.items()],
        )
