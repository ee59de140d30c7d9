"""Answer questions from the stored articles only, citing the sentences used.

Two stages keep a question fast however large the archive is. First, candidate articles: BM25 over the word
index (`ArticleTerm`) and the cosine between the question and each article vector, the best of each. Then their
stored sentences (offsets and vectors from processing) are scored with the hybrid score of
`summarizer.retrieval`, and 1 to 4 sentences that reach the relevance threshold make the answer. The only model
work at question time is embedding the question.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.errors import UserInputError
from bot.intelligence.processing import SENTENCE_DTYPE, VECTOR_DTYPE, from_blob
from bot.intelligence.results import NOTHING_FOUND, Answer, CitedSentence
from bot.storage import Database
from bot.storage.models import Article, ArticleAnalysis, ArticleTerm, utcnow
from summarizer.encoder import TextEncoder
from summarizer.retrieval import (
    Bm25Stats,
    ScoredPassage,
    bm25_scores,
    rank_passages,
    select_answer,
    similarities,
    tokenize,
)

log = logging.getLogger(__name__)

ASK_WINDOW = timedelta(days=30)  # "recent" articles: older coverage is history, not an answer to "what is..."
LEXICAL_CANDIDATES = 30  # articles taken from the word index
DENSE_CANDIDATES = 30  # articles taken by article-vector similarity
MAX_QUESTION_CHARS = 500
MAX_ANSWER_SENTENCES = 4
_VECTOR_FETCH_CHUNK = 500  # article ids per IN (...) when filling the vector cache


class _VectorCache:
    """Article vectors by id, kept per database: they never change once stored, so they are read only once."""

    def __init__(self) -> None:
        self.vectors: dict[int, np.ndarray] = {}
        self.lock = threading.Lock()

    def matrix(self, session: Session, ids: Sequence[int]) -> np.ndarray:
        """The vectors of ``ids`` as rows (reading the missing ones from the database)."""
        with self.lock:
            missing = [article_id for article_id in ids if article_id not in self.vectors]
            for start in range(0, len(missing), _VECTOR_FETCH_CHUNK):
                chunk = missing[start : start + _VECTOR_FETCH_CHUNK]
                query = select(ArticleAnalysis.article_id, ArticleAnalysis.vector).where(
                    ArticleAnalysis.article_id.in_(chunk)
                )
                for article_id, blob in session.execute(query):
                    self.vectors[article_id] = from_blob(blob, VECTOR_DTYPE)
            if not ids:
                return np.zeros((0, 0), dtype=np.float32)
            return np.stack([self.vectors[article_id] for article_id in ids])


_CACHES: weakref.WeakKeyDictionary[Database, _VectorCache] = weakref.WeakKeyDictionary()
_CACHES_LOCK = threading.Lock()


def _cache_for(database: Database) -> _VectorCache:
    with _CACHES_LOCK:
        cache = _CACHES.get(database)
        if cache is None:
            cache = _CACHES[database] = _VectorCache()
        return cache


def archive_as_of(session: Session, now: datetime) -> datetime:
    """When the archive was last brought up to date: the newest processed article's fetch time (else ``now``)."""
    latest = session.scalar(
        select(func.max(Article.fetched_at)).join(ArticleAnalysis, ArticleAnalysis.article_id == Article.id)
    )
    return latest or now


def _clean_question(question: str) -> str:
    question = " ".join(question.split())
    if not question:
        raise UserInputError('Ask a question, for example: ask "What did the EU decide on sanctions?"')
    if len(question) > MAX_QUESTION_CHARS:
        raise UserInputError(f"Questions are limited to {MAX_QUESTION_CHARS} characters.")
    return question


