"""Story clustering: join on similarity, shared names and time; never across the window; stable states."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from summarizer.sentences import split_sentences
from summarizer.stories import (
    MAX_STORY_SPAN,
    STORY_WINDOW,
    ArticleSignature,
    StoryClusterer,
    StoryState,
    article_vector,
    cluster,
    representative,
)
from summarizer.tagging import Tagger
from tests.intelligence.shared import fixture_articles, shared_encoder

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def _unit(values: list[float]) -> np.ndarray:
    vector = np.asarray(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


def _article(values: list[float], hours: float = 0, entities: tuple[str, ...] = ()) -> ArticleSignature:
    return ArticleSignature(_unit(values), T0 + timedelta(hours=hours), frozenset(entities))


def test_similar_articles_join_and_different_ones_start_stories():
    """Near-identical vectors share a story; an orthogonal one starts its own."""
    clusterer = StoryClusterer()
    first = clusterer.assign(_article([1, 0, 0]))
    second = clusterer.assign(_article([0.95, 0.1, 0], hours=2))
    third = clusterer.assign(_article([0, 1, 0], hours=3))
    assert first.created and not second.created and third.created
    assert second.story is first.story
    assert first.story.size == 2 and third.story.size == 1


def test_shared_names_tip_a_borderline_article_into_the_story():
    """Shared names and figures add a bonus that can decide a borderline similarity."""
    base = ("strait thunder-2026b", "52", "eastern theatre command")
    borderline = [0.55, 0.835, 0]  # cosine 0.55 with [1, 0, 0]
    without = StoryClusterer()
    without.assign(_article([1, 0, 0], entities=base))
    assert without.assign(_article(borderline, hours=1)).created
    with_names = StoryClusterer()
    with_names.assign(_article([1, 0, 0], entities=base))
    assert not with_names.assign(_article(borderline, hours=1, entities=base)).created


def test_articles_outside_the_time_window_start_a_new_story():
    """The same subject days later is new news."""
    clusterer = StoryClusterer()
    clusterer.assign(_article([1, 0, 0]))
    later = clusterer.assign(_article([1, 0, 0], hours=STORY_WINDOW.total_seconds() / 3600 + 1))
    assert later.created


def test_a_story_stops_growing_after_its_maximum_span():
    """Daily coverage does not chain into one endless story."""
    clusterer = StoryClusterer()
    stories = {id(clusterer.assign(_article([1, 0, 0], hours=24 * day)).story) for day in range(10)}
    assert len(stories) == 2
    assert all(story.last_published - story.first_published <= MAX_STORY_SPAN for story in clusterer.stories)


def test_mean_update_is_exact_and_state_keeps_its_id():
    """The centroid is the mean of the members; a stored story keeps its id as it grows."""
    state = StoryState.start(_article([1, 0, 0]), story_id=7)
    state.add(_article([0, 1, 0], hours=1))
    assert state.story_id == 7
    np.testing.assert_allclose(state.mean, [0.5, 0.5, 0], atol=1e-6)
    assert representative(np.stack([_unit([1, 0, 0]), _unit([1, 1, 0])]), state.mean) == 1


def test_article_vector_is_title_plus_lead():
    """The article vector combines the title and the opening sentences and has unit length."""
    vector = article_vector(_unit([1, 0, 0]), np.stack([_unit([0, 1, 0])] * 5))
    np.testing.assert_allclose(vector, _unit([1, 1, 0]), atol=1e-6)


def test_fixture_articles_cluster_into_their_events():
    """On the labelled articles, clustering reaches the pairwise precision and recall measured in the docs."""
    encoder = shared_encoder()
    tagger = Tagger(encoder)
    signatures = []
    events = []
    for item in fixture_articles():
        sentences = [s.text for s in split_sentences(item.text)]
        vectors = encoder.encode([item.title, *sentences])
        tags = tagger.tag(item.text, item.title, vectors)
        signatures.append(
            ArticleSignature(
                article_vector(vectors[0], vectors[1:]),
                item.published,
                frozenset(tags.entities),
                frozenset(tags.salient_countries),
            )
        )
        events.append(item.event)
    labels = cluster(signatures)
    pairs = [(i, j) for i in range(len(events)) for j in range(i + 1, len(events))]
    same_event = {(i, j) for i, j in pairs if events[i] == events[j]}
    same_story = {(i, j) for i, j in pairs if labels[i] == labels[j]}
    precision = len(same_event & same_story) / len(same_story)
    recall = len(same_event & same_story) / len(same_event)
    assert precision >= 0.95
    assert recall >= 0.8
