"""Novel, distinctive and partly reported sentences, on real MiniLM vectors of hand-picked sentences."""

from __future__ import annotations

import numpy as np

from summarizer.coverage import distinctive_sentences, novel_sentences, partial_facts
from tests.intelligence.shared import shared_encoder

KNOWN = [
    "A refugee camp in South Sudan's Unity state was bombed on Thursday, officials said.",
    "The governor of Unity state accused Sudan of carrying out the attack.",
]
CANDIDATES = [
    "Officials said a refugee camp in Unity state, South Sudan, was bombed on Thursday.",  # the known fact again
    "Sudan's armed forces denied they carried out the strike.",  # new
    "The Sudanese army denied carrying out the strike.",  # the same new fact, in other words
    "The UN refugee agency said more than 20,000 people shelter in the camp.",  # new
]


def _vectors(texts: list[str]) -> np.ndarray:
    return np.asarray(shared_encoder().encode(texts), dtype=np.float32)


def test_novel_sentences_skip_known_facts_and_repeats_of_a_pick():
    """Only facts the reader was not sent, each once, in order, within the limit."""
    picked = novel_sentences(_vectors(CANDIDATES), _vectors(KNOWN), limit=5)
    assert picked == [1, 3]
    assert novel_sentences(_vectors(CANDIDATES), _vectors(KNOWN), limit=1) == [1]
    assert novel_sentences(_vectors(CANDIDATES), np.zeros((0, 384), dtype=np.float32), limit=5)[:2] == [0, 1]


def test_distinctive_sentence_is_the_one_least_like_the_other_outlets():
    """Outlet 0 carries the shared fact and the denial; the denial is what sets it apart."""
    texts = [KNOWN[0], CANDIDATES[1], CANDIDATES[0], KNOWN[1]]
    assert distinctive_sentences(_vectors(texts), [0, 0, 1, 1]) == {0: 1, 1: 3}
    assert distinctive_sentences(_vectors(texts[:2]), [0, 0]) == {}  # one outlet: nothing to compare


def test_partial_facts_leave_out_what_every_outlet_reports():
    """The camp bombing is carried by both outlets (common ground); the denial and the UN figure by one each."""
    texts = [KNOWN[0], CANDIDATES[1], CANDIDATES[0], CANDIDATES[3]]
    facts = partial_facts(_vectors(texts), [0, 0, 1, 1], limit=5)
    assert [(fact.sentence, sorted(fact.groups)) for fact in facts] == [(1, [0]), (3, [1])]
