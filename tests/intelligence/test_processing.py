"""Processing: articles are tagged, embedded, indexed and grouped into stories that keep their ids as they grow."""

from __future__ import annotations

import numpy as np
from sqlalchemy import func, select

from bot.intelligence import process_new_articles
from bot.intelligence.fulltext import term_counts_of
from bot.intelligence.processing import SENTENCE_DTYPE, from_blob
from bot.storage import Article, Story
from bot.storage.models import ArticleAnalysis
from summarizer.retrieval import tokenize
from tests.intelligence.shared import article, fixture_articles, shared_encoder, store_articles


def test_stories_grow_with_coverage_and_keep_their_id(database):
    """New outlets join the existing story (same id); outlets, publisher countries, title and summary follow."""
    encoder = shared_encoder()
    first = store_articles(database, [article("nk-icbm-seoul"), article("eu-sanctions-berlin")])
    report = process_new_articles(database, encoder)
    assert (report.articles, report.stories_created) == (2, 2)
    with database.session() as session:
        story_id = session.get_one(Article, first["nk-icbm-seoul"]).story_id
        assert story_id is not None
        assert session.get_one(Story, story_id).outlets == ["Seoul Herald"]

    later = store_articles(database, [article("nk-icbm-tokyo"), article("nk-icbm-atlantic")])
    report = process_new_articles(database, encoder)
    assert (report.articles, report.stories_created, report.stories_updated) == (2, 0, 1)
    with database.session() as session:
        assert {session.get_one(Article, i).story_id for i in later.values()} == {story_id}
        story = session.get_one(Story, story_id)
        assert story.article_count == 3
        assert story.outlets == ["Atlantic Wire", "Seoul Herald", "Tokyo Daily"]
        assert story.publisher_countries == ["JP", "KR", "US"]
        assert story.countries[:2] == ["KP", "JP"] or story.countries[0] == "KP"
        assert "nuclear" in story.topics
        member_ids = {*later.values(), first["nk-icbm-seoul"]}
        assert story.summary and all(line["article_id"] in member_ids for line in story.summary)
        assert story.title in {article(key).title for key in ("nk-icbm-seoul", "nk-icbm-tokyo", "nk-icbm-atlantic")}
        assert session.scalar(select(func.count()).select_from(Story)) == 2


def test_processing_twice_does_nothing_new(database):
    """Only unprocessed articles are read: a second run finds nothing to do."""
    store_articles(database, [article("opec-riyadh")])
    assert process_new_articles(database, shared_encoder()).articles == 1
    assert process_new_articles(database, shared_encoder()).articles == 0


def test_analysis_stores_tags_vectors_sentences_and_words(archive):
    """Each article gets its tags, a unit vector, sentence offsets with vectors, and its word counts."""
    item = article("taiwan-drills-taipei")
    with archive.database.session() as session:
        analysis = session.get_one(ArticleAnalysis, archive.ids[item.key])
        assert analysis.countries[:2] == ["TW", "CN"] or set(analysis.countries[:2]) == {"TW", "CN"}
        assert "security" in analysis.topics
        assert "strait thunder-2026b" in analysis.entities
        vectors = from_blob(analysis.sentence_vectors, SENTENCE_DTYPE, dim=384)
        assert len(vectors) == len(analysis.sentence_spans) > 3
        start, end = analysis.sentence_spans[1]
        assert item.text[start:end].startswith("The Eastern Theatre Command said")
        assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=0.01)
        # The word index (the database's full-text index) has the article's terms with their counts.
        (command,) = tokenize("Command")
        counts = term_counts_of(session, [analysis.article_id], ["taiwan", "the", command])[analysis.article_id]
        assert counts["taiwan"] >= 3 and "the" not in counts and counts[command] >= 1
        assert analysis.term_count > sum(counts.values())


def test_archive_stories_follow_the_events(archive):
    """Across all test articles, stories match the labelled events (pairwise precision and recall)."""
    events = {archive.ids[item.key]: item.event for item in fixture_articles()}
    with archive.database.session() as session:
        stories = {
            article_id: story_id for article_id, story_id in session.execute(select(Article.id, Article.story_id))
        }
    ids = sorted(events)
    pairs = [(a, b) for i, a in enumerate(ids) for b in ids[i + 1 :]]
    same_event = {pair for pair in pairs if events[pair[0]] == events[pair[1]]}
    same_story = {pair for pair in pairs if stories[pair[0]] == stories[pair[1]]}
    assert len(same_event & same_story) / len(same_story) >= 0.95
    assert len(same_event & same_story) / len(same_event) >= 0.8
