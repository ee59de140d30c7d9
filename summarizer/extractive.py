"""Extractive summaries: Lead-N and the default lead-biased coverage summariser.

Every output sentence is a span of the source, so nothing can be invented; each carries its offsets.

The default method (``ExtractiveSummarizer``) picks sentences greedily by

    score(i) = -ln(1 + i)                       position prior: news is written lead-first
               - LENGTH_PENALTY * words(i) / 20   prefer the tighter of two otherwise equal sentences
               + COVERAGE_WEIGHT * gain(i)       how much of the article (and headline) i newly covers

where ``gain`` is the increase of a facility-location coverage: each article sentence j (and the headline)
counts as covered by its most similar chosen sentence (cosine of MiniLM embeddings), weighted by
exp(-j / COVERAGE_DECAY) because early paragraphs carry the story. A sentence that repeats what is already
chosen adds no coverage, and one at least DUPLICATE_SIMILARITY close to a chosen one is skipped outright.
Page furniture, questions, stubs under MIN_WORDS words and headings are never chosen (a headline on the first
line serves as the title instead). Only the first MAX_CANDIDATES sentences are split, embedded and considered.
The constants were set on the dev set (benchmarks/tune_extractive.py prints the grid: all 81 settings score
R-1 40.31 to 40.95, so the choice is not knife-edge).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from summarizer.encoder import TextEncoder
from summarizer.results import Sentence, Summary, SummarySentence
from summarizer.sentences import split_sentences

__all__ = [
    "COVERAGE_DECAY",
    "COVERAGE_WEIGHT",
    "DUPLICATE_SIMILARITY",
    "LENGTH_PENALTY",
    "MAX_CANDIDATES",
    "MIN_WORDS",
    "TEASER_MAX_SENTENCES",
    "TITLE_WEIGHT",
    "ExtractiveSummarizer",
    "LeadSummarizer",
    "Summarizer",
    "check_limits",
    "is_boilerplate",
    "is_heading",
    "select_sentences",
    "word_count",
]

# Only the first sentences are split, embedded and can be chosen: with the default weights, choosing among the
# first 8, 10 or 15 gives the very same summaries on the dev set (the position prior makes later ones lose
# anyway), and embedding fewer sentences is what makes it fast (8 instead of 10: 14% less CPU per article).
MAX_CANDIDATES = 8
# Weight of the coverage gain against the position prior -ln(1 + i). 10 means a sentence at position 3 must
# cover about 0.07 more of the (position-weighted) article than the one at position 2 to be chosen over it.
COVERAGE_WEIGHT = 10.0
# Decay (in sentences) of the importance of article sentence j in the coverage target: exp(-j / 5).
COVERAGE_DECAY = 5.0
# Penalty per 20 words: between two sentences of equal worth, the shorter one reads better in a chat digest.
LENGTH_PENALTY = 0.125
_WORDS_UNIT = 20.0
# Sentences shorter than this ("He paused.", "No wonder.") say too little to stand in a summary.
MIN_WORDS = 5
# The headline, when given, is a coverage target as important as the first sentence.
TITLE_WEIGHT = 1.0
# A sentence this similar (cosine) to one already chosen repeats it (a caption restating the lede, wire copy
# pasted twice); it is never chosen too. Coverage alone does not stop a repeat, because the position prior can
# outweigh the little coverage it adds. On the dev set 0.85 changes no summary, while 0.8 already drops a
# sentence a reference wanted.
DUPLICATE_SIMILARITY = 0.85
# A text of at most this many sentences is a teaser (a feed description or a stub): there is nothing to choose
# from, so it is returned as it is and the summary says so (``Summary.from_teaser``).
TEASER_MAX_SENTENCES = 3

_FURNITURE = re.compile(
    r"^(?:scroll down|click here|read more|related:|watch:|video:|follow us|sign up|subscribe|share this|"
    r"advertisement|all rights reserved|copyright|©|photo:|image:|picture:|getty images|\(photo|"
    r"this article (?:was|is) (?:first|originally) published|for the latest)",
    re.IGNORECASE,
)
_WORD = re.compile(r"\w+")
_TERMINAL = re.compile(r"[.!?…][\"'”’)\]]*$")
_QUESTION_END = re.compile(r"\?[\"'”’)]*$")


def word_count(text: str) -> int:
    """Return the number of words (runs of letters and digits) in ``text``."""
    return len(_WORD.findall(text))


def _is_furniture(text: str) -> bool:
    return bool(_FURNITURE.match(text.strip()))


def is_heading(sentence: Sentence, source: str) -> bool:
    """Return True when ``sentence`` is a whole line without final punctuation: a headline or subheading."""
    line_start = sentence.start == 0 or source[: sentence.start].rstrip(" \t").endswith("\n")
    line_end = sentence.end == len(source) or source[sentence.end :].lstrip(" \t").startswith("\n")
    return line_start and line_end and not _TERMINAL.search(sentence.text)


def is_boilerplate(text: str) -> bool:
    """Return True for sentences that should not be chosen for a summary.

    Page furniture ("Scroll down for video", "Click here", photo credits), sentences of fewer than
    ``MIN_WORDS`` words, and questions (a summary states what happened; a question in a lede is a hook).
    """
    stripped = text.strip()
    return _is_furniture(stripped) or word_count(stripped) < MIN_WORDS or bool(_QUESTION_END.search(stripped))


def _fit(sentence: Sentence, room: int) -> SummarySentence | None:
    """Return the sentence cut at a word boundary to at most ``room`` characters (with "…"), or None."""
    if room <= 1:
        return None
    cut = sentence.text[: room - 1]
    space = cut.rfind(" ")
    if space <= 0:
        return None
    cut = cut[:space].rstrip(" ,;:-—–")
    end = sentence.start + len(cut)
    return SummarySentence(text=cut + "…", start=sentence.start, end=end, index=sentence.index)


def _apply_budget(
    chosen: Sequence[Sentence], max_sentences: int | None, max_chars: int | None
) -> tuple[SummarySentence, ...]:
    """Keep sentences in order of preference while they fit; return them in source order."""
    kept: list[SummarySentence] = []
    used = 0
    for sent in chosen:
        if max_sentences is not None and len(kept) >= max_sentences:
            break
        extra = len(sent.text) + (1 if kept else 0)
        if max_chars is None or used + extra <= max_chars:
            kept.append(SummarySentence(text=sent.text, start=sent.start, end=sent.end, index=sent.index))
            used += extra
    if not kept and chosen and max_chars is not None:
        cut = _fit(chosen[0], max_chars)  # not even the best sentence fits: cut it rather than say nothing
        if cut is not None:
            kept.append(cut)
    return tuple(sorted(kept, key=lambda s: s.index))


def check_limits(max_sentences: int | None, max_chars: int | None) -> None:
    """Raise ValueError unless at least one limit is given and the given ones are positive."""
    if max_sentences is None and max_chars is None:
        raise ValueError("give max_sentences, max_chars or both")
    if max_sentences is not None and max_sentences < 1:
        raise ValueError("max_sentences must be at least 1")
    if max_chars is not None and max_chars < 1:
        raise ValueError("max_chars must be at least 1")


@runtime_checkable
class Summarizer(Protocol):
    """What every summariser here offers (``ExtractiveSummarizer``, ``LeadSummarizer``, ``Seq2SeqSummarizer``)."""

    def summarize(
        self, text: str, *, title: str | None = None, max_sentences: int | None = 3, max_chars: int | None = None
    ) -> Summary:
        """Summarise one text."""
        ...

    def summarize_many(
        self,
        texts: Sequence[str],
        *,
        titles: Sequence[str | None] | None = None,
        max_sentences: int | None = 3,
        max_chars: int | None = None,
    ) -> list[Summary]:
        """Summarise several texts (faster than one call each where a model is involved)."""
        ...


class LeadSummarizer:
    """Lead-N: the first sentences of the article (the classic news baseline; needs no model)."""

    method = "lead"

    def __init__(self, language: str | None = None) -> None:
        self.language = language  # ISO 639-1 of the texts, for that language's sentence rules (None: English)

    def summarize_many(
        self,
        texts: Sequence[str],
        *,
        titles: Sequence[str | None] | None = None,
        max_sentences: int | None = 3,
        max_chars: int | None = None,
    ) -> list[Summary]:
        """Summarise several texts (``titles`` is accepted for interface compatibility and not used)."""
        return [self.summarize(t, max_sentences=max_sentences, max_chars=max_chars) for t in texts]

    def summarize(
        self, text: str, *, title: str | None = None, max_sentences: int | None = 3, max_chars: int | None = None
    ) -> Summary:
        """Return the first ``max_sentences`` sentences (that fit in ``max_chars``)."""
        check_limits(max_sentences, max_chars)
        limit = None if max_sentences is None else max(max_sentences, TEASER_MAX_SENTENCES) + 1
        sentences = split_sentences(text, limit=limit, language=self.language)
        kept = _apply_budget(sentences, max_sentences, max_chars)
        teaser = len(sentences) <= TEASER_MAX_SENTENCES
        return Summary(sentences=kept, method=self.method, from_teaser=teaser, sentences_seen=len(sentences))


def select_sentences(
    embeddings: np.ndarray,
    *,
    count: int,
    lengths: Sequence[int],
    eligible: Sequence[bool] | None = None,
    positions: Sequence[int] | None = None,
    groups: Sequence[int] | None = None,
    titles: np.ndarray | None = None,
    title_groups: Sequence[int] | None = None,
    duplicate_similarity: float | None = None,
    coverage_weight: float = COVERAGE_WEIGHT,
    coverage_decay: float = COVERAGE_DECAY,
    length_penalty: float = LENGTH_PENALTY,
) -> list[int]:
    """Choose up to ``count`` rows of ``embeddings`` by position prior + length penalty + coverage gain.

    Args:
        embeddings: unit vectors of the candidate sentences.
        count: how many to choose.
        lengths: words per sentence.
        eligible: which rows may be chosen (all rows count as coverage targets); all by default.
        positions: each row's position in its article (0 = first sentence); row numbers by default.
        groups: each row's article, for several articles: each article then weighs the same in the coverage.
        titles: unit vectors of headlines, extra coverage targets worth ``TITLE_WEIGHT`` first sentences.
        title_groups: each headline's article (all 0 by default).
        duplicate_similarity: a row at least this similar to a chosen one is never chosen too.
        coverage_weight: see the module docstring.
        coverage_decay: see the module docstring.
        length_penalty: see the module docstring.

    Returns:
        Row indices in order of choice (best first).
    """
    n = embeddings.shape[0]
    if n == 0 or count <= 0:
        return []
    pos = np.arange(n, dtype=np.float64) if positions is None else np.asarray(positions, dtype=np.float64)
    grp = np.zeros(n, dtype=np.int64) if groups is None else np.asarray(groups, dtype=np.int64)
    ok = np.ones(n, dtype=bool) if eligible is None else np.array(eligible, dtype=bool)
    targets = embeddings.astype(np.float64)
    weights = np.exp(-pos / coverage_decay)
    target_groups = grp
    if titles is not None and len(titles):
        tgrp = np.zeros(len(titles), dtype=np.int64) if title_groups is None else np.asarray(title_groups)
        targets = np.vstack([targets, titles.astype(np.float64)])
        weights = np.append(weights, np.full(len(titles), TITLE_WEIGHT))  # exp(-0 / decay) = 1: a first sentence
        target_groups = np.append(grp, tgrp)
    for g in np.unique(target_groups):  # every article counts the same, however long
        weights[target_groups == g] /= weights[target_groups == g].sum()
    weights /= weights.sum()
    sim = np.clip(embeddings.astype(np.float64) @ targets.T, 0.0, None)  # (n, targets)
    prior = -np.log1p(pos) - length_penalty * np.asarray(lengths, dtype=np.float64) / _WORDS_UNIT
    covered = np.zeros(targets.shape[0])
    chosen: list[int] = []
    while len(chosen) < count and ok.any():
        gain = (np.maximum(sim, covered[None, :]) - covered[None, :]) @ weights
        score = np.where(ok, prior + coverage_weight * gain, -math.inf)
        best = int(np.argmax(score))
        chosen.append(best)
        ok[best] = False
        covered = np.maximum(covered, sim[best])
        if duplicate_similarity is not None:
            ok &= sim[:, best] < duplicate_similarity
    return chosen


@dataclass(frozen=True, slots=True)
class _Prepared:
    """The first sentences of a text, ready to be embedded."""

    sentences: list[Sentence]  # at most max_candidates
    more: bool  # the text has more sentences than these
    headings: list[bool]  # which of the sentences are headlines or subheadings

    @property
    def teaser(self) -> bool:
        return not self.more and len(self.sentences) <= TEASER_MAX_SENTENCES

    def needs_choice(self, max_sentences: int | None) -> bool:
        return self.more or max_sentences is None or len(self.sentences) > max_sentences


class ExtractiveSummarizer:
    """The default summariser: lead-biased coverage over MiniLM sentence embeddings (see the module docstring).

    Args:
        encoder: any ``TextEncoder`` (an ``Encoder`` normally); it is only called for texts long enough
            to need a choice, so teasers cost no model time.
        max_candidates: how many of the first sentences may be chosen (and are embedded).
        coverage_weight: see ``COVERAGE_WEIGHT``.
        coverage_decay: see ``COVERAGE_DECAY``.
        length_penalty: see ``LENGTH_PENALTY``.
        duplicate_similarity: see ``DUPLICATE_SIMILARITY`` (None: no such check).

    Example:
        >>> summ = ExtractiveSummarizer(Encoder(bf16=True))
        >>> summary = summ.summarize(article_text, max_sentences=3)
        >>> [(s.start, s.end) for s in summary.sentences]   # where each sentence stands in article_text
    """

    method = "extractive"

    def __init__(
        self,
        encoder: TextEncoder,
        *,
        max_candidates: int = MAX_CANDIDATES,
        coverage_weight: float = COVERAGE_WEIGHT,
        coverage_decay: float = COVERAGE_DECAY,
        length_penalty: float = LENGTH_PENALTY,
        duplicate_similarity: float | None = DUPLICATE_SIMILARITY,
    ) -> None:
        if max_candidates < 1:
            raise ValueError("max_candidates must be at least 1")
        self.encoder = encoder
        self.max_candidates = max_candidates
        self.coverage_weight = coverage_weight
        self.coverage_decay = coverage_decay
        self.length_penalty = length_penalty
        self.duplicate_similarity = duplicate_similarity

    def summarize(
        self, text: str, *, title: str | None = None, max_sentences: int | None = 3, max_chars: int | None = None
    ) -> Summary:
        """Summarise one article.

        Args:
            text: the article text.
            title: its headline, if known (helps to find what the story is about).
            max_sentences: at most this many sentences (None: no sentence limit, ``max_chars`` must be given).
            max_chars: at most this many characters in total (sentences joined by one space).

        Returns:
            The summary; ``from_teaser`` is True when the text had at most ``TEASER_MAX_SENTENCES`` sentences
            (returned as they are, without calling the encoder).
        """
        return self.summarize_many([text], titles=[title], max_sentences=max_sentences, max_chars=max_chars)[0]

    def summarize_many(
        self,
        texts: Sequence[str],
        *,
        titles: Sequence[str | None] | None = None,
        max_sentences: int | None = 3,
        max_chars: int | None = None,
    ) -> list[Summary]:
        """Summarise several articles with one batched encoder call (faster than one call per article)."""
        check_limits(max_sentences, max_chars)
        if titles is not None and len(titles) != len(texts):
            raise ValueError("titles must be as many as texts")
        prepared = [self._prepare(t) for t in texts]
        clean_titles = [(t.strip() or None) if t else None for t in (titles or [None] * len(texts))]
        for i, prep in enumerate(prepared):  # a headline on the first line stands in for a missing title
            if clean_titles[i] is None and prep.headings and prep.headings[0]:
                clean_titles[i] = prep.sentences[0].text
        to_embed: list[str] = []
        for prep, title in zip(prepared, clean_titles, strict=True):
            if prep.needs_choice(max_sentences):
                to_embed.extend(s.text for s in prep.sentences)
                if title:
                    to_embed.append(title)
        vectors = self.encoder.encode(to_embed) if to_embed else None
        summaries: list[Summary] = []
        row = 0
        for prep, title in zip(prepared, clean_titles, strict=True):
            if not prep.needs_choice(max_sentences) or vectors is None:
                summaries.append(self._as_is(prep, max_sentences, max_chars))
                continue
            n = len(prep.sentences)
            emb = vectors[row : row + n]
            row += n
            title_vec = None
            if title:
                title_vec = vectors[row : row + 1]
                row += 1
            wanted = n if max_sentences is None else min(n, max_sentences + 2)  # spares in case some do not fit
            choosable = [not (h or is_boilerplate(s.text)) for s, h in zip(prep.sentences, prep.headings, strict=True)]
            order = select_sentences(
                emb,
                count=wanted,
                lengths=[word_count(s.text) for s in prep.sentences],
                eligible=choosable,
                positions=[s.index for s in prep.sentences],
                titles=title_vec,
                coverage_weight=self.coverage_weight,
                coverage_decay=self.coverage_decay,
                length_penalty=self.length_penalty,
                duplicate_similarity=self.duplicate_similarity,
            )
            # too few sentences worth choosing: fill up in article order, headings and page furniture last
            rest = sorted(
                set(range(n)) - set(order), key=lambda j: (_is_furniture(prep.sentences[j].text), prep.headings[j], j)
            )
            order += rest[: max(0, wanted - len(order))]
            kept = _apply_budget([prep.sentences[j] for j in order], max_sentences, max_chars)
            total = n + (1 if prep.more else 0)
            summaries.append(Summary(sentences=kept, method=self.method, from_teaser=False, sentences_seen=total))
        return summaries

    def _prepare(self, text: str) -> _Prepared:
        sentences = split_sentences(text, limit=self.max_candidates + 1)
        kept = sentences[: self.max_candidates]
        headings = [is_heading(s, text) for s in kept]
        return _Prepared(sentences=kept, more=len(sentences) > self.max_candidates, headings=headings)

    def _as_is(self, prep: _Prepared, max_sentences: int | None, max_chars: int | None) -> Summary:
        """Return a short text as it is (minus page furniture): there is nothing to choose from."""
        keep = [s for s in prep.sentences if not _is_furniture(s.text)] or prep.sentences
        kept = _apply_budget(keep, max_sentences, max_chars)
        return Summary(sentences=kept, method=self.method, from_teaser=prep.teaser, sentences_seen=len(prep.sentences))
