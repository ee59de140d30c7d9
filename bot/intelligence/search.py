"""Answer questions from the stored articles only, citing the sentences used.

Three steps keep a question fast however large the archive is, and keep retrieval apart from answering:

1. candidate articles (`_rank`): BM25 over the word index (`ArticleTerm`) and the cosine between the question and
   each article vector, the best of each;
2. their stored sentences (offsets and vectors from processing), scored with the hybrid score of
   `summarizer.retrieval`;
3. answer selection (`summarizer.answers`): only a sentence that covers the question's names and salient terms and
   has what it asks for (a name, a date, a place, a number) answers; the reply leads with the best one, adds at
   most two from other outlets that add something, and lists outlets stating the same fact as "also reported by".
   When no sentence answers, the reply says so.

The only model work at question time is embedding the question.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import cached_property
from typing import overload

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.errors import UserInputError
from bot.intelligence.processing import SENTENCE_DTYPE, VECTOR_DTYPE, from_blob
from bot.intelligence.results import NOTHING_FOUND, AlsoReported, Answer, CitedSentence
from bot.storage import Database
from bot.storage.models import Article, ArticleAnalysis, ArticleTerm, utcnow
from summarizer.answers import Candidate, name_roots, profile_question, select_answer
from summarizer.encoder import TextEncoder
from summarizer.retrieval import (
    BM25_B,
    BM25_K1,
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
_VECTOR_FETCH_CHUNK = 500  # article ids per IN (...) when filling the vector cache
_CACHE_SLACK = 10_000  # cached articles beyond twice the window (plus this) are dropped


class _ArticleCache:
    """Article vectors and word counts by id, kept per database and read once: they never change once stored.

    The vectors live in one growing matrix, so a question selects its rows instead of stacking 10,000 arrays.
    """

    def __init__(self) -> None:
        self.row: dict[int, int] = {}
        self.lengths: dict[int, int] = {}
        self.matrix = np.zeros((0, 0), dtype=np.float32)
        self.size = 0
        self.lock = threading.Lock()
        # Every processed article's id and publication time (epoch seconds), by id; re-read only when processing
        # has added or changed analyses (their count or latest time differs), so a question filters in memory.
        self.archive_key: tuple[int, datetime | None] | None = None
        self.archive_ids = np.zeros(0, dtype=np.int64)
        self.archive_times = np.zeros(0, dtype=np.float64)
        self.archive_lengths = np.zeros(0, dtype=np.float64)

    def window(
        self, session: Session, since: datetime | None, now: datetime
    ) -> tuple[list[int], float, datetime | None]:
        """The ids of the processed articles published between ``since`` and ``now``, in id order, their mean
        length in index terms (for BM25), and the time of the latest processing."""
        count, latest = session.execute(
            select(func.count(ArticleAnalysis.article_id), func.max(ArticleAnalysis.processed_at))
        ).one()
        with self.lock:
            if self.archive_key != (count, latest):
                rows = session.execute(
                    select(Article.id, Article.published_at, ArticleAnalysis.term_count)
                    .join(ArticleAnalysis, ArticleAnalysis.article_id == Article.id)
                    .order_by(Article.id)
                ).all()
                self.archive_ids = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
                self.archive_times = np.fromiter(
                    (row[1].timestamp() if row[1] else np.nan for row in rows), dtype=np.float64, count=len(rows)
                )
                self.archive_lengths = np.fromiter((row[2] or 0 for row in rows), dtype=np.float64, count=len(rows))
                self.archive_key = (count, latest)
            ids, times, lengths = self.archive_ids, self.archive_times, self.archive_lengths
        keep = times <= now.timestamp()
        if since is not None:
            keep &= times >= since.timestamp()
        mean_length = float(lengths[keep].mean()) if keep.any() else 0.0
        return ids[keep].tolist(), mean_length, latest

    def load(self, session: Session, ids: Sequence[int]) -> None:
        """Read the vectors and word counts of the ``ids`` not cached yet."""
        missing = [article_id for article_id in ids if article_id not in self.row]
        for start in range(0, len(missing), _VECTOR_FETCH_CHUNK):
            chunk = missing[start : start + _VECTOR_FETCH_CHUNK]
            query = select(ArticleAnalysis.article_id, ArticleAnalysis.vector, ArticleAnalysis.term_count).where(
                ArticleAnalysis.article_id.in_(chunk)
            )
            for article_id, blob, length in session.execute(query):
                vector = from_blob(blob, VECTOR_DTYPE)
                if self.size == len(self.matrix):  # grow by doubling: appends stay cheap
                    grown = np.zeros((max(1024, 2 * self.size), len(vector)), dtype=np.float32)
                    if self.size:
                        grown[: self.size] = self.matrix[: self.size]
                    self.matrix = grown
                self.matrix[self.size] = vector
                self.row[article_id] = self.size
                self.lengths[article_id] = length
                self.size += 1

    def vectors(self, session: Session, ids: Sequence[int]) -> np.ndarray:
        """The vectors of ``ids`` as rows, in that order."""
        with self.lock:
            if self.size > 2 * len(ids) + _CACHE_SLACK:
                self.keep(ids)  # most cached articles have left the window: do not grow without bound
            self.load(session, ids)
            rows = np.fromiter((self.row[article_id] for article_id in ids), dtype=np.int64, count=len(ids))
            return self.matrix[rows]

    def keep(self, ids: Sequence[int]) -> None:
        """Forget every article but ``ids``."""
        kept = [article_id for article_id in ids if article_id in self.row]
        rows = np.asarray([self.row[article_id] for article_id in kept], dtype=np.int64)
        self.matrix = self.matrix[rows] if len(rows) else np.zeros((0, 0), dtype=np.float32)
        self.row = {article_id: index for index, article_id in enumerate(kept)}
        self.lengths = {article_id: self.lengths[article_id] for article_id in kept}
        self.size = len(kept)

    def length(self, article_id: int) -> int:
        """The article's length in index terms (for BM25), once its vector has been read."""
        return self.lengths.get(article_id, 0)


