"""The meaning side of a question's candidates: the recent window's article vectors in a usearch index.

`VectorIndex` holds the int8-quantised vectors of the articles in the recent window, per process, kept in step with
processing before each search (new analyses by `processed_at`; articles older than the window are dropped), and
searched with usearch: its SIMD exact scan up to `HNSW_FROM` articles, an HNSW graph beyond. 384 bytes an article
(115 MiB at 300,000) instead of the 1,536 of float32.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from usearch.compiled import MetricKind
from usearch.index import Index
from usearch.index import search as exact_search

from bot.intelligence.processing import VECTOR_DTYPE, from_blob
from bot.storage.db import PerDatabase
from bot.storage.models import Article, ArticleAnalysis

log = logging.getLogger(__name__)

HNSW_FROM = 1_000_000  # below this many vectors the exact scan is fast enough (about 30 ms at 300,000)
INDEX_SLACK = timedelta(days=2)  # articles this far before the oldest window asked for are dropped
QUANTISE = 254.0  # normalised MiniLM components stay within +-0.5: scaled to int8's range
_FETCH = 5_000  # analyses read per query when filling the index
SYNC_MARGIN = timedelta(seconds=5)  # see `VectorIndex._read_new`


# What the index keeps of an analysis: the article, its vector, when it was processed and when published.
_VECTORS = select(
    ArticleAnalysis.article_id, ArticleAnalysis.vector, ArticleAnalysis.processed_at, Article.published_at
).join(Article, Article.id == ArticleAnalysis.article_id)


def quantise(vectors: np.ndarray) -> np.ndarray:
    """Normalised float vectors as int8 (cosine order is kept to within the rounding)."""
    return np.clip(np.rint(vectors * QUANTISE), -127, 127).astype(np.int8)


class VectorIndex:
    """The article vectors of the recent window, int8, searched by usearch; kept in step with the database."""

    def __init__(self, hnsw_from: int = HNSW_FROM) -> None:
        self.hnsw_from = hnsw_from
        self.keys = np.zeros(0, dtype=np.uint64)
        self.published = np.zeros(0, dtype=np.float64)  # POSIX seconds, to filter by window
        self.vectors = np.zeros((0, 0), dtype=np.int8)
        self.size = 0
        self.covered_from: datetime | None = None  # every article published since then is in (None: nothing yet)
        self.whole_archive = False
        self.synced_to: datetime | None = None  # the latest processed_at read
        self.graph: Index | None = None
        self.lock = threading.Lock()

    def search(
        self, session: Session, query: np.ndarray, since: datetime | None, now: datetime, limit: int
    ) -> list[int]:
        """Ids of the `limit` articles published within the window closest to `query`."""
        with self.lock:
            self._sync(session, since, now)
            if not self.size:
                return []
            low = since.timestamp() if since is not None else -np.inf
            inside = (self.published[: self.size] >= low) & (self.published[: self.size] <= now.timestamp())
            wanted = int(inside.sum())
            if not wanted:
                return []
            probe = quantise(np.asarray(query, dtype=np.float32))
            count = min(self.size, max(4 * limit, limit + (self.size - wanted)))
            if self.graph is not None and count < self.size:
                matches = self.graph.search(probe, count)
            else:
                matches = exact_search(self.vectors[: self.size], probe, count, MetricKind.Cos, exact=True)
            rows = np.asarray(matches.keys, dtype=np.int64)
            rows = rows[inside[rows]][:limit]
            return [int(key) for key in self.keys[rows]]

    def fill(self, session: Session, since: datetime | None, now: datetime) -> None:
        """Read the window's vectors now, so that the first question does not wait for them (seconds at 10,000)."""
        with self.lock:
            self._sync(session, since, now)

    def _sync(self, session: Session, since: datetime | None, now: datetime) -> None:
        """Read analyses processed since the last sync, and articles of an older window asked for now."""
        if since is None and not self.whole_archive:
            self._read(session, None, self.covered_from)
            self.whole_archive = True
            self.covered_from = None
        elif since is not None and not self.whole_archive and (self.covered_from is None or since < self.covered_from):
            self._read(session, since - INDEX_SLACK, self.covered_from)
            self.covered_from = since - INDEX_SLACK
        elif self.synced_to is not None:
            self._read_new(session, self.synced_to)
        if self.covered_from is not None and since is not None and self.covered_from < since - 2 * INDEX_SLACK:
            self._drop_before(since - INDEX_SLACK)
        if self.graph is None and self.size >= self.hnsw_from:
            self._build_graph()

    def _read(self, session: Session, start: datetime | None, end: datetime | None) -> None:
        """Add the analyses of articles published in [start, end)."""
        last_id = 0
        while True:
            query = (
                _VECTORS.where(ArticleAnalysis.article_id > last_id).order_by(ArticleAnalysis.article_id).limit(_FETCH)
            )
            if start is not None:
                query = query.where(Article.published_at >= start)
            if end is not None:
                query = query.where(Article.published_at < end)
            rows = session.execute(query).all()
            if not rows:
                return
            last_id = rows[-1][0]
            self._append(rows)
            self._synced(max(row[2] for row in rows))

    def _read_new(self, session: Session, processed_after: datetime) -> None:
        """Add the analyses processed after ``processed_after`` (less a margin) that are not in yet.

        This runs before every search, so it reads ids first (from the indexes on ``processed_at`` and on the
        articles' dates), then the vectors of those not in yet: re-reading the margin's rows with their vectors
        cost 20 ms a question. The margin is for a transaction that stamped its rows before another's but committed
        after it.
        """
        since = processed_after - SYNC_MARGIN
        recent_ids = select(ArticleAnalysis.article_id).where(ArticleAnalysis.processed_at > since)
        if self.covered_from is not None:
            recent_ids = recent_ids.join(Article, Article.id == ArticleAnalysis.article_id).where(
                Article.published_at >= self.covered_from
            )
        recent = session.scalars(recent_ids).all()
        ids = np.array(recent, dtype=np.uint64)
        fresh = ids[~np.isin(ids, self.keys[: self.size])].tolist()
        for first in range(0, len(fresh), _FETCH):
            rows = session.execute(_VECTORS.where(ArticleAnalysis.article_id.in_(fresh[first : first + _FETCH]))).all()
            if rows:  # none when the articles were deleted meanwhile
                self._append(rows)
        self._synced(session.scalar(select(func.max(ArticleAnalysis.processed_at))) or processed_after)

    def _synced(self, latest: datetime) -> None:
        self.synced_to = latest if self.synced_to is None else max(self.synced_to, latest)

    def _append(self, rows: Sequence[tuple[int, bytes, datetime, datetime]]) -> None:
        vectors = np.stack([from_blob(blob, VECTOR_DTYPE) for _, blob, _, _ in rows]).astype(np.float32)
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        needed = self.size + len(rows)
        if needed > len(self.keys):  # grow by doubling: appends stay cheap
            capacity = max(1024, 2 * needed)
            self.keys = np.resize(self.keys, capacity)
            self.published = np.resize(self.published, capacity)
            grown = np.zeros((capacity, vectors.shape[1]), dtype=np.int8)
            if self.size:
                grown[: self.size] = self.vectors[: self.size]
            self.vectors = grown
        span = slice(self.size, needed)
        self.keys[span] = [row[0] for row in rows]
        self.published[span] = [row[3].timestamp() for row in rows]
        self.vectors[span] = quantise(vectors)
        if self.graph is not None:
            self.graph.add(np.arange(self.size, needed, dtype=np.uint64), self.vectors[span])
        self.size = needed

    def _drop_before(self, moment: datetime) -> None:
        keep = np.flatnonzero(self.published[: self.size] >= moment.timestamp())
        self.keys, self.published, self.vectors = self.keys[keep], self.published[keep], self.vectors[keep]
        self.size = len(keep)
        self.covered_from = moment
        self.graph = None  # rows moved; rebuilt below if still large
        if self.size >= self.hnsw_from:
            self._build_graph()

    def _build_graph(self) -> None:
        """An HNSW graph over the rows (keys are row numbers), for windows too large for the exact scan."""
        graph = Index(
            ndim=self.vectors.shape[1], metric=MetricKind.Cos, dtype="i8", connectivity=16, expansion_search=128
        )
        # one inserting thread: with concurrent inserts, 2 of 100 builds of a 45-article graph had an article that
        # its own vector did not find first; a single thread builds the same graph every time (0 of 100)
        graph.add(np.arange(self.size, dtype=np.uint64), self.vectors[: self.size], threads=1)
        self.graph = graph
        log.info("vector index: HNSW graph over %d articles", self.size)


vector_index = PerDatabase(VectorIndex)  # this process's vector index of a database
