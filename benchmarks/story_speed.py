"""Speed of story work: re-clustering a busy window, and processing full-text articles.

usage: python -m benchmarks.story_speed DATA.jsonl [--window 5000] [--hours 72] [--process 100]
                                       [--sentences 40] [--repeat 3] [--json]

DATA.jsonl has the schema of the stories-dev set (`title`, `text`, ...). Two measurements:

1. Re-clustering: every article's real features are computed once (MiniLM headline + lead vector, word profile);
   copies are then made until the window holds ``--window`` articles over ``--hours`` hours. Each copy is turned
   by a random rotation of the vector space and gets its own vocabulary, so copies are independent events with
   the structure of real ones (not duplicates that would chain into one giant story). Timed: `cluster_articles`
   alone, and `recluster` on a SQLite database holding the window (what each processing batch runs), best of
   ``--repeat``, wall and CPU seconds.
2. Processing: ``--process`` articles of ``--sentences`` sentences (articles of the file joined, then cut at the
   end of that sentence) stored and processed by `process_new_articles`, as the scheduler does; printed as articles/s,
   sentences/s and CPU seconds per article, with the share spent in the encoder.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import insert
from tqdm import tqdm

from bot.config import Settings
from bot.intelligence import encoder_for, process_new_articles
from bot.intelligence.clustering import recluster
from bot.intelligence.processing import VECTOR_DTYPE, to_blob
from bot.storage import Article, Database, TextKind
from bot.storage.models import ArticleAnalysis
from summarizer.encoder import Encoder
from summarizer.sentences import split_sentences
from summarizer.stories import LEAD_SENTENCES, StoryFeatures, article_vector, cluster_articles, weighted_terms

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def read_articles(path: Path) -> list[tuple[str, str]]:
    """(title, text) of every row."""
    rows = []
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                data = json.loads(line)
                rows.append(((data.get("title") or "").strip(), data["text"]))
    return rows


def real_features(articles: Sequence[tuple[str, str]], encoder: Encoder) -> list[tuple[np.ndarray, dict[str, float]]]:
    """The article vector and word profile of each article, as processing computes them."""
    result = []
    for title, text in tqdm(articles, desc="features", unit="article", file=sys.stderr):
        lead = [s.text for s in split_sentences(text, limit=LEAD_SENTENCES)]
        vectors = encoder.encode([title, *lead] if title else lead or [text[:200]])
        vector = article_vector(vectors[0] if title else None, vectors[1:] if title else vectors)
        result.append((vector, weighted_terms(title, " ".join(lead), text)))
    return result


def window_of(
    features: Sequence[tuple[np.ndarray, dict[str, float]]], size: int, hours: float, seed: int
) -> list[StoryFeatures]:
    """``size`` articles over ``hours``: independent copies of the real ones (rotated vectors, own words)."""
    rng = np.random.default_rng(seed)
    times = random.Random(seed)
    window: list[StoryFeatures] = []
    copy = 0
    while len(window) < size:
        rotation, _ = np.linalg.qr(rng.normal(size=(features[0][0].shape[0],) * 2))
        offset = times.uniform(0, hours)
        for vector, terms in features:
            if len(window) == size:
                break
            when = NOW - timedelta(hours=(offset + times.uniform(0, 18)) % hours)
            words = {f"{term}~{copy}": weight for term, weight in terms.items()}
            window.append(StoryFeatures.of((rotation @ vector).astype(np.float32), words, when, "en"))
        copy += 1
    return window


def _timed(work: Any) -> tuple[float, float]:  # noqa: ANN401 - any callable
    wall, cpu = time.perf_counter(), time.process_time()
    work()
    return time.perf_counter() - wall, time.process_time() - cpu


def time_clustering(window: Sequence[StoryFeatures], repeat: int) -> dict[str, float]:
    """Best wall and CPU seconds of `cluster_articles` over the window."""
    runs = [_timed(lambda: cluster_articles(window)) for _ in range(repeat)]
    stories = len(set(cluster_articles(window)))
    return {"wall": min(w for w, _ in runs), "cpu": min(c for _, c in runs), "stories": stories}


def time_recluster(window: Sequence[StoryFeatures], repeat: int, folder: Path) -> dict[str, float]:
    """Best wall and CPU seconds of `recluster` on a database holding the window (features cached after run 1)."""
    database = Database(f"sqlite:///{folder / 'window.sqlite3'}")
    database.upgrade()
    with database.session() as session:
        session.execute(
            insert(Article),
            [
                {
                    "id": index + 1,
                    "canonical_url": f"https://bench.example/{index}",
                    "content_hash": f"{index:064d}",
                    "title": "",
                    "outlet": f"Outlet {index % 200}",
                    "published_at": f.published_at,
                    "text": "",
                    "language": f.language,
                    "text_kind": TextKind.FULL_TEXT,
                }
                for index, f in enumerate(window)
            ],
        )
        session.execute(
            insert(ArticleAnalysis),
            [
                {
                    "article_id": index + 1,
                    "processed_at": NOW,
                    "encoder": "bench",
                    "countries": [],
                    "salient_countries": [],
                    "regions": [],
                    "topics": [],
                    "entities": [],
                    "vector": to_blob(f.vector, VECTOR_DTYPE),
                    "sentence_spans": [],
                    "sentence_vectors": b"",
                    "term_count": 0,
                    "story_terms": {},
                }
                for index, f in enumerate(window)
            ],
        )
    oldest = min(f.published_at for f in window)
    runs = []
    try:
        for _ in range(repeat + 1):  # the first run assigns every article and fills the feature cache
            with database.session() as session:
                runs.append(_timed(lambda session=session: recluster(database, session, oldest)))
    finally:
        database.dispose()
    steady = runs[1:] or runs
    return {"first_wall": runs[0][0], "wall": min(w for w, _ in steady), "cpu": min(c for _, c in steady)}


class _TimedEncoder:
    """The bot's encoder, counting the CPU seconds spent in it."""

    def __init__(self, encoder: Encoder) -> None:
        self.encoder = encoder
        self.name = encoder.name
        self.cpu = 0.0
        encoder.load()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        started = time.process_time()
        try:
            return self.encoder.encode(texts)
        finally:
            self.cpu += time.process_time() - started