@dataclass
class _Ranking:
    """Candidate sentences of one question, scored; ``ranked`` indexes ``texts``, ``vectors`` and ``owners``."""

    as_of: datetime
    searched: int
    texts: list[str] = field(default_factory=list)
    vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))
    owners: list[int] = field(default_factory=list)
    ranked: list[ScoredPassage] = field(default_factory=list)


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
    window_ids = _window_article_ids(session, since, now)
    if not window_ids:
        return _Ranking(as_of, 0)
    frequency = _document_frequency(session, terms, since, now)
    candidates = _lexical_candidates(session, terms, frequency, len(window_ids), since, now)
    dense = similarities(_cache_for(database).matrix(session, window_ids), query_vector)
    candidates.update(window_ids[int(index)] for index in np.argsort(-dense)[:DENSE_CANDIDATES])
    texts, vectors, owners = _candidate_sentences(session, sorted(candidates), len(query_vector))
    if not texts:
        return _Ranking(as_of, len(window_ids))
    mean_length = float(np.mean([len(tokenize(text)) for text in texts]))
    ranked = rank_passages(terms, query_vector, texts, vectors, Bm25Stats(len(window_ids), mean_length, frequency))
    return _Ranking(as_of, len(window_ids), texts, vectors, owners, ranked)


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
        An `Answer`: cited sentences, or ``found=False`` with a plain "nothing on that" message.

    Raises:
        UserInputError: the question is empty or too long.
    """
    question = _clean_question(question)
    with database.session() as session:
        ranking = _rank(session, database, encoder, question, now or utcnow(), window)
        chosen = select_answer(ranking.ranked, ranking.vectors, max_sentences=max(1, min(max_sentences, 4)))
        if not chosen:
            best = ranking.ranked[0].score if ranking.ranked else None
            log.debug("no relevant sentence for a question (best score %s)", best)
            return Answer(question, (), ranking.as_of, False, NOTHING_FOUND, ranking.searched)
        cited = tuple(
            _cite(session.get_one(Article, ranking.owners[item.index]), ranking.texts[item.index], item.score)
            for item in chosen
        )
    count = len(cited)
    message = f"From {count} sentence{'s' if count != 1 else ''} in the archive:"
    return Answer(question, cited, ranking.as_of, True, message, ranking.searched)


def _window_article_ids(session: Session, since: datetime | None, now: datetime) -> list[int]:
    query = (
        select(Article.id)
        .join(ArticleAnalysis, ArticleAnalysis.article_id == Article.id)
        .where(Article.published_at <= now)
        .order_by(Article.id)
    )
    if since is not None:
        query = query.where(Article.published_at >= since)
    return list(session.scalars(query))


def _document_frequency(
    session: Session, terms: Sequence[str], since: datetime | None, now: datetime
) -> dict[str, int]:
    """In how many articles of the window each term occurs."""
    if not terms:
        return {}
    query = (
        select(ArticleTerm.term, func.count())
        .join(Article, Article.id == ArticleTerm.article_id)
        .where(ArticleTerm.term.in_(set(terms)), Article.published_at <= now)
        .group_by(ArticleTerm.term)
    )
    if since is not None:
        query = query.where(Article.published_at >= since)
    return {term: int(count) for term, count in session.execute(query)}


def _lexical_candidates(
    session: Session,
    terms: Sequence[str],
    frequency: dict[str, int],
    documents: int,
    since: datetime | None,
    now: datetime,
) -> set[int]:
    """The articles with the best BM25 for the question's terms."""
    if not terms or not frequency:
        return set()
    query = (
        select(ArticleTerm.article_id, ArticleTerm.term, ArticleTerm.count, ArticleAnalysis.term_count)
        .join(Article, Article.id == ArticleTerm.article_id)
        .join(ArticleAnalysis, ArticleAnalysis.article_id == ArticleTerm.article_id)
        .where(ArticleTerm.term.in_(set(terms)), Article.published_at <= now)
    )
    if since is not None:
        query = query.where(Article.published_at >= since)
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    lengths: dict[int, int] = {}
    for article_id, term, count, length in session.execute(query):
        counts[article_id][term] = count
        lengths[article_id] = length
    mean_length = session.scalar(select(func.avg(ArticleAnalysis.term_count))) or 1.0
    ids = list(counts)
    stats = Bm25Stats(documents, float(mean_length), frequency)
    scores = bm25_scores(terms, [counts[i] for i in ids], stats, lengths=[lengths[i] for i in ids])
    return {ids[int(index)] for index in np.argsort(-scores)[:LEXICAL_CANDIDATES]}


def _candidate_sentences(
    session: Session, article_ids: Sequence[int], dim: int
) -> tuple[list[str], np.ndarray, list[int]]:
    """The stored sentences of the candidate articles: texts, vectors and the article each belongs to."""
    texts: list[str] = []
    blocks: list[np.ndarray] = []
    owners: list[int] = []
    query = (
        select(Article.id, Article.text, ArticleAnalysis.sentence_spans, ArticleAnalysis.sentence_vectors)
        .join(ArticleAnalysis, ArticleAnalysis.article_id == Article.id)
        .where(Article.id.in_(article_ids))
    )
    for article_id, text, spans, blob in session.execute(query):
        if not spans:
            continue
        vectors = from_blob(blob, SENTENCE_DTYPE, dim=dim)
        for (start, end), vector in zip(spans, vectors, strict=True):
            texts.append(text[start:end])
            owners.append(article_id)
            blocks.append(vector)
    if not texts:
        return [], np.zeros((0, 0), dtype=np.float32), []
    matrix = np.stack(blocks)
    matrix /= np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)  # undo float16 rounding of the norm
    return texts, matrix, owners


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