_CACHES: weakref.WeakKeyDictionary[Database, _ArticleCache] = weakref.WeakKeyDictionary()
_CACHES_LOCK = threading.Lock()


def _cache_for(database: Database) -> _ArticleCache:
    with _CACHES_LOCK:
        cache = _CACHES.get(database)
        if cache is None:
            cache = _CACHES[database] = _ArticleCache()
        return cache


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
    terms: frozenset[str]  # the question's terms that occur in the article
    text: str

    @cached_property
    def names(self) -> frozenset[str]:
        """Roots of the words the article always writes with a capital: its names (read only if needed)."""
        return name_roots(f"{self.title}\n{self.text}")


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
    cache = _cache_for(database)
    window_ids, mean_length, latest = cache.window(session, since, now)
    as_of = min(latest, now) if latest else now  # as `archive_as_of`, without asking again
    if not window_ids:
        return _Ranking(as_of, 0)
    dense = similarities(cache.vectors(session, window_ids), query_vector)
    candidates = {window_ids[int(index)] for index in np.argsort(-dense)[:DENSE_CANDIDATES]}
    frequency, lexical, found = _lexical_candidates(session, terms, set(window_ids), mean_length, cache)
    candidates |= lexical
    texts, vectors, owners, sources = _candidate_sentences(session, sorted(candidates), len(query_vector), found)
    stats = Bm25Stats(len(window_ids), 0.0, frequency)  # mean sentence length: taken from the candidates
    if not texts:
        return _Ranking(as_of, len(window_ids), stats=stats)
    ranked = rank_passages(terms, query_vector, texts, vectors, stats)
    # A sentence of an article that is about the question as a whole weighs more: of two confusable events the
    # right one's articles are closer to the question than the other's, whose sentences can look as close.
    members = sorted(candidates)
    at = np.searchsorted(np.asarray(window_ids, dtype=np.int64), np.asarray(members, dtype=np.int64))
    closeness = {article_id: float(dense[i]) for article_id, i in zip(members, at, strict=True)}
    ranked = sorted(
        (replace(item, score=item.score + ARTICLE_WEIGHT * closeness.get(owners[item.index], 0.0)) for item in ranked),
        key=lambda item: -item.score,
    )
    return _Ranking(as_of, len(window_ids), texts, vectors, owners, ranked, sources, stats)


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
        An `Answer`: the best answering sentence, then up to two from other outlets, each citing its article and
        naming other outlets that state the same fact; or ``found=False`` with a plain "nothing on that" message
        when no stored sentence answers the question.

    Raises:
        UserInputError: the question is empty or too long.
    """
    question = _clean_question(question)
    with database.session() as session:
        ranking = _rank(session, database, encoder, question, now or utcnow(), window)
        chosen = select_answer(
            profile_question(question),
            ranking.ranked,
            _Candidates(ranking),
            ranking.vectors,
            weight=ranking.stats.idf,
            max_sentences=max(1, min(max_sentences, MAX_ANSWER_SENTENCES)),
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


def _lexical_candidates(
    session: Session, terms: Sequence[str], window: set[int], mean_length: float, cache: _ArticleCache
) -> tuple[dict[str, int], set[int], dict[int, dict[str, int]]]:
    """Document frequencies of the question's terms in the window, the articles with the best BM25, and which of
    the terms each article of the window contains (with their counts)."""
    if not terms:
        return {}, set(), {}
    query = select(ArticleTerm.article_id, ArticleTerm.term, ArticleTerm.count).where(ArticleTerm.term.in_(set(terms)))
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    frequency: dict[str, int] = defaultdict(int)
    postings: list[tuple[int, str, int]] = []
    for article_id, term, count in session.execute(query):
        if article_id in window:
            counts[article_id][term] = count
            frequency[term] += 1
            postings.append((article_id, term, count))
    if not counts:
        return dict(frequency), set(), {}
    stats = Bm25Stats(len(window), mean_length, frequency)
    # BM25 (as `bm25_scores`) over the postings at once: thousands of them for common words at 10,000 articles.
    ids = list(counts)
    position = {article_id: index for index, article_id in enumerate(ids)}
    owner = np.fromiter((position[p[0]] for p in postings), dtype=np.int64, count=len(postings))
    tf = np.fromiter((p[2] for p in postings), dtype=np.float64, count=len(postings))
    idf = {term: stats.idf(term) for term in frequency}
    weight = np.fromiter((idf[p[1]] for p in postings), dtype=np.float64, count=len(postings))
    lengths = np.fromiter((cache.length(article_id) for article_id in ids), dtype=np.float64, count=len(ids))
    norm = BM25_K1 * (1.0 - BM25_B + BM25_B * lengths[owner] / max(stats.mean_length, 1.0))
    scores = np.bincount(owner, weights=weight * tf * (BM25_K1 + 1.0) / (tf + norm), minlength=len(ids))
    best = {ids[int(index)] for index in np.argsort(-scores, kind="stable")[:LEXICAL_CANDIDATES]}
    return dict(frequency), best, counts


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
            ArticleAnalysis.sentence_spans,
            ArticleAnalysis.sentence_vectors,
            ArticleAnalysis.countries,
            ArticleAnalysis.regions,
        )
        .join(ArticleAnalysis, ArticleAnalysis.article_id == Article.id)
        .where(Article.id.in_(article_ids))
    )
    for article_id, title, outlet, text, spans, blob, countries, regions in session.execute(query):
        if not spans:
            continue
        start, end = spans[0]
        places = frozenset([*countries, *regions])
        found = frozenset(terms.get(article_id, ()))
        sources[article_id] = _Source(title, outlet, text[start:end], places, found, text)
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
