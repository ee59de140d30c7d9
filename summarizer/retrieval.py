"""Hybrid retrieval: BM25 over words plus encoder similarity, for finding the sentences that answer a question.

Lexical matching finds exact names and figures ("Strait Thunder-2026B", "117 tankers") that a small encoder
blurs; the encoder finds paraphrases ("how long did it fly" / "flew for about 71 minutes") that share no word.
The two scores are combined on an absolute scale (not by rank). Ranking is not answering: which ranked sentences
actually answer a question is decided by :mod:`summarizer.answers`.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

__all__ = [
    "Bm25Stats",
    "ScoredPassage",
    "bm25_scores",
    "hybrid_score",
    "rank_passages",
    "similarities",
    "term_counts",
    "tokenize",
]

# BM25 constants: the usual k1 and b for short documents.
BM25_K1 = 1.2
BM25_B = 0.75
# The lexical score is squashed to [0, 1) by x / (x + LEXICAL_HALF): a BM25 of LEXICAL_HALF counts as half a
# match, so one rare shared name helps a lot and many common words cannot outweigh the meaning.
LEXICAL_HALF = 6.0
LEXICAL_WEIGHT = 0.25  # how much the squashed lexical score adds to the cosine similarity
MAX_TERM_LENGTH = 64  # longer "words" are junk (URLs, hashes) and do not fit the index column

_WORD = re.compile(r"[^\W_]+(?:[-'.,][^\W_]+)*")
# Function words and question words: they say nothing about what is asked.
_STOPWORD_LIST = """
    a about above after again against all also am an and any are as at be because been before being below between
    both but by can could did do does doing down during each few for from further had has have having he her here
    hers herself him himself his how i if in into is it its itself just me more most my myself no nor not now of off
    on once only or other our ours ourselves out over own same she should so some such than that the their theirs
    them themselves then there these they this those through to too under until up very was we were what when where
    which while who whom why will with would you your yours yourself yourselves said says say according many much
    told tell latest new news today yesterday week year
    """
_STOPWORDS = frozenset(_STOPWORD_LIST.split())


def _stem(word: str) -> str:
    """A light English stemmer: plurals and possessives only (the encoder handles the rest of morphology)."""
    if word.endswith("'s"):
        word = word[:-2]
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("sses", "xes", "ches", "shes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def tokenize(text: str) -> list[str]:
    """Lower-cased, lightly stemmed content words of ``text``; figures are kept without thousands separators."""
    return [term for word in _WORD.findall(text.lower().replace("’", "'")) if (term := _term(word))]


@lru_cache(maxsize=100_000)
def _term(word: str) -> str:
    """The term of one matched word ("" for a stop word or junk): words recur, so each is worked out once."""
    word = word.strip(".'")
    if word and word[0].isdigit():
        word = word.replace(",", "")
    if not word or word in _STOPWORDS or len(word) > MAX_TERM_LENGTH:
        return ""
    return _stem(word)


def term_counts(text: str) -> Counter[str]:
    """How often each term of :func:`tokenize` occurs in ``text``."""
    return Counter(tokenize(text))


@lru_cache(maxsize=20_000)
def _passage_counts(text: str) -> Counter[str]:
    """`term_counts` of a candidate sentence, kept: the sentences of a story's articles come back question after
    question, and tokenizing them was a quarter of a question's time (read only, never changed)."""
    return term_counts(text)


@dataclass(frozen=True, slots=True)
class Bm25Stats:
    """Collection statistics for BM25: number of documents, their mean length and document frequencies."""

    documents: int
    mean_length: float
    document_frequency: Mapping[str, int]

    def idf(self, term: str) -> float:
        """Inverse document frequency (the BM25+ form, never negative)."""
        df = self.document_frequency.get(term, 0)
        return math.log(1.0 + (self.documents - df + 0.5) / (df + 0.5))


