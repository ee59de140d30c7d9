"""Story clustering: average linkage over words, meaning and time; stable story ids through splits and merges."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from summarizer.sentences import split_sentences
from summarizer.stories import (
    JOIN_THRESHOLD,
    StoryFeatures,
    article_vector,
    cluster_articles,
    keep_story_ids,
    related_pairs,
    representative,
    similarity_matrix,
    weighted_terms,
)
from tests.intelligence.shared import fixture_articles, shared_encoder

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
# Three confusable pairs of real events from ECB+ (6 articles each at most): two sentencings / escapes in US
# courts and prisons, two bombings of banks (Oregon 2008, Athens 2010), two earthquakes on Qeshm island (2008, 2005).
ECB_PAIRS = Path(__file__).resolve().parent / "data" / "ecbplus-pairs.jsonl"


def _unit(values: list[float]) -> np.ndarray:
    vector = np.asarray(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


def _features(values: list[float], words: str, hours: float = 0, language: str | None = "en") -> StoryFeatures:
    return StoryFeatures.of(_unit(values), weighted_terms(words, words, words), T0 + timedelta(hours=hours), language)


def test_reports_of_one_event_join_and_another_event_stays_apart():
    """Alike in words and meaning: one story; different in both: another."""
    labels = cluster_articles(
        [
            _features([1, 0, 0], "Qeshm earthquake magnitude 5.6 injures five"),
            _features([0.95, 0.1, 0], "Earthquake of magnitude 5.6 jolts Qeshm island, five hurt", hours=2),
            _features([0, 1, 0], "Oregon bank bomb kills police officer in Woodburn", hours=3),
        ]
    )
    assert labels[0] == labels[1] != labels[2]


def test_time_apart_separates_the_same_subject():
    """The same words two days later are a new development, not the same story."""
    first, later = _features([1, 0, 0], "strike closes ports"), _features([1, 0, 0], "strike closes ports", 48)
    similarity = similarity_matrix([first, later])
    assert similarity[0, 1] < JOIN_THRESHOLD
    assert len(set(cluster_articles([first, later]))) == 2
    assert similarity_matrix([first, _features([1, 0, 0], "strike closes ports", 6)])[0, 1] == pytest.approx(1.0)


def test_languages_never_mix_unless_the_encoder_is_multilingual():
    """A monolingual encoder says nothing across languages: such pairs are never one story."""
    german = _features([1, 0, 0], "Erdbeben Qeshm", language="de")
    english = _features([1, 0, 0], "Erdbeben Qeshm", hours=1, language="en")
    assert len(set(cluster_articles([german, english]))) == 2
    assert len(set(cluster_articles([german, english], multilingual=True))) == 1


def test_average_linkage_does_not_chain_two_events_through_one_article():
    """An article that resembles two events does not make them one story (single linkage would)."""
    a1 = _features([1, 0, 0], "senate vote budget shutdown")
    a2 = _features([1, 0.05, 0], "senate vote budget shutdown deal")
    bridge = _features([0.7, 0.7, 0], "senate vote budget court nominee")
    b1 = _features([0, 1, 0], "court nominee hearing")
    b2 = _features([0.05, 1, 0], "court nominee hearing testimony")
    labels = cluster_articles([a1, a2, bridge, b1, b2])
    assert labels[0] == labels[1] and labels[3] == labels[4] and labels[0] != labels[3]


def test_headline_and_lead_weigh_above_the_body():
    """A word of the headline counts more than the same word deep in the body."""
    profile = weighted_terms("Qeshm quake", "A quake hit Qeshm.", "A quake hit Qeshm. Aid arrived from Bandar Abbas.")
    assert profile["qeshm"] > profile["bandar"]
    assert profile["quake"] == profile["qeshm"]


def test_article_vector_is_title_plus_lead_and_representative_is_nearest():
    """The article vector combines the headline and the opening sentences; the representative is nearest."""
    vector = article_vector(_unit([1, 0, 0]), np.stack([_unit([0, 1, 0])] * 5))
    np.testing.assert_allclose(vector, _unit([1, 1, 0]), atol=1e-6)
    assert representative(np.stack([_unit([1, 0, 0]), _unit([1, 1, 0])]), np.array([0.5, 0.5, 0])) == 1


def test_a_split_keeps_the_id_where_most_delivered_articles_are():
    """Story 7 splits in two: the part with its delivered articles keeps 7 although the other part is larger."""
    clusters = [0, 0, 1, 1, 1]
    previous = [7, 7, 7, 7, 7]
    delivered = [True, True, False, False, False]
    assert keep_story_ids(clusters, previous, delivered=delivered) == {0: 7, 1: None}
    assert keep_story_ids(clusters, previous) == {0: None, 1: 7}  # nothing delivered: the larger part


def test_a_merge_keeps_the_delivered_then_the_larger_then_the_older_id():
    """Stories 3 and 5 merge: the delivered one's id survives; without deliveries the larger; then the lower id."""
    clusters = [0, 0, 0, 0]
    assert keep_story_ids(clusters, [3, 5, 5, None], delivered=[True, False, False, False]) == {0: 3}
    assert keep_story_ids(clusters, [3, 5, 5, None]) == {0: 5}
    assert keep_story_ids(clusters, [5, 3, None, None]) == {0: 3}


