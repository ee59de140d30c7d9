"""Multi-article story summaries: what the outlets' leads agree on, non-redundant, each sentence citing its article."""

from __future__ import annotations

import pytest

from summarizer.results import StoryDocument
from summarizer.story import summarize_story

DOCS = [
    StoryDocument(
        "The European Union agreed a new package of sanctions against Iran on Tuesday. "
        "Foreign ministers meeting in Brussels approved asset freezes on 12 officials and three companies. "
        "The sanctions follow months of stalled talks over Iran's nuclear programme.",
        doc_id="reuters-1",
        title="EU adopts new Iran sanctions",
    ),
    StoryDocument(
        "European Union ministers approved fresh sanctions on Tehran on Tuesday. "
        "Iran's foreign ministry said the measures were illegal and vowed a firm response. "
        "Oil prices rose slightly after the announcement in Brussels.",
        doc_id="bbc-7",
    ),
    StoryDocument(
        "BRUSSELS — EU foreign ministers agreed new sanctions against Iran on Tuesday, diplomats said. "
        "Tehran summoned the envoys of three European countries in protest. "
        "Analysts expect the measures to have limited economic effect.",
        doc_id="ap-3",
    ),
]


@pytest.fixture(scope="module")
def story(encoder):
    return summarize_story(DOCS, encoder, max_sentences=4)


def test_each_sentence_cites_its_article_with_exact_offsets(story):
    """Every sentence is a span of the article it names (by index and id)."""
    assert story.documents == 3
    assert 1 <= len(story.sentences) <= 4  # fewer when more would only add what the outlets do not share
    for s in story.sentences:
        doc = DOCS[s.doc_index]
        assert s.doc_id == doc.doc_id
        assert doc.text[s.start : s.end] == s.text


def test_the_same_fact_from_three_outlets_appears_once_and_is_corroborated(story):
    """ "EU agreed sanctions on Tuesday" is told by all three; it is said once and the others are credited."""
    about_the_decision = [s for s in story.sentences if "sanctions" in s.text and "Tuesday" in s.text]
    assert len(about_the_decision) == 1
    assert len(about_the_decision[0].also_in) == 2
    assert about_the_decision[0].doc_index not in about_the_decision[0].also_in


def test_sentences_come_from_more_than_one_article(story):
    """Coverage is spread over the outlets rather than copied from the first one."""
    assert len({s.doc_index for s in story.sentences}) >= 2


def test_character_budget_and_empty_input(encoder):
    """max_chars bounds the total; no articles give an empty story."""
    short = summarize_story(DOCS, encoder, max_sentences=5, max_chars=160)
    assert 0 < len(short.text) <= 160
    assert summarize_story([], encoder).sentences == ()
    with pytest.raises(ValueError):
        summarize_story(DOCS, encoder, max_sentences=0)


def test_the_fact_all_outlets_report_leads_and_lines_are_in_reading_order(story):
    """The consensus fact is chosen and comes first; the lines follow their position in their articles."""
    assert "sanctions" in story.sentences[0].text and "Tuesday" in story.sentences[0].text
    assert [s.index for s in story.sentences] == sorted(s.index for s in story.sentences)


def test_a_fragment_cut_off_by_the_feed_is_never_a_summary_line(encoder):
    """A text that starts mid-sentence (lower case) gives no summary line; the outlets' full sentences do."""
    docs = [
        StoryDocument(
            "titled “The NRA And Russia” and released Friday after an 18-month investigation, relies on documents "
            "obtained by the committee.",
            doc_id="cut",
        ),
        *DOCS[:2],
    ]
    summary = summarize_story(docs, encoder, max_sentences=3)
    assert summary.sentences
    assert all(s.doc_id != "cut" for s in summary.sentences)
    assert all(not s.text[0].islower() for s in summary.sentences)
