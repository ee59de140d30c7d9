"""Multi-document summaries: one story told by several articles (outlets) about the same event.

The same lead-biased coverage choice as the single-article summariser (``select_sentences``), over the first
sentences of every article together: each article weighs the same in the coverage target, a sentence that
says what an already chosen one says (cosine at least ``SAME_FACT_SIMILARITY``) is never chosen too, and every
chosen sentence keeps its article for citation plus the other articles that carry the same fact.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from summarizer.encoder import TextEncoder
from summarizer.extractive import MAX_CANDIDATES, is_boilerplate, select_sentences, word_count
from summarizer.results import Sentence, StoryDocument, StorySentence, StorySummary
from summarizer.sentences import split_sentences

__all__ = ["SAME_FACT_SIMILARITY", "summarize_story"]

# Two sentences from different outlets at or above this MiniLM cosine report the same fact. Paraphrases score
# 0.73 ("The EU agreed a new package of sanctions against Iran on Tuesday." / "European Union ministers approved
# fresh sanctions on Tehran on Tuesday.") to 0.90; a different fact of the same story ("Iran said the measures
# were illegal and vowed to respond.") about 0.4. Above it a second sentence is redundant, and its article
# counts as corroborating the first.
SAME_FACT_SIMILARITY = 0.7


def summarize_story(
    documents: Sequence[StoryDocument],
    encoder: TextEncoder,
    *,
    max_sentences: int = 5,
    max_chars: int | None = None,
    same_fact_similarity: float = SAME_FACT_SIMILARITY,
) -> StorySummary:
    """Summarise several articles about one event into non-redundant sentences that cite their article.

    Args:
        documents: the articles; ``doc_id`` is carried into each sentence for citation.
        encoder: the sentence encoder (an ``Encoder``).
        max_sentences: at most this many sentences.
        max_chars: at most this many characters in total (sentences joined by one space).
        same_fact_similarity: see ``SAME_FACT_SIMILARITY``.

    Returns:
        The sentences in order of importance, each with its article and the articles that corroborate it.
    """
    if max_sentences < 1:
        raise ValueError("max_sentences must be at least 1")
    rows: list[tuple[int, Sentence]] = []
    for d, doc in enumerate(documents):
        rows.extend((d, s) for s in split_sentences(doc.text, limit=MAX_CANDIDATES))
    titled = [(d, doc.title.strip()) for d, doc in enumerate(documents) if doc.title and doc.title.strip()]
    if not rows:
        return StorySummary(sentences=(), method="story-extractive", documents=len(documents))
    vectors = encoder.encode([s.text for _, s in rows] + [t for _, t in titled])
    emb, title_vecs = vectors[: len(rows)], vectors[len(rows) :]
    eligible = [not is_boilerplate(s.text) for _, s in rows]
    if not any(eligible):
        eligible = [True] * len(rows)
    order = select_sentences(
        emb,
        count=max_sentences + 2,  # spares in case some do not fit max_chars
        lengths=[word_count(s.text) for _, s in rows],
        eligible=eligible,
        positions=[s.index for _, s in rows],
        groups=[d for d, _ in rows],
        titles=title_vecs if titled else None,
        title_groups=[d for d, _ in titled],
        duplicate_similarity=same_fact_similarity,
    )
    doc_of = np.array([d for d, _ in rows])
    chosen: list[StorySentence] = []
    used = 0
    for i in order:
        if len(chosen) >= max_sentences:
            break
        d, sent = rows[i]
        extra = len(sent.text) + (1 if chosen else 0)
        if max_chars is not None and used + extra > max_chars:
            continue
        similar = (emb @ emb[i]) >= same_fact_similarity
        also_in = tuple(sorted({int(x) for x in doc_of[similar]} - {d}))
        chosen.append(
            StorySentence(
                text=sent.text,
                doc_index=d,
                doc_id=documents[d].doc_id,
                start=sent.start,
                end=sent.end,
                index=sent.index,
                also_in=also_in,
            )
        )
        used += extra
    return StorySummary(sentences=tuple(chosen), method="story-extractive", documents=len(documents))
