"""The archive's word index in the database's own full-text engine, and the word side of a question's candidates.

Each processed article's terms (our own tokenizer's, so that questions and articles agree) are stored in the
engine's full-text index: a tsvector in `article_analyses.search_terms` with a GIN index on PostgreSQL, the FTS5
table `article_search` (rowid = article id) on SQLite (migration 0011), written by `index_terms` in the processing
transaction. For a question the engine counts each term's articles in the window (PostgreSQL's own statistics
give a very common term's share, since counting its postings would cost the most) and ranks (ts_rank, bm25) the
articles holding its rarer terms: a term in thousands of articles ("said") adds little to the ranking and would
make the engine score most of the window. The meaning side is `bot.intelligence.vector_index`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import TextClause, bindparam, func, select, text
from sqlalchemy.orm import Session

from bot.storage.models import Article, ArticleAnalysis

log = logging.getLogger(__name__)

MAX_POSITIONS = 255  # PostgreSQL keeps at most 256 positions of one lexeme
COMMON_FLOOR = 2_000  # a term in more articles than this is left out of the ranking query (it costs, adds little)
FREQUENCY_CAP = 5_000  # document frequencies are counted up to this; PostgreSQL's statistics give a common term's
RANKED_MATCHES = 20_000  # the engine ranks at most this many matching articles
STATS_SECONDS = 600.0  # PostgreSQL's most common lexemes are read again after this
WINDOW_SECONDS = 60.0  # the window's article count is reused this long (it is only the IDF's N)
_cache_lock = threading.Lock()
_window_sizes: dict[tuple[str, int, int], tuple[float, int]] = {}
_common: dict[str, tuple[float, dict[str, float]]] = {}
_common_counts: dict[tuple[str, int | None, str], tuple[float, int]] = {}


def is_postgres(session: Session) -> bool:
    """Whether the session talks to PostgreSQL (otherwise SQLite)."""
    return session.get_bind().dialect.name == "postgresql"


def _tsvector(counts: Mapping[str, int]) -> str:
    """A tsvector literal with each term and as many positions as it occurs (no parser, no dictionary)."""
    parts = []
    position = 1
    for term, count in counts.items():
        occurrences = min(count, MAX_POSITIONS)
        positions = ",".join(str(min(position + n, 16383)) for n in range(occurrences))
        position += occurrences
        parts.append("'{}':{}".format(term.replace("'", "''").replace("\\", "\\\\"), positions))
    return " ".join(parts)


def _tsquery(terms: Iterable[str], operator: str = "|") -> str:
    return f" {operator} ".join("'{}'".format(term.replace("'", "''").replace("\\", "\\\\")) for term in terms)


def _fts_query(terms: Iterable[str]) -> str:
    return " OR ".join('"{}"'.format(term.replace('"', '""')) for term in terms)


def index_terms(session: Session, article_id: int, counts: Mapping[str, int]) -> None:
    """Store an article's terms (with how often each occurs) in the full-text index, in the caller's transaction."""
    if not counts:
        return
    if is_postgres(session):
        session.execute(
            text("UPDATE article_analyses SET search_terms = CAST(:terms AS tsvector) WHERE article_id = :id"),
            {"terms": _tsvector(counts), "id": article_id},
        )
    else:
        document = " ".join(" ".join([term] * count) for term, count in counts.items())
        session.execute(
            text("INSERT OR REPLACE INTO article_search (rowid, terms) VALUES (:id, :terms)"),
            {"id": article_id, "terms": document},
        )


@dataclass(frozen=True)
class LexicalCandidates:
    """What the word side found: the window's size, the question terms' document frequencies, the best articles."""

    window_size: int
    frequency: dict[str, int]
    best: list[int]


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # the window's start when the whole archive is searched

# Fixed statements per engine (values are bound): document frequency in the window, capped; the best articles.
# The matches are taken from the GIN index first (MATERIALIZED: the planner must not walk the window by date and
# test each article, which it may pick for a LIMIT), then joined to the window.
_POSTGRES = {
    "count": "WITH hits AS MATERIALIZED (SELECT article_id FROM article_analyses "
    "WHERE search_terms @@ CAST(:query AS tsquery) LIMIT :cap) "
    "SELECT count(*) FROM hits JOIN articles ar ON ar.id = hits.article_id "
    "WHERE ar.published_at BETWEEN :since AND :now",
    "rank": "WITH hits AS MATERIALIZED (SELECT article_id, search_terms FROM article_analyses "
    "WHERE search_terms @@ CAST(:query AS tsquery) LIMIT :matches) "
    "SELECT hits.article_id FROM hits JOIN articles ar ON ar.id = hits.article_id "
    "WHERE ar.published_at BETWEEN :since AND :now "
    "ORDER BY ts_rank(hits.search_terms, CAST(:query AS tsquery), 1) DESC, hits.article_id LIMIT :limit",
}
# SQLite is told to date the hits from ix_articles_id_published_at: without statistics its planner reads the rows.
_SQLITE = {
    "count": "SELECT count(*) FROM (SELECT 1 FROM article_search JOIN articles ar INDEXED BY "
    "ix_articles_id_published_at ON ar.id = article_search.rowid "
    "WHERE article_search MATCH :query AND ar.published_at BETWEEN :since AND :now LIMIT :cap) hits",
    "rank": "SELECT id FROM (SELECT article_search.rowid AS id, bm25(article_search) AS score FROM article_search "
    "JOIN articles ar INDEXED BY ix_articles_id_published_at ON ar.id = article_search.rowid "
    "WHERE article_search MATCH :query "
    "AND ar.published_at BETWEEN :since AND :now ORDER BY ar.published_at DESC LIMIT :matches) hits "
    "ORDER BY score, id LIMIT :limit",
}


def _cache_key(session: Session) -> str:
    return session.get_bind().engine.url.render_as_string(hide_password=True)


def window_size(session: Session, since: datetime | None, now: datetime) -> int:
    """How many processed articles were published within the window (counted at most once a minute)."""
    key = (_cache_key(session), int((since or EPOCH).timestamp() // 60), int(now.timestamp() // 60))
    with _cache_lock:
        cached = _window_sizes.get(key)
    if cached is not None and time.monotonic() - cached[0] < WINDOW_SECONDS:
        return cached[1]
    query = (
        select(func.count())
        .select_from(ArticleAnalysis)
        .join(Article, Article.id == ArticleAnalysis.article_id)
        .where(Article.published_at <= now)
    )
    if since is not None:
        query = query.where(Article.published_at >= since)
    size = int(session.scalar(query) or 0)
    if not size:
        return 0  # not kept: the first articles may be processed any moment
    with _cache_lock:
        if len(_window_sizes) > 1_000:
            _window_sizes.clear()
        _window_sizes[key] = (time.monotonic(), size)
    return size


def _common_lexemes(session: Session) -> dict[str, float]:
    """PostgreSQL's most common lexemes of the index and the share of articles holding each (from ANALYZE)."""
    key = _cache_key(session)
    with _cache_lock:
        cached = _common.get(key)
    if cached is not None and time.monotonic() - cached[0] < STATS_SECONDS:
        return cached[1]
    row = session.execute(
        text(
            "SELECT most_common_elems::text::text[], most_common_elem_freqs FROM pg_stats "
            "WHERE schemaname = current_schema() AND tablename = 'article_analyses' AND attname = 'search_terms'"
        )
    ).first()
    shares = dict(zip(row[0], row[1], strict=False)) if row is not None and row[0] else {}  # freqs has 3 extra
    with _cache_lock:
        _common[key] = (time.monotonic(), shares)
    return shares


