"""Answer questions from the stored articles only, citing the sentences used.

Three steps keep a question fast however large the archive is, and keep retrieval apart from answering:

1. candidate articles (`_rank`): the best of the database's full-text ranking (`bot.intelligence.fulltext`) and the
   best by cosine between the question and the article vectors (`bot.intelligence.vector_index`);
2. their stored sentences (offsets and vectors from processing), scored with the hybrid score of
   `summarizer.retrieval` plus ``ARTICLE_WEIGHT`` times the cosine between the question and the sentence's article;
3. answer selection (`summarizer.answers`): only a sentence that covers the question's names and salient terms and
   has what it asks for (a name, a date, a place, a number) answers; the reply leads with the best one, adds at
   most two from other outlets that add something, and lists outlets stating the same fact as "also reported by".
   When no sentence answers, the reply says so.

The only model work at question time is embedding the question.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import cached_property
from typing import overload

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.errors import UserInputError
from bot.intelligence.fulltext import lexical_candidates, term_counts_of
from bot.intelligence.processing import SENTENCE_DTYPE, VECTOR_DTYPE, article_names_text, from_blob
from bot.intelligence.results import NOTHING_FOUND, AlsoReported, Answer, CitedSentence
from bot.intelligence.vector_index import vector_index
from bot.storage import Database
from bot.storage.models import Article, ArticleAnalysis, utcnow
from summarizer.answers import (
    Answering,
    Candidate,
    QuestionProfile,
    answering_sentences,
    name_roots,
    profile_question,
    select_answer,
)
from summarizer.encoder import TextEncoder, word_vector
from summarizer.retrieval import (
    Bm25Stats,
    ScoredPassage,
    rank_passages,
    similarities,
    tokenize,
)

log = logging.getLogger(__name__)

ASK_WINDOW = timedelta(days=30)  # "recent" articles: older coverage is history, not an answer to "what is..."
LEXICAL_CANDIDATES = 30  # articles taken from the word index
DENSE_CANDIDATES = 30  # articles taken by article-vector similarity
MAX_QUESTION_CHARS = 500
ARTICLE_WEIGHT = 0.15  # what the cosine between the question and a sentence's article adds to the sentence
MAX_ANSWER_SENTENCES = 3  # the best answering sentence and at most two from other outlets


def archive_as_of(session: Session, now: datetime) -> datetime:
    """When the archive was last brought up to date: the latest article processing (``now`` when there is none)."""
    latest = session.scalar(select(func.max(ArticleAnalysis.processed_at)))
    return min(latest, now) if latest else now


def _clean_question(question: str) -> str:
    question = " ".join(question.split())
    if not question:
        raise UserInputError('Ask a question, for example: ask "What did the EU decide on sanctions?"')
    if len(question) > MAX_QUESTION_CHARS:
        raise UserInputError(f"Questions are limited to {MAX_QUESTION_CHARS} characters.")
    return question


@dataclass(frozen=True)
class _Source:
    """What answer selection needs of a candidate article besides its sentences."""

    title: str
    outlet: str
    lead: str
    places: frozenset[str]
    terms: frozenset[str]  # the question's terms that occur in the article, and the year it was published
    text: str
    stored_names: Sequence[str] | None  # found by processing (None: processed before it stored them)

    @cached_property
    def names(self) -> frozenset[str]:
        """Roots of the words the article always writes with a capital: its names."""
        if self.stored_names is not None:
            return frozenset(self.stored_names)
        return name_roots(article_names_text(self.title, self.text))


@dataclass
class _Ranking:
    """Candidate sentences of one question, scored; ``ranked`` indexes ``texts``, ``vectors`` and ``owners``."""

    as_of: datetime
    searched: int
    texts: list[str] = field(default_factory=list)
    vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))
    owners: list[int] = field(default_factory=list)
    ranked: list[ScoredPassage] = field(default_factory=list)
    sources: dict[int, _Source] = field(default_factory=dict)
    stats: Bm25Stats = field(default_factory=lambda: Bm25Stats(0, 0.0, {}))

    def candidate(self, index: int) -> Candidate:
        """Sentence ``index`` with its outlet and its article's context (title, lead, the sentence before)."""
        owner = self.owners[index]
        source = self.sources[owner]
        before = self.texts[index - 1] if index and self.owners[index - 1] == owner else ""
        context = "\n".join(part for part in (source.title, source.lead, before) if part)
        return Candidate(self.texts[index], source.outlet, context, source.terms, source.places, source.names)


