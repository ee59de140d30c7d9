"""Re-clustering stored stories: ids survive splits and merges, and a story reaches a channel once through both."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.intelligence.clustering import MAX_STORY_SPAN, recluster
from bot.intelligence.processing import VECTOR_DTYPE, to_blob
from bot.storage import Article, Database, DeliveredStory, Delivery, Story, Subscription, TextKind
from bot.storage.models import ArticleAnalysis
from summarizer.stories import weighted_terms

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
DIM = 8
# Two events that share no words and point different ways: clustering keeps them apart and joins each one.
EVENTS = {
    "quake": ("Qeshm earthquake magnitude injures villagers", 0),
    "heist": ("Paris jewellery heist robbers disguised", 1),
}


def _vector(axis: int, jitter: float) -> np.ndarray:
    vector = np.zeros(DIM, dtype=np.float32)
    vector[axis] = 1.0
    vector[(axis + 2) % DIM] = jitter
    return vector / np.linalg.norm(vector)


def _article(session, event: str, number: int, *, story: int | None, processed: datetime, hours: float = 0) -> Article:
    words, axis = EVENTS[event]
    article = Article(
        canonical_url=f"https://news.example/{event}/{number}",
        content_hash=f"{event}{number}",
        title=f"{words} {number}",
        outlet=f"Outlet {number}",
        published_at=T0 + timedelta(hours=hours),
        text=words,
        language="en",
        text_kind=TextKind.FULL_TEXT,
        story_id=story,
    )
    session.add(article)
    session.flush()
    session.add(
        ArticleAnalysis(
            article_id=article.id,
            processed_at=processed,
            encoder="test",
            countries=[],
            salient_countries=[],
            regions=[],
            topics=[],
            entities=[],
            vector=to_blob(_vector(axis, 0.05 * number), VECTOR_DTYPE),
            sentence_spans=[],
            sentence_vectors=b"",
            term_count=len(words.split()),
            story_terms=weighted_terms(words, words, words),
        )
    )
    return article


def _story(session: Session, title: str = "story") -> int:
    story = Story(title=title, first_published_at=T0, last_published_at=T0, article_count=1)
    session.add(story)
    session.flush()
    return story.id


def _deliver(session: Session, channel: str, story_id: int, when: datetime) -> int:
    subscription = session.scalar(select(Subscription).where(Subscription.channel_id == channel))
    if subscription is None:
        subscription = Subscription(platform="console", workspace_id="local", channel_id=channel, schedule="08:00")
        session.add(subscription)
        session.flush()
    delivery = Delivery(subscription_id=subscription.id, occurrence_key=f"{channel}-{story_id}", created_at=when)
    session.add(delivery)
    session.flush()
    session.add(DeliveredStory(subscription_id=subscription.id, story_id=story_id, delivery_id=delivery.id))
    return subscription.id


def _story_of(session, url_part: str) -> set[int | None]:
    query = select(Article.story_id).where(Article.canonical_url.contains(url_part))
    return set(session.scalars(query))


def _marks(session, subscription_id: int) -> set[int]:
    query = select(DeliveredStory.story_id).where(DeliveredStory.subscription_id == subscription_id)
    return set(session.scalars(query))


def test_new_reports_join_the_story_and_keep_its_id(database: Database):
    """A stored story gains the new reports of its event under the same id; the other event gets its own story."""
    with database.session() as session:
        story = _story(session)
        _article(session, "quake", 1, story=story, processed=T0)
        _article(session, "quake", 2, story=None, processed=T0, hours=2)
        _article(session, "heist", 3, story=None, processed=T0, hours=3)
        touched = recluster(database, session, T0)
        assert _story_of(session, "/quake/") == {story}
        [heist] = _story_of(session, "/heist/")
        assert heist not in (None, story) and touched == {story, heist}


def test_a_merge_keeps_the_delivered_id_though_the_other_story_is_larger(database: Database):
    """Two stories of one event merge: the delivered one's id survives, and the other points to it."""
    with database.session() as session:
        delivered, other = _story(session), _story(session)
        _article(session, "quake", 1, story=other, processed=T0)
        _article(session, "quake", 2, story=other, processed=T0)
        _article(session, "quake", 3, story=delivered, processed=T0)
        channel = _deliver(session, "C1", delivered, T0 + timedelta(hours=1))
        recluster(database, session, T0)
        assert _story_of(session, "/quake/") == {delivered}
        merged = session.get_one(Story, other)
        assert (merged.merged_into_id, merged.article_count) == (delivered, 0)
        assert _marks(session, channel) == {delivered}


def test_channels_that_had_either_merged_story_never_get_the_merge(database: Database):
    """Both stories were delivered, to different channels: the merged story counts as delivered to both."""
    with database.session() as session:
        larger, smaller = _story(session), _story(session)
        _article(session, "quake", 1, story=larger, processed=T0)
        _article(session, "quake", 2, story=larger, processed=T0)
        _article(session, "quake", 3, story=smaller, processed=T0)
        had_larger = _deliver(session, "C1", larger, T0 + timedelta(hours=1))
        had_smaller = _deliver(session, "C2", smaller, T0 + timedelta(hours=1))
        recluster(database, session, T0)
        assert _story_of(session, "/quake/") == {larger}  # more delivered articles
        assert session.get_one(Story, smaller).merged_into_id == larger
        assert _marks(session, had_larger) == {larger}
        assert _marks(session, had_smaller) == {smaller, larger}


def test_a_split_keeps_the_id_where_the_delivered_articles_are(database: Database):
    """A story that held two events splits: the part the channel saw keeps the id; the other part is new."""
    delivered_at = T0 + timedelta(hours=2)
    with database.session() as session:
        story = _story(session)
        for number in (1, 2):
            _article(session, "quake", number, story=story, processed=T0)  # in the story when it was delivered
        _article(session, "heist", 3, story=story, processed=T0)  # so was this one
        for number in (4, 5, 6):
            _article(session, "heist", number, story=story, processed=T0 + timedelta(hours=3))  # joined later
        saw_all = _deliver(session, "C1", story, delivered_at)
        early = _deliver(session, "C2", story, T0 - timedelta(minutes=1))  # before any article: a bare story
        recluster(database, session, T0)
        assert _story_of(session, "/quake/") == {story}  # two delivered articles beat three later ones
        [split_off] = _story_of(session, "/heist/")
        assert split_off != story
        assert _marks(session, saw_all) == {story, split_off}  # C1 had a heist article in its digest item
        assert _marks(session, early) == {story}


def test_a_story_older_than_its_span_is_not_continued(database: Database):
    """Coverage more than the story span after a story began starts a new story."""
    with database.session() as session:
        story = _story(session)
        session.get_one(Story, story).first_published_at = T0 - MAX_STORY_SPAN - timedelta(hours=1)
        _article(session, "quake", 1, story=story, processed=T0)
        _article(session, "quake", 2, story=None, processed=T0, hours=1)
        recluster(database, session, T0)
        [continued] = _story_of(session, "/quake/")
        assert continued != story


def test_reclustering_twice_changes_nothing(database: Database):
    """Once the window is clustered, clustering it again moves no article."""
    with database.session() as session:
        for number in (1, 2):
            _article(session, "quake", number, story=None, processed=T0)
        _article(session, "heist", 3, story=None, processed=T0)
        assert recluster(database, session, T0)
        assert recluster(database, session, T0) == set()
