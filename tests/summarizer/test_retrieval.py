"""Hybrid retrieval: tokenising, BM25, the combined score and answer selection."""

from __future__ import annotations

import numpy as np

from summarizer.retrieval import (
    RELEVANCE_THRESHOLD,
    Bm25Stats,
    ScoredPassage,
    bm25_scores,
    rank_passages,
    select_answer,
    tokenize,
)


def test_tokenize_drops_function_words_and_folds_plurals_and_figures():
    """Question words go; plurals, possessives and thousands separators are normalised."""
    assert tokenize("How many tankers did the EU's sanctions add? 1,200 ships") == [
        "tanker",
        "eu",
        "sanction",
        "add",
        "1200",
        "ship",
    ]


def test_bm25_prefers_the_rarer_shared_term():
    """A rare term matched counts more than a common one."""
    documents = [{"sanction": 1, "oil": 1}, {"sanction": 1, "tanker": 1}, {"sanction": 2}]
    stats = Bm25Stats(documents=3, mean_length=2.0, document_frequency={"sanction": 3, "tanker": 1, "oil": 1})
    scores = bm25_scores(["tanker", "sanction"], documents, stats)
    assert int(np.argmax(scores)) == 1
    assert bm25_scores(["missile"], documents, stats).tolist() == [0.0, 0.0, 0.0]


def test_rank_passages_combines_words_and_meaning():
    """With equal meaning scores, the passage sharing the question's words ranks first."""
    vectors = np.eye(3, dtype=np.float32)
    query_vector = np.asarray([0.6, 0.6, 0.0], dtype=np.float32)
    ranked = rank_passages(
        tokenize("blacklisted tankers"),
        query_vector,
        ["Ministers met in Brussels.", "The EU blacklisted 117 tankers.", "Unrelated."],
        vectors,
    )
    assert [passage.index for passage in ranked][:2] == [1, 0]
    assert ranked[0].lexical > 0 and ranked[1].lexical == 0


def test_select_answer_refuses_weak_matches_and_skips_duplicates():
    """Nothing is returned below the threshold; near-identical sentences are given once."""
    vectors = np.asarray([[1, 0], [1, 0], [0, 1]], dtype=np.float32)
    weak = [ScoredPassage(0, RELEVANCE_THRESHOLD - 0.01, 0.4, 0.0)]
    assert select_answer(weak, vectors) == []
    ranked = [ScoredPassage(0, 0.8, 0.8, 0), ScoredPassage(1, 0.79, 0.79, 0), ScoredPassage(2, 0.75, 0.75, 0)]
    assert [passage.index for passage in select_answer(ranked, vectors)] == [0, 2]
    assert [passage.index for passage in select_answer(ranked, vectors, max_sentences=1)] == [0]
