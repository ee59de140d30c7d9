"""Hybrid retrieval: tokenising, BM25 and the combined score (answer selection: test_answers.py)."""

from __future__ import annotations

import numpy as np

from summarizer.retrieval import (
    Bm25Stats,
    bm25_scores,
    rank_passages,
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