class _Candidates(Sequence[Candidate]):
    """The ranking's sentences as `Candidate`s, built only for those that answer selection looks at."""

    def __init__(self, ranking: _Ranking) -> None:
        self.ranking = ranking
        self.built: dict[int, Candidate] = {}

    def __len__(self) -> int:
        return len(self.ranking.texts)

    @overload
    def __getitem__(self, index: int) -> Candidate: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Candidate]: ...
    def __getitem__(self, index: int | slice) -> Candidate | Sequence[Candidate]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index not in self.built:
            self.built[index] = self.ranking.candidate(index)
        return self.built[index]


def _rank(
    session: Session,
    database: Database,
    encoder: TextEncoder,
    question: str,
    now: datetime,
    window: timedelta | None,
) -> _Ranking:
    """Stage 1 (candidate articles by words and by meaning), then stage 2 (their sentences, hybrid-scored)."""
    since = now - window if window is not None else None
    terms = tokenize(question)
    query_vector = np.asarray(encoder.encode([question])[0], dtype=np.float32)
    as_of = archive_as_of(session, now)
    lexical = lexical_candidates(session, terms, since, now, LEXICAL_CANDIDATES)
    if not lexical.window_size:
        return _Ranking(as_of, 0)
    dense = vector_index(database).search(session, query_vector, since, now, DENSE_CANDIDATES)
    candidates = sorted(set(dense) | set(lexical.best))
    found = term_counts_of(session, candidates, terms)
    texts, vectors, owners, sources = _candidate_sentences(session, candidates, len(query_vector), found)
    stats = Bm25Stats(lexical.window_size, 0.0, lexical.frequency)  # mean sentence length: from the candidates
    if not texts:
        return _Ranking(as_of, lexical.window_size, stats=stats)
    ranked = rank_passages(terms, query_vector, texts, vectors, stats)
    # A sentence of an article that is about the question as a whole weighs more: of two confusable events the
    # right one's articles are closer to the question than the other's, whose sentences can look as close.
    closeness = _closeness(session, candidates, query_vector)
    ranked = sorted(
        (replace(item, score=item.score + ARTICLE_WEIGHT * closeness.get(owners[item.index], 0.0)) for item in ranked),
        key=lambda item: -item.score,
    )
    return _Ranking(as_of, lexical.window_size, texts, vectors, owners, ranked, sources, stats)


def _to_answer(
    session: Session, database: Database, encoder: TextEncoder, question: str, now: datetime, window: timedelta | None
) -> tuple[QuestionProfile, np.ndarray | None, _Ranking]:
    """What answer selection needs: the question's profile, its question word's vector, its ranked sentences."""
    profile = profile_question(question)
    asked = word_vector(encoder, question, profile.question_word)  # first: its pass also gives the question's vector
    return profile, asked, _rank(session, database, encoder, question, now, window)


def search_sentences(
    database: Database,
    encoder: TextEncoder,
    question: str,
    *,
    now: datetime | None = None,
    window: timedelta | None = ASK_WINDOW,
    limit: int = 10,
) -> list[CitedSentence]:
    """The ``limit`` best-scoring archive sentences for a question, relevant or not (for evaluation and search).

    Raises:
        UserInputError: the question is empty or too long.
    """
    question = _clean_question(question)
    with database.session() as session:
        ranking = _rank(session, database, encoder, question, now or utcnow(), window)
        return [
            _cite(session.get_one(Article, ranking.owners[item.index]), ranking.texts[item.index], item.score)
            for item in ranking.ranked[:limit]
        ]


def rank_answers(
    database: Database,
    encoder: TextEncoder,
    question: str,
    *,
    now: datetime | None = None,
    window: timedelta | None = ASK_WINDOW,
) -> list[tuple[str, Answering]]:
    """Every stored sentence among the best-ranked that answers the question, with its check and what ranks it
    (`summarizer.answers.AnswerRank`), in retrieval order: what `ask` chooses its reply from (for evaluation and
    for fitting the rank's weights, benchmarks/tune_answer_order.py).

    Raises:
        UserInputError: the question is empty or too long.
    """
    question = _clean_question(question)
    with database.session() as session:
        profile, asked, ranking = _to_answer(session, database, encoder, question, now or utcnow(), window)
        answering = answering_sentences(
            profile, ranking.ranked, _Candidates(ranking), ranking.vectors, weight=ranking.stats.idf, asked=asked
        )
    return [(ranking.texts[each.index], each) for each in answering]


