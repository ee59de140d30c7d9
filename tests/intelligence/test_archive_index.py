"""The archive's indexes at the candidate layer: the database's full-text index (both engines) and the vector index."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import event, func, select

from bot.intelligence import fulltext
from bot.intelligence.briefing import story_signals
from bot.intelligence.fulltext import index_terms, lexical_candidates, term_counts_of
from bot.intelligence.processing import VECTOR_DTYPE, from_blob, to_blob
from bot.intelligence.vector_index import INDEX_SLACK, VectorIndex
from bot.storage import Article, Database, TextKind
from bot.storage.models import ArticleAnalysis, Story
from summarizer.ranking import ChannelFilters
from tests.intelligence.conftest import NOW

WHEN = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def _store(session, number: int, counts: dict[str, int], vector: np.ndarray, published: datetime = WHEN) -> int:
    article = Article(
        canonical_url=f"https://example.org/{number}",
        content_hash=f"{number:064d}",
        title=f"Article {number}",
        outlet="Example News",
        published_at=published,
        text=" ".join(counts),
        text_kind=TextKind.FULL_TEXT,
    )
    session.add(article)
    session.flush()
    session.add(
        ArticleAnalysis(
            article_id=article.id,
            encoder="test",
            vector=to_blob(vector, VECTOR_DTYPE),
            sentence_vectors=b"",
            term_count=sum(counts.values()),
        )
    )
    session.flush()
    index_terms(session, article.id, counts)
    return article.id


@contextmanager
def _statements(database: Database) -> Iterator[list[str]]:
    """The SQL statements run on ``database`` inside the block."""
    seen: list[str] = []

    def record(_conn, _cursor, statement, _parameters, _context, _many) -> None:
        seen.append(statement)

    event.listen(database.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(database.engine, "before_cursor_execute", record)


def _unit(seed: int) -> np.ndarray:
    vector = np.random.default_rng(seed).standard_normal(384).astype(np.float32)
    return vector / np.linalg.norm(vector)


def test_full_text_ranks_articles_counts_frequencies_and_terms(database: Database):
    """On both engines: document frequencies in the window, the article with the question's terms most often
    first, one outside the window left out, and each candidate's counts of the question's terms."""
    with database.session() as session:
        rich = _store(session, 1, {"tanker": 4, "blacklist": 2, "u.s": 1, "o'neill": 1, "zürich": 2}, _unit(1))
        poor = _store(session, 2, {"tanker": 1, "harbour": 3}, _unit(2))
        _store(session, 3, {"harbour": 2, "weather": 1}, _unit(3))
        _store(session, 4, {"tanker": 5, "blacklist": 5}, _unit(4), published=WHEN - timedelta(days=40))
    with database.session() as session:
        found = lexical_candidates(session, ["tanker", "blacklist", "unknown"], NOW - timedelta(days=30), NOW, 10)
        assert found.window_size == 3
        assert found.frequency == {"tanker": 2, "blacklist": 1}
        assert found.best == [rich, poor]
        counts = term_counts_of(session, [rich, poor], ["tanker", "u.s", "o'neill", "zürich", "harbour"])
        assert counts == {rich: {"tanker": 4, "u.s": 1, "o'neill": 1, "zürich": 2}, poor: {"tanker": 1, "harbour": 3}}
        assert lexical_candidates(session, ["zürich"], None, NOW, 10).best == [rich]
        assert lexical_candidates(session, ["weather"], None, NOW, 10).best == [3]


def test_a_common_terms_count_is_kept_and_a_rare_ones_counted_each_time(
    database: Database, monkeypatch: pytest.MonkeyPatch
):
    """The document frequency of a term in more than COMMON_FLOOR articles is counted once, then remembered (it
    only sets a small IDF); a rarer term, which decides the ranking, is counted for every question."""
    monkeypatch.setattr(fulltext, "COMMON_FLOOR", 2)
    monkeypatch.setattr(fulltext, "_common_counts", {})
    with database.session() as session:
        for number in range(1, 5):
            _store(session, number, {"minister": 1, **({"tanker": 1} if number == 1 else {})}, _unit(number))
    since = NOW - timedelta(days=30)
    counted = []
    for _question in range(2):
        with _statements(database) as statements, database.session() as session:
            found = lexical_candidates(session, ["minister", "tanker"], since, NOW, 10)
        assert found.frequency == {"minister": 4, "tanker": 1} and found.best[0] == 1
        counted.append(sum("count(*)" in statement.lower() for statement in statements))
    assert counted == [3, 1]  # the window's size and each term; then only the rare term (the size is kept too)


def test_vector_index_finds_each_article_and_follows_processing(archive_copy: Database):
    """Each article's own vector finds it first; an article processed after the index was filled is found on the
    next search, and one published after "now" is not."""
    index = VectorIndex()
    with archive_copy.session() as session:
        stored = {
            row.article_id: from_blob(row.vector, VECTOR_DTYPE) for row in session.scalars(select(ArticleAnalysis))
        }
        for article_id in list(stored)[:10]:
            assert index.search(session, stored[article_id], None, NOW, 3)[0] == article_id
        size = index.size
    fresh = _unit(99)
    with archive_copy.session() as session:  # processed since the index was filled
        new_id = _store(session, 9001, {"fresh": 1}, fresh, published=NOW - timedelta(hours=1))
        later = _store(session, 9002, {"later": 1}, _unit(98), published=NOW + timedelta(hours=1))
    with archive_copy.session() as session:
        assert index.search(session, fresh, NOW - timedelta(days=30), NOW, 3)[0] == new_id
        assert later not in index.search(session, _unit(98), None, NOW, 50)
        assert index.size == size + 2


def test_vector_index_filled_ahead_reads_the_window_once(archive_copy: Database):
    """`fill` (run when a process starts) reads the window's vectors; the first search then reads nothing more."""
    index = VectorIndex()
    since = NOW - timedelta(days=30)
    with archive_copy.session() as session:
        index.fill(session, since, NOW)
        filled = index.size
        in_window = session.scalar(
            select(func.count())
            .select_from(ArticleAnalysis)
            .join(Article, Article.id == ArticleAnalysis.article_id)
            .where(Article.published_at >= since - INDEX_SLACK, Article.published_at <= NOW)
        )
        assert in_window
        assert filled == in_window
        covered = index.covered_from
        index.search(session, _unit(7), since, NOW, 3)
        assert (index.size, index.covered_from) == (filled, covered)
    # Searching again with nothing newly processed reads ids from the processed_at index, never vectors (all the
    # archive was processed within seconds, so all of it is inside the re-read margin).
    with _statements(archive_copy) as statements, archive_copy.session() as session:
        index.search(session, _unit(8), since, NOW, 3)
    assert statements and not any("article_analyses.vector" in statement for statement in statements)


