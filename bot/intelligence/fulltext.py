"""The archive's word index in the database's own full-text engine, and the word side of a question's candidates.

Each processed article's terms (our own tokenizer's, so that questions and articles agree) are stored in
  the engine's full-text index: a tsvector in `article_analyses.search_terms` with a GIN index on PostgreSQL, the
  FTS5 table `article_search` (rowid = article id) on SQLite (migration 0009). Written by `index_terms` in the
  processing transaction, ranked by the engine (ts_rank, bm25). Very common question terms ("said") would make the
engine rank most of the window, so the ranking query takes the rarer terms only. The meaning side is
`bot.intelligence.vector_index`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import TextClause, bindparam, func, select, text
from sqlalchemy.orm import Session

from bot.storage.models import Article, ArticleAnalysis

log = logging.getLogger(__name__)

MAX_POSITIONS = 255  # PostgreSQL keeps at most 256 positions of one lexeme
COMMON_SHARE = 0.05  # a term in more of the window's articles than this (and in over COMMON_FLOOR)
COMMON_FLOOR = 2_000  # is left out of the ranking query: the engine would score most of the window for little
FREQUENCY_CAP = 50_000  # document frequencies are counted up to this (a rarer term's is exact)


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
_POSTGRES = {
    "count": "SELECT count(*) FROM (SELECT 1 FROM article_analyses an JOIN articles ar ON ar.id = an.article_id "
    "WHERE an.search_terms @@ CAST(:query AS tsquery) AND ar.published_at BETWEEN :since AND :now LIMIT :cap) hits",
    "rank": "SELECT an.article_id FROM article_analyses an JOIN articles ar ON ar.id = an.article_id "
    "WHERE an.search_terms @@ CAST(:query AS tsquery) AND ar.published_at BETWEEN :since AND :now "
    "ORDER BY ts_rank(an.search_terms, CAST(:query AS tsquery), 1) DESC, an.article_id LIMIT :limit",
}
_SQLITE = {
    "count": "SELECT count(*) FROM (SELECT 1 FROM article_search JOIN articles ar ON ar.id = article_search.rowid "
    "WHERE article_search MATCH :query AND ar.published_at BETWEEN :since AND :now LIMIT :cap) hits",
    "rank": "SELECT article_search.rowid FROM article_search JOIN articles ar ON ar.id = article_search.rowid "
    "WHERE article_search MATCH :query AND ar.published_at BETWEEN :since AND :now "
    "ORDER BY bm25(article_search), article_search.rowid LIMIT :limit",
}


def window_size(session: Session, since: datetime | None, now: datetime) -> int:
    """How many processed articles were published within the window."""
    query = (
        select(func.count())
        .select_from(ArticleAnalysis)
        .join(Article, Article.id == ArticleAnalysis.article_id)
        .where(Article.published_at <= now)
    )
    if since is not None:
        query = query.where(Article.published_at >= since)
    return int(session.scalar(query) or 0)


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

    frequency = {}
    for term in unique:
        found = session.scalar(statement("count"), {**window, "query": to_query([term]), "cap": FREQUENCY_CAP})
        if found:
            frequency[term] = int(found)
    if not frequency:
        return LexicalCandidates(size, {}, [])
    # Common terms add little to a ranking and make the engine score most of the window: rank by the rarer ones.
    ordered = sorted(frequency, key=lambda term: frequency[term])
    rare = [term for term in ordered if frequency[term] <= max(COMMON_SHARE * size, COMMON_FLOOR)] or ordered[:1]
    rows = session.execute(statement("rank"), {**window, "query": to_query(rare), "limit": limit})
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