def time_processing(articles: Sequence[tuple[str, str]], count: int, sentences: int, folder: Path) -> dict[str, float]:
    """Process ``count`` stored articles of ``sentences`` sentences each; throughput and CPU per article."""
    texts: list[tuple[str, str]] = []
    pending: list[str] = []
    index = 0
    while len(texts) < count:
        title, text = articles[index % len(articles)]
        pending.append(text)
        index += 1
        joined = "\n".join(pending)
        split = split_sentences(joined)
        if len(split) >= sentences:  # cut at the end of the last wanted sentence: exactly that many
            texts.append((title, joined[: split[sentences - 1].end]))
            pending = []
    database = Database(f"sqlite:///{folder / 'process.sqlite3'}")
    database.upgrade()
    with database.session() as session:
        for number, (title, text) in enumerate(texts):
            session.add(
                Article(
                    canonical_url=f"https://bench.example/p/{number}",
                    content_hash=f"p{number}",
                    title=title,
                    outlet=f"Outlet {number % 20}",
                    published_at=NOW - timedelta(minutes=number),
                    text=text,
                    language="en",
                    text_kind=TextKind.FULL_TEXT,
                )
            )
    shared = encoder_for(Settings(_env_file=None))
    shared.clear_cache()  # it holds the leads embedded for the window: every processed sentence must be new work
    encoder = _TimedEncoder(shared)
    try:
        with tqdm(total=len(texts), desc="processing", unit="article", file=sys.stderr) as bar:
            wall, cpu = _timed(lambda: process_new_articles(database, encoder, on_batch=bar.update))
    finally:
        database.dispose()
    total = sum(len(split_sentences(text)) for _, text in texts)
    return {
        "articles": len(texts),
        "sentences_per_article": total / len(texts),
        "articles_per_second": len(texts) / wall,
        "cpu_per_article": cpu / len(texts),
        "encoder_cpu_share": encoder.cpu / cpu if cpu else 0.0,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.story_speed", description=__doc__.split("\n\n")[0] if __doc__ else None
    )
    parser.add_argument("data", type=Path, help="JSON lines with title and text (the stories-dev schema)")
    parser.add_argument("--window", type=int, default=5000, help="articles in the re-clustered window (5000)")
    parser.add_argument("--hours", type=float, default=72.0, help="hours the window spans (72)")
    parser.add_argument("--process", type=int, default=100, help="articles to process for the speed figure (100)")
    parser.add_argument("--sentences", type=int, default=40, help="sentences per processed article (40)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs; the best counts (3)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    articles = read_articles(args.data)
    encoder = encoder_for(Settings(_env_file=None))
    encoder.load()
    window = window_of(real_features(articles, encoder), args.window, args.hours, seed=0)
    figures: dict[str, Any] = {"window": len(window), "hours": args.hours, "load": os.getloadavg()[0]}
    figures["cluster_articles"] = time_clustering(window, args.repeat)
    with tempfile.TemporaryDirectory() as scratch:
        figures["recluster"] = time_recluster(window, args.repeat, Path(scratch))
        if args.process:
            figures["processing"] = time_processing(articles, args.process, args.sentences, Path(scratch))
    figures["load_after"] = os.getloadavg()[0]
    if args.json:
        print(json.dumps(figures, indent=2))
        return 0
    c, r = figures["cluster_articles"], figures["recluster"]
    print(f"window: {figures['window']} articles over {args.hours:g} h (load average {figures['load']:.1f})")
    print(f"cluster_articles: {c['wall']:.2f} s wall, {c['cpu']:.2f} s CPU, {c['stories']} stories")
    first = f"first run {r['first_wall']:.2f} s"
    print(f"recluster (database, cached features): {r['wall']:.2f} s wall, {r['cpu']:.2f} s CPU; {first}")
    if "processing" in figures:
        p = figures["processing"]
        print(
            f"processing: {p['articles']} articles of {p['sentences_per_article']:.0f} sentences: "
            f"{p['articles_per_second']:.1f} articles/s, {p['cpu_per_article']:.2f} CPU s per article "
            f"({100 * p['encoder_cpu_share']:.0f} % in the encoder)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