def test_vector_index_graph_agrees_with_the_exact_scan(archive: object):
    """Past `hnsw_from` articles the index searches an HNSW graph: each article's own vector still finds it."""
    database: Database = archive.database  # type: ignore[attr-defined]
    graph = VectorIndex(hnsw_from=5)
    with database.session() as session:
        stored = {
            row.article_id: from_blob(row.vector, VECTOR_DTYPE) for row in session.scalars(select(ArticleAnalysis))
        }
        for article_id, vector in list(stored.items())[:20]:
            assert graph.search(session, vector, None, NOW, 5)[0] == article_id
    assert graph.graph is not None and len(graph.graph) == graph.size == len(stored)


def test_brief_reads_only_stories_that_can_pass_the_place_and_topic_filters(database: Database):
    """On both engines: with filters, the window's stories are narrowed in SQL (any country of the group, and
    every group), the same stories the ranking's own filter keeps; a capped read keeps the widest coverage."""
    tags = [(["JP"], ["east-asia"], ["security"]), (["JP", "CN"], [], ["trade"]), (["FR"], ["europe"], ["security"])]
    with database.session() as session:
        for number, (countries, regions, topics) in enumerate(tags):
            session.add(Story(
                id=number + 1, title=f"Story {number}", article_count=1, countries=countries, regions=regions,
                topics=topics, first_published_at=WHEN, last_published_at=WHEN + timedelta(hours=number),
                outlets=[f"Outlet {n}" for n in range(2 if number == 1 else 1)],
            ))  # fmt: skip
    since = NOW - timedelta(days=7)
    with database.session() as session:
        cases = [
            (ChannelFilters(countries=frozenset({"CN", "FR"})), {2, 3}),
            (ChannelFilters(countries=frozenset({"JP"}), topics=frozenset({"security"})), {1}),
            (ChannelFilters(regions=frozenset({"europe"})), {3}),
            (ChannelFilters(), {1, 2, 3}),
        ]
        for filters, expected in cases:
            signals = story_signals(session, since, NOW, filters=filters)
            assert {signal.story_id for signal in signals} == expected
            assert all(filters.matches(signal) for signal in signals)
        # A capped read keeps the most widely covered first, then the latest.
        assert [signal.story_id for signal in story_signals(session, since, NOW, candidates=2)] == [2, 3]