def test_each_id_goes_to_one_cluster_and_new_articles_make_new_stories():
    """Unchanged stories keep their ids; a cluster of new articles is new; no id is given twice."""
    kept = keep_story_ids([0, 0, 1, 2, 2], [4, 4, 4, None, None])
    assert kept == {0: 4, 1: None, 2: None}


def test_related_pairs_link_stories_of_one_situation():
    """Stories alike in content are related; an unrelated one is not."""
    stories = [
        _features([1, 0, 0], "shutdown senate offer schumer"),
        _features([0.9, 0.3, 0], "shutdown emergency declaration schumer"),
        _features([0, 0, 1], "earthquake qeshm island"),
    ]
    pairs = related_pairs(stories, [0, 2], threshold=0.3)
    assert [(a, b) for a, b, _ in pairs] == [(0, 1)]


def _ecb_features() -> tuple[list[StoryFeatures], list[str]]:
    encoder = shared_encoder()
    rows = [json.loads(line) for line in ECB_PAIRS.read_text(encoding="utf-8").splitlines()]
    features, events = [], []
    for index, row in enumerate(rows):
        title = row["title"] or ""
        lead = [sentence.text for sentence in split_sentences(row["text"], limit=3)]
        vectors = encoder.encode([title, *lead])
        # The court and bank pairs in the same hours: time cannot tell them apart, only what they say. The two
        # quakes on one island are a day apart: on the same day their reports read alike (aftershock coverage).
        later = 30 if row["event_id"] == "ecbplus-t20-ecbplus" else 0
        when = T0 + timedelta(hours=index % 6 + later)
        vector = article_vector(vectors[0], vectors[1:])
        features.append(StoryFeatures.of(vector, weighted_terms(title, " ".join(lead), row["text"]), when, "en"))
        events.append(row["event_id"])
    return features, events


@pytest.mark.slow
def test_confusable_real_events_stay_apart():
    """Real ECB+ pairs (two bank bombings, two prison cases, two quakes on one island): no story mixes them."""
    features, events = _ecb_features()
    labels = cluster_articles(features)
    for label in set(labels):
        assert len({event for event, other in zip(events, labels, strict=True) if other == label}) == 1
    # and most reports of each event are found together
    for event in set(events):
        members = [label for other, label in zip(events, labels, strict=True) if other == event]
        assert max(members.count(label) for label in set(members)) >= len(members) / 2


@pytest.mark.slow
def test_fixture_articles_cluster_into_their_events():
    """On the self-written labelled articles, clustering keeps the precision and recall of the docs."""
    encoder = shared_encoder()
    features, events = [], []
    for item in fixture_articles():
        lead = [s.text for s in split_sentences(item.text, limit=3)]
        vectors = encoder.encode([item.title, *lead])
        vector = article_vector(vectors[0], vectors[1:])
        features.append(StoryFeatures.of(vector, weighted_terms(item.title, " ".join(lead), item.text), item.published))
        events.append(item.event)
    labels = cluster_articles(features)
    pairs = [(i, j) for i in range(len(events)) for j in range(i + 1, len(events))]
    same_event = {(i, j) for i, j in pairs if events[i] == events[j]}
    same_story = {(i, j) for i, j in pairs if labels[i] == labels[j]}
    assert len(same_event & same_story) / len(same_story) >= 0.95
    assert len(same_event & same_story) / len(same_event) >= 0.8