# Counting a common term's articles costs the most of a question (thousands of postings, each joined to its date),
# and the count only sets the term's small IDF, where minutes of news change nothing: so the count of a term found
# in more than COMMON_FLOOR articles is kept STATS_SECONDS for windows of the same length (as PostgreSQL's
# statistics are), while rarer terms, which decide the ranking, are counted for every question.
def _common_count(session: Session, span: int | None, term: str) -> int | None:
    with _cache_lock:
        cached = _common_counts.get((_cache_key(session), span, term))
    return cached[1] if cached is not None and time.monotonic() - cached[0] < STATS_SECONDS else None


def _remember_common_count(session: Session, span: int | None, term: str, count: int) -> None:
    with _cache_lock:
        if len(_common_counts) > 10_000:
            _common_counts.clear()
        _common_counts[(_cache_key(session), span, term)] = (time.monotonic(), count)


def lexical_candidates(
    session: Session, terms: Sequence[str], since: datetime | None, now: datetime, limit: int
) -> LexicalCandidates:
    """The window's size, each question term's document frequency in the window (capped), and the `limit` articles
    the engine ranks best for the question's rarer terms."""
    size = window_size(session, since, now)
    unique = list(dict.fromkeys(terms))
    if not unique or not size:
        return LexicalCandidates(size, {}, [])
    postgres = is_postgres(session)
    statements = _POSTGRES if postgres else _SQLITE
    to_query = _tsquery if postgres else _fts_query
    window = {"since": since or EPOCH, "now": now}
    when = Article.__table__.c.published_at.type  # bound as the column stores times (naive UTC on SQLite)

    def statement(name: str) -> TextClause:
        return text(statements[name]).bindparams(bindparam("since", type_=when), bindparam("now", type_=when))

    # A common term's frequency comes from the engine's statistics (counting its postings would cost the most);
    # the others' are counted in the window.
    common = _common_lexemes(session) if postgres else {}
    span = None if since is None else round((now - since).total_seconds() / 3600)
    frequency = {}
    for term in unique:
        if term in common:
            frequency[term] = max(1, round(common[term] * size))
            continue
        remembered = _common_count(session, span, term)
        if remembered is not None:
            frequency[term] = remembered
            continue
        found = session.scalar(statement("count"), {**window, "query": to_query([term]), "cap": FREQUENCY_CAP})
        if found:
            frequency[term] = int(found)
            if found > COMMON_FLOOR:
                _remember_common_count(session, span, term, int(found))
    if not frequency:
        return LexicalCandidates(size, {}, [])
    # Common terms add little to a ranking and make the engine score most of the window: rank by the rarer ones.
    ordered = sorted(frequency, key=lambda term: frequency[term])
    rare = [term for term in ordered if frequency[term] <= COMMON_FLOOR]
    if not rare and frequency[ordered[0]] <= RANKED_MATCHES:
        rare = ordered[:1]
    if not rare:  # every term is in a large share of the archive: words cannot narrow it, meaning does
        return LexicalCandidates(size, frequency, [])
    values = {**window, "query": to_query(rare), "limit": limit, "matches": RANKED_MATCHES}
    rows = session.execute(statement("rank"), values)
    return LexicalCandidates(size, frequency, [int(row[0]) for row in rows])


def term_counts_of(session: Session, article_ids: Sequence[int], terms: Sequence[str]) -> dict[int, dict[str, int]]:
    """Which of `terms` each of the articles contains, and how often (from the full-text index)."""
    if not article_ids or not terms:
        return {}
    if is_postgres(session):
        query = text(
            "SELECT an.article_id, t.lexeme, coalesce(array_length(t.positions, 1), 1) "
            "FROM article_analyses an, unnest(an.search_terms) AS t "
            "WHERE an.article_id IN :ids AND t.lexeme IN :terms"
        )
    else:
        query = text(
            "SELECT doc, term, count(*) FROM article_search_instances "
            "WHERE term IN :terms AND doc IN :ids GROUP BY doc, term"
        )
    query = query.bindparams(bindparam("ids", expanding=True), bindparam("terms", expanding=True))
    found: dict[int, dict[str, int]] = {}
    for article_id, term, count in session.execute(query, {"ids": list(article_ids), "terms": list(set(terms))}):
        found.setdefault(int(article_id), {})[str(term)] = int(count)
    return found