def ask(
    database: Database,
    encoder: TextEncoder,
    question: str,
    *,
    now: datetime | None = None,
    window: timedelta | None = ASK_WINDOW,
    max_sentences: int = MAX_ANSWER_SENTENCES,
) -> Answer:
    """Answer a question from the articles published within ``window`` before ``now``.

    Args:
        database: the database (articles must have been processed, see `process_new_articles`).
        encoder: the same sentence encoder that processed the articles.
        question: the question, in plain words.
        now: the time of the question (default: the current time).
        window: how far back to search; None searches the whole archive.
        max_sentences: at most this many answer sentences (1 to 4).

    Returns:
        An `Answer`: the best answering sentence, then up to two from other outlets, each citing its article and
        naming other outlets that state the same fact; or ``found=False`` with a plain "nothing on that" message
        when no stored sentence answers the question.

    Raises:
        UserInputError: the question is empty or too long.
    """
    question = _clean_question(question)
    with database.session() as session:
        profile, asked, ranking = _to_answer(session, database, encoder, question, now or utcnow(), window)
        chosen = select_answer(
            profile,
            ranking.ranked,
            _Candidates(ranking),
            ranking.vectors,
            weight=ranking.stats.idf,
            max_sentences=max(1, min(max_sentences, MAX_ANSWER_SENTENCES)),
            asked=asked,
        )
        if not chosen:
            best = ranking.ranked[0].score if ranking.ranked else None
            log.debug("no sentence answers a question (best retrieval score %s)", best)
            return Answer(question, (), ranking.as_of, False, NOTHING_FOUND, ranking.searched)
        cited = []
        for item in chosen:
            also = tuple(_also(session.get_one(Article, ranking.owners[index])) for index in item.also)
            article = session.get_one(Article, ranking.owners[item.index])
            cited.append(replace(_cite(article, ranking.texts[item.index], item.score), also_reported_by=also))
    count = len(cited)
    message = f"From {count} sentence{'s' if count != 1 else ''} in the archive:"
    return Answer(question, tuple(cited), ranking.as_of, True, message, ranking.searched)


def _closeness(session: Session, article_ids: Sequence[int], query_vector: np.ndarray) -> dict[int, float]:
    """The cosine between the question and each candidate article's vector (full precision, a few dozen rows)."""
    rows = session.execute(
        select(ArticleAnalysis.article_id, ArticleAnalysis.vector).where(ArticleAnalysis.article_id.in_(article_ids))
    ).all()
    if not rows:
        return {}
    matrix = np.stack([from_blob(blob, VECTOR_DTYPE) for _, blob in rows])
    scores = similarities(matrix, query_vector)
    return {article_id: float(score) for (article_id, _), score in zip(rows, scores, strict=True)}


def _candidate_sentences(
    session: Session, article_ids: Sequence[int], dim: int, terms: dict[int, dict[str, int]]
) -> tuple[list[str], np.ndarray, list[int], dict[int, _Source]]:
    """The stored sentences of the candidate articles: texts, vectors, the article each belongs to, and per article
    what answer selection needs (title, outlet, lead sentence, places, the question's terms it contains)."""
    texts: list[str] = []
    blocks: list[np.ndarray] = []
    owners: list[int] = []
    sources: dict[int, _Source] = {}
    query = (
        select(
            Article.id,
            Article.title,
            Article.outlet,
            Article.text,
            Article.published_at,
            ArticleAnalysis.sentence_spans,
            ArticleAnalysis.sentence_vectors,
            ArticleAnalysis.countries,
            ArticleAnalysis.regions,
            ArticleAnalysis.name_roots,
        )
        .join(ArticleAnalysis, ArticleAnalysis.article_id == Article.id)
        .where(Article.id.in_(article_ids))
    )
    for article_id, title, outlet, text, published, spans, blob, countries, regions, names in session.execute(query):
        if not spans:
            continue
        start, end = spans[0]
        places = frozenset([*countries, *regions])
        # The year it was published is a term of the article too: "in 2026" of a question is found in a report
        # that says only "on Tuesday".
        found = frozenset([*terms.get(article_id, ()), str(published.year)])
        sources[article_id] = _Source(title, outlet, text[start:end], places, found, text, names)
        vectors = from_blob(blob, SENTENCE_DTYPE, dim=dim)
        for (start, end), vector in zip(spans, vectors, strict=True):
            texts.append(text[start:end])
            owners.append(article_id)
            blocks.append(vector)
    if not texts:
        return [], np.zeros((0, 0), dtype=np.float32), [], {}
    matrix = np.stack(blocks)
    matrix /= np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)  # undo float16 rounding of the norm
    return texts, matrix, owners, sources


def _also(article: Article) -> AlsoReported:
    return AlsoReported(outlet=article.outlet, title=article.title, url=article.canonical_url)


def _cite(article: Article, text: str, score: float) -> CitedSentence:
    return CitedSentence(
        text=text,
        article_id=article.id,
        title=article.title,
        outlet=article.outlet,
        url=article.canonical_url,
        published_at=article.published_at,
        text_kind=article.text_kind,
        score=round(score, 4),
    )
