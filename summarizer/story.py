"""Multi-document summaries: one story told by several articles (outlets) about the same event.

The summary is the choice of sentences that the outlets' own leads agree with most, a consensus choice:

    agreement(S) = mean over articles d of unigram F1(words of S, words of d's lead)
                   - POSITION_WEIGHT * mean over s in S of ln(1 + position of s in its article)

Each article's lead (its first ``LEAD_SENTENCES`` sentences) stands for what that outlet reports; the chosen set
``S`` (at most ``max_sentences`` of the first ``CANDIDATES_PER_ARTICLE`` sentences of each article) is the one
with the highest agreement, so it states what most outlets report, at about the length of a lead: a fact only
one outlet has, a quote, or a sentence that only repeats another adds words that lower F1 and is left out. This
is minimum-Bayes-risk selection with every outlet's lead as a reference. The candidates are the ``POOL`` best
sentences on their own, and every subset of them is scored (a few hundred at most). Two sentences at or above
``SAME_FACT_SIMILARITY`` (MiniLM cosine) state the same fact: never both. Every chosen sentence keeps its article
for citation, plus the other articles that carry the same fact. Words are those of
`summarizer.retrieval.tokenize` (content words, light stemming). The constants were set on the NeuS dev events
(docs/summarizer.md gives the figures and the grid).
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from summarizer.encoder import TextEncoder
from summarizer.extractive import is_boilerplate
from summarizer.languages import content_words
from summarizer.results import Sentence, StoryDocument, StorySentence, StorySummary
from summarizer.sentences import split_sentences

__all__ = [
    "CANDIDATES_PER_ARTICLE",
    "LEAD_SENTENCES",
    "POOL",
    "POSITION_WEIGHT",
    "SAME_FACT_SIMILARITY",
    "lead_summary",
    "summarize_story",
]

# Two sentences from different outlets at or above this MiniLM cosine report the same fact. Paraphrases score
# 0.73 ("The EU agreed a new package of sanctions against Iran on Tuesday." / "European Union ministers approved
# fresh sanctions on Tehran on Tuesday.") to 0.90; a different fact of the same story ("Iran said the measures
# were illegal and vowed to respond.") about 0.4. Above it a second sentence is redundant, and its article
# counts as corroborating the first.
SAME_FACT_SIMILARITY = 0.7
LEAD_SENTENCES = 3  # an article's lead, its own account of the event, is this many opening sentences
CANDIDATES_PER_ARTICLE = 6  # sentences of each article that may be chosen (news puts the event first)
POOL = 8  # the best sentences on their own; every subset of them is scored
POSITION_WEIGHT = 0.05  # between equal agreements, the earlier sentences (a tie-breaker more than a prior)


@dataclass(frozen=True, slots=True)
class _Candidate:
    document: int
    sentence: Sentence
    words: Counter[str]


def summarize_story(
    documents: Sequence[StoryDocument],
    encoder: TextEncoder,
    *,
    max_sentences: int = 3,
    max_chars: int | None = None,
    same_fact_similarity: float = SAME_FACT_SIMILARITY,
    language: str | None = None,
) -> StorySummary:
    """Summarise several articles about one event into the sentences their leads agree with most.

    Args:
        documents: the articles; ``doc_id`` is carried into each sentence for citation.
        encoder: the sentence encoder (an ``Encoder``), for the same-fact check.
        max_sentences: at most this many sentences (fewer when more would only add words the outlets do not share).
        max_chars: at most this many characters in total (sentences joined by one space).
        same_fact_similarity: see ``SAME_FACT_SIMILARITY``.
        language: the articles' ISO 639-1 code, for sentence rules and words (None: English). Use it only with
            an encoder that covers the language; otherwise :func:`lead_summary`.

    Returns:
        The sentences in reading order (by position in their article), each with its article and the articles
        that corroborate it.
    """
    if max_sentences < 1:
        raise ValueError("max_sentences must be at least 1")
    leads: list[Counter[str]] = []
    candidates: list[_Candidate] = []
    for d, document in enumerate(documents):
        limit = max(CANDIDATES_PER_ARTICLE, LEAD_SENTENCES)
        sentences = split_sentences(document.text, limit=limit, language=language)
        lead = Counter(content_words(" ".join(s.text for s in sentences[:LEAD_SENTENCES]), language))
        if lead:
            leads.append(lead)
        for sentence in sentences[:CANDIDATES_PER_ARTICLE]:
            words = Counter(content_words(sentence.text, language))
            if words and not _unfit(sentence.text, language):
                candidates.append(_Candidate(d, sentence, words))
    if not candidates:
        return StorySummary(sentences=(), method="story-consensus", documents=len(documents))
    vectors = np.asarray(encoder.encode([c.sentence.text for c in candidates]), dtype=np.float32)
    chosen = _best_subset(candidates, leads, vectors, max_sentences, max_chars, same_fact_similarity)
    chosen.sort(key=lambda i: (candidates[i].sentence.index, candidates[i].document))
    documents_of = np.array([c.document for c in candidates])
    summary: list[StorySentence] = []
    for i in chosen:
        candidate = candidates[i]
        same_fact = (vectors @ vectors[i]) >= same_fact_similarity
        also_in = tuple(sorted({int(d) for d in documents_of[same_fact]} - {candidate.document}))
        summary.append(
            StorySentence(
                text=candidate.sentence.text,
                doc_index=candidate.document,
                doc_id=documents[candidate.document].doc_id,
                start=candidate.sentence.start,
                end=candidate.sentence.end,
                index=candidate.sentence.index,
                also_in=also_in,
            )
        )
    return StorySummary(sentences=tuple(summary), method="story-consensus", documents=len(documents))


def lead_summary(document: StoryDocument, *, max_sentences: int = 3, language: str | None = None) -> StorySummary:
    """The first sentences of one article that are article text (no dateline, byline or page furniture).

    The summary for a language the encoder does not cover: news puts the event first, and an article's own
    lead needs no judgement of meaning. Its method is "story-lead", and no sentence claims another article.
    """
    sentences = split_sentences(document.text, limit=max_sentences + CANDIDATES_PER_ARTICLE, language=language)
    chosen = [s for s in sentences if not _unfit(s.text, language)][:max_sentences]
    return StorySummary(
        sentences=tuple(
            StorySentence(text=s.text, doc_index=0, doc_id=document.doc_id, start=s.start, end=s.end, index=s.index)
            for s in chosen
        ),
        method="story-lead",
        documents=1,
    )


_UNSPACED = frozenset({"ja", "zh"})
_MIN_UNSPACED_CHARS = 12  # a Chinese or Japanese sentence shorter than this is a caption or a heading
_OPENERS = " \t\"'“‘«([¿¡"  # quotes and brackets that may open a sentence before its first letter


def _unfit(text: str, language: str | None) -> bool:
    """A sentence no summary should use; written without spaces, words cannot be counted, so characters are.

    A sentence that opens in lower case is the tail of one cut off by the feed or a bad split ("titled ... and
    released Friday, relies on documents ..."): it cannot be read on its own, so it is never a summary line.
    """
    if language in _UNSPACED:
        return len(text.strip()) < _MIN_UNSPACED_CHARS or text.rstrip().endswith(("？", "?"))
    opening = text.lstrip(_OPENERS)
    return is_boilerplate(text) or opening[:1].islower()


def _agreement(words: Counter[str], positions: Sequence[int], leads: Sequence[Counter[str]]) -> float:
    """Mean unigram F1 of ``words`` against each lead, minus the position term (see the module docstring)."""
    size = sum(words.values())
    if not leads or not size:
        return -math.inf
    total = 0.0
    for lead in leads:
        shared = sum((words & lead).values())
        total += 2.0 * shared / (size + sum(lead.values())) if shared else 0.0
    position = sum(math.log1p(p) for p in positions) / len(positions)
    return total / len(leads) - POSITION_WEIGHT * position


def _best_subset(
    candidates: Sequence[_Candidate],
    leads: Sequence[Counter[str]],
    vectors: np.ndarray,
    max_sentences: int,
    max_chars: int | None,
    same_fact_similarity: float,
) -> list[int]:
    """The subset of the pool with the highest agreement that states no fact twice and fits ``max_chars``."""

    def score(members: Sequence[int]) -> float:
        words: Counter[str] = Counter()
        for i in members:
            words.update(candidates[i].words)
        return _agreement(words, [candidates[i].sentence.index for i in members], leads)

    def fits(members: Sequence[int]) -> bool:
        if (
            max_chars is not None
            and sum(len(candidates[i].sentence.text) for i in members) + len(members) - 1 > max_chars
        ):
            return False
        return all(float(vectors[a] @ vectors[b]) < same_fact_similarity for a, b in itertools.combinations(members, 2))

    pool = sorted(range(len(candidates)), key=lambda i: -score([i]))[:POOL]
    best: list[int] = []
    best_score = -math.inf
    for size in range(1, max_sentences + 1):
        for members in itertools.combinations(pool, size):
            value = score(members)
            if value > best_score and fits(members):
                best, best_score = list(members), value
    return best