def bm25_scores(
    query: Sequence[str],
    documents: Sequence[Mapping[str, int]],
    stats: Bm25Stats,
    lengths: Sequence[int] | None = None,
) -> np.ndarray:
    """BM25 of each document (given as term counts) for the query terms.

    Args:
        query: query terms from :func:`tokenize` (repeats count once).
        documents: term counts per document (only the query's terms are needed when ``lengths`` is given).
        stats: collection statistics (the documents scored may be a subset of the collection).
        lengths: each document's length in terms; by default the sum of its counts.

    Returns:
        A float array with one score per document.
    """
    scores = np.zeros(len(documents), dtype=np.float64)
    mean_length = max(stats.mean_length, 1.0)
    sizes = list(lengths) if lengths is not None else [sum(counts.values()) for counts in documents]
    for term in set(query):
        idf = stats.idf(term)
        for index, counts in enumerate(documents):
            tf = counts.get(term, 0)
            if tf:
                norm = tf + BM25_K1 * (1.0 - BM25_B + BM25_B * sizes[index] / mean_length)
                scores[index] += idf * tf * (BM25_K1 + 1.0) / norm
    return scores


def similarities(matrix: np.ndarray, vector: np.ndarray) -> np.ndarray:
    """Dot product of each row of ``matrix`` with ``vector``, computed without BLAS threads.

    ``matrix @ vector`` hands large products to OpenBLAS, whose worker threads then keep spinning for a while;
    on a 2-core machine they starve the encoder's threads, and the next question's embedding took 0.5 s instead
    of 25 ms (measured). ``einsum`` runs on the calling thread and is fast enough here (10,000 x 384 in ~3 ms).
    """
    product = np.einsum("ij,j->i", np.asarray(matrix, dtype=np.float32), np.asarray(vector, dtype=np.float32))
    return np.asarray(product, dtype=np.float32)


def hybrid_score(dense: np.ndarray, lexical: np.ndarray) -> np.ndarray:
    """Cosine similarity plus the squashed BM25 bonus (see the module constants)."""
    return dense + LEXICAL_WEIGHT * lexical / (lexical + LEXICAL_HALF)


@dataclass(frozen=True, slots=True)
class ScoredPassage:
    """A candidate sentence with its scores; ``index`` points into the caller's list."""

    index: int
    score: float
    dense: float
    lexical: float


def rank_passages(
    query_terms: Sequence[str],
    query_vector: np.ndarray,
    passages: Sequence[str],
    vectors: np.ndarray,
    stats: Bm25Stats | None = None,
) -> list[ScoredPassage]:
    """Score candidate sentences for a question, best first.

    Args:
        query_terms: the question's terms (:func:`tokenize`).
        query_vector: the question's encoder vector (unit length).
        passages: candidate sentences.
        vectors: their encoder vectors, one unit-length row per passage.
        stats: BM25 statistics of the collection; by default they are computed over the passages themselves. A
            ``mean_length`` of 0 means: the mean length of these passages (with the collection's frequencies).

    Returns:
        Every passage with its hybrid, dense and lexical scores, highest hybrid score first.
    """
    if not passages:
        return []
    counts = [_passage_counts(text) for text in passages]
    mean_length = sum(sum(c.values()) for c in counts) / len(passages)
    if stats is None:
        frequency: Counter[str] = Counter()
        for item in counts:
            frequency.update(item.keys())
        stats = Bm25Stats(len(passages), mean_length, frequency)
    elif stats.mean_length <= 0:  # collection statistics of documents, lengths of these passages
        stats = Bm25Stats(stats.documents, mean_length, stats.document_frequency)
    lexical = bm25_scores(query_terms, counts, stats)
    dense = similarities(vectors, query_vector)
    scores = hybrid_score(dense.astype(np.float64), lexical)
    order = np.argsort(-scores, kind="stable")
    return [ScoredPassage(int(i), float(scores[i]), float(dense[i]), float(lexical[i])) for i in order]
