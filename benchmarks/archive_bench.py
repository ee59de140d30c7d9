"""`ask` and `brief` with 300,000 articles in the 30-day window on PostgreSQL (targets: p95 300 ms and 200 ms).

usage: python -m benchmarks.archive_bench --ecbplus ../shared/data/stories-dev/ecbplus.jsonl [--articles 300000]
                                          [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

It creates a database of its own on the server (dropped afterwards unless --keep) and fills it in two parts:

- Real: the ECB+ articles (real news none of us wrote) of the events the questions are about (all 982 with
  --all-real), dated within the last 6 days as in benchmarks/ecbplus.py, stored and processed by the production
  code (`process_new_articles` with the real MiniLM: tags, vectors, sentence index, full-text index, stories). The
  questions are those of benchmarks/data/ecbplus_questions.toml, asked about these articles.
- Synthetic bulk, to reach --articles in the window: each article is 4 to 7 sentences drawn from the ECB+ articles
  (so the words and their frequencies are real news's), dated uniformly over the 30 days, with its terms in the
  full-text index (counted by the production tokenizer) and **synthetic vectors**: a real ECB+ article's vector
  plus noise (cosine about 0.8 to it), sentence vectors likewise, so that the dense side must tell the real
  articles from many near neighbours. Stories group the bulk three articles at a time, with real stories' tags.
  The rows are written with COPY, and the GIN index is rebuilt after the load, as a bulk import would.

Timed in this process, end to end (question embedding included): every question twice (in two orders), and 50 briefs
(topics, countries, regions, pairs, everything). The first question fills this process's vector index; it is
reported apart. Printed: p50/p95 of each, the fact hit rate of the answers (the expected phrase in the answer),
the vector index's size, and this process's resident memory (RSS) before and after.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import resource
import statistics
import sys
import time
import tomllib
import uuid
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from benchmarks.ecbplus import load_corpus
from bot.intelligence import ask, brief, process_new_articles
from bot.intelligence.fulltext import _tsvector
from bot.intelligence.processing import SENTENCE_DTYPE, VECTOR_DTYPE, from_blob, to_blob
from bot.intelligence.vector_index import vector_index
from bot.storage import Article, Database, TextKind
from bot.storage.models import ArticleAnalysis, Story
from summarizer.encoder import Encoder
from summarizer.retrieval import term_counts
from summarizer.sentences import split_sentences

DEFAULT_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
QUESTIONS = Path(__file__).resolve().parent / "data" / "ecbplus_questions.toml"
SPAN_DAYS = 30
STORY_SIZE = 3
BRIEF_QUERIES = [
    "", "nuclear", "Japan", "Middle East", "sanctions Russia", "Sahel", "energy", "NATO", "elections", "China",
    "security", "the Kremlin", "Indo-Pacific", "climate", "human rights", "cyber", "Sudan", "diplomacy",
    "conflict", "EU", "Taiwan", "trade", "Africa", "Europe", "nuclear Iran",
]  # fmt: skip


def _rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _copy(database: Database, table: str, columns: list[str], rows: Sequence[tuple[object, ...]]) -> None:
    raw = database.engine.raw_connection()
    try:
        cursor = raw.cursor()
        with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        raw.commit()
    finally:
        raw.close()


def _bulk(database: Database, count: int, now: datetime, rng: random.Random) -> None:
    """Add `count` synthetic articles with analyses, full-text entries and stories (see the module docstring)."""
    with database.session() as session:
        real = session.execute(
            select(Article.text, ArticleAnalysis.vector, ArticleAnalysis.countries, ArticleAnalysis.regions,
                   ArticleAnalysis.topics)
            .join(ArticleAnalysis, ArticleAnalysis.article_id == Article.id)
        ).all()  # fmt: skip
        next_id = (session.scalar(select(Article.id).order_by(Article.id.desc()).limit(1)) or 0) + 1
        next_story = (session.scalar(select(Story.id).order_by(Story.id.desc()).limit(1)) or 0) + 1
    sentences = [sentence.text for row in real for sentence in split_sentences(row.text) if len(sentence.text) > 40]
    sentence_terms = [term_counts(sentence) for sentence in sentences]
    vectors = [from_blob(row.vector, VECTOR_DTYPE) for row in real]
    numpy_rng = np.random.default_rng(7)
    stamp = now.replace(tzinfo=None)  # COPY writes the columns as stored: naive UTC
    started = time.perf_counter()
    article_rows, analysis_rows, story_rows = [], [], []
    story_members: list[int] = []
    for number in range(count):
        article_id = next_id + number
        picks = [rng.randrange(len(sentences)) for _ in range(rng.randint(4, 7))]
        body = " ".join(sentences[index] for index in picks)
        published = stamp - timedelta(seconds=rng.uniform(60, SPAN_DAYS * 86400 - 3600))
        counts: Counter[str] = Counter()
        for index in picks:
            counts.update(sentence_terms[index])
        source = rng.randrange(len(real))
        noise = numpy_rng.standard_normal((1 + len(picks), 384)).astype(np.float32) * 0.035
        own = vectors[source] + noise[0]
        own /= np.linalg.norm(own)
        rows = own + noise[1:]
        rows /= np.linalg.norm(rows, axis=1, keepdims=True)
        spans, offset = [], 0
        for index in picks:
            spans.append([offset, offset + len(sentences[index])])
            offset += len(sentences[index]) + 1
        story_id = next_story + number // STORY_SIZE
        title = sentences[picks[0]][:200]
        article_rows.append((
            article_id, f"https://bulk.example/{article_id}", f"{article_id:064x}", title,
            f"bulk-{article_id % 200:03d}.example", published, body, TextKind.FULL_TEXT.value, False, False, story_id,
            stamp, "en",
        ))  # fmt: skip
        analysis_rows.append((
            article_id, stamp, "synthetic", json.dumps(real[source].countries), json.dumps(real[source].countries[:1]),
            json.dumps(real[source].regions), json.dumps(real[source].topics), "[]", to_blob(own, VECTOR_DTYPE),
            json.dumps(spans), to_blob(rows, SENTENCE_DTYPE), sum(counts.values()), _tsvector(counts),
        ))  # fmt: skip
        story_members.append(number)
        if len(story_members) == STORY_SIZE or number == count - 1:
            first = article_rows[story_members[0]]
            times = [article_rows[member][5] for member in story_members]
            summary = [{"text": sentences[picks[0]], "article_id": first[0], "start": 0, "end": 10, "also_in": []}]
            story_rows.append((
                story_id, title, json.dumps(summary), to_blob(own, VECTOR_DTYPE), len(story_members),
                min(times), max(times), json.dumps(sorted({article_rows[m][4] for m in story_members})), '["GB"]',
                json.dumps(real[source].countries), json.dumps(real[source].regions), json.dumps(real[source].topics),
                "[]", stamp, stamp,
            ))  # fmt: skip
            story_members = []
    made = time.perf_counter() - started
    started = time.perf_counter()
    with database.engine.begin() as connection:
        connection.execute(text("DROP INDEX ix_article_analyses_search_terms"))
    _copy(database, "stories", [
        "id", "title", "summary", "centroid", "article_count", "first_published_at", "last_published_at", "outlets",
        "publisher_countries", "countries", "regions", "topics", "entities", "first_seen_at", "updated_at",
    ], story_rows)  # fmt: skip
    _copy(database, "articles", [
        "id", "canonical_url", "content_hash", "title", "outlet", "published_at", "text", "text_kind", "is_backlog",
        "page_pending", "story_id", "fetched_at", "language",
    ], article_rows)  # fmt: skip
    _copy(database, "article_analyses", [
        "article_id", "processed_at", "encoder", "countries", "salient_countries", "regions", "topics", "entities",
        "vector", "sentence_spans", "sentence_vectors", "term_count", "search_terms",
    ], analysis_rows)  # fmt: skip
    with database.engine.begin() as connection:
        connection.execute(
            text("CREATE INDEX ix_article_analyses_search_terms ON article_analyses USING gin (search_terms)")
        )
        for table in ("articles", "stories"):
            connection.execute(
                text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
            )
        connection.execute(text("ANALYZE"))
    sys.stdout.write(
        f"bulk: {count:,} synthetic articles and {len(story_rows):,} stories generated in {made:.0f} s, "
        f"loaded (COPY, GIN index rebuilt, ANALYZE) in {time.perf_counter() - started:.0f} s\n"
    )


def main(argv: list[str] | None = None) -> int:
    """Build the archive, time the questions and briefs, print the figures."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.archive_bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--ecbplus", type=Path, required=True, help="ecbplus.jsonl (../shared/data/stories-dev/)")
    parser.add_argument("--articles", type=int, default=300_000, help="articles in the 30-day window, in all")
    parser.add_argument("--database-url", default=os.environ.get("ARCHIVE_DATABASE_URL", DEFAULT_SERVER))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark's database afterwards")
    parser.add_argument("--all-real", action="store_true", help="process all 982 ECB+ articles, not only the asked")
    parser.add_argument("--reuse", metavar="DATABASE", help="time again on a database an earlier --keep run left")
    args = parser.parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    name = args.reuse or f"geobrief_archive_{uuid.uuid4().hex[:8]}"
    admin = create_engine(make_url(args.database_url), isolation_level="AUTOCOMMIT")
    if not args.reuse:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    print(f"database {name}" + (" (kept)" if args.keep or args.reuse else ""))
    url = make_url(args.database_url).set(database=name).render_as_string(hide_password=False)
    database = Database(url)
    try:
        return _run(database, args)
    finally:
        database.dispose()
        if not (args.keep or args.reuse):
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def _run(database: Database, args: argparse.Namespace) -> int:
    with QUESTIONS.open("rb") as handle:
        spec = tomllib.load(handle)
    encoder = Encoder(threads=args.threads)
    encoder.load()
    if args.reuse:
        with database.session() as session:  # the time the archive was built for
            now = session.scalar(select(func.max(Article.fetched_at))) or datetime.now(UTC)
    else:
        now = datetime.now(UTC).replace(microsecond=0)
        _build(database, args, spec, encoder, now)
    return _time(database, spec, encoder, now)


def _build(database: Database, args: argparse.Namespace, spec: dict[str, Any], encoder: Encoder, now: datetime) -> None:
    database.upgrade()
    corpus = load_corpus(args.ecbplus, now)
    if not args.all_real:  # the questions' events: processing all 982 takes many minutes on a busy machine
        events = {item.event for item in corpus if item.url in {entry["url"] for entry in spec["questions"]}}
        corpus = [item for item in corpus if item.event in events]
    seen: set[str] = set()
    with database.session() as session:
        for item in corpus:
            url = item.url if item.url and item.url not in seen else f"https://ecbplus.example/{item.index}"
            seen.add(url)
            session.add(Article(
                canonical_url=url, content_hash=f"{item.index:064d}",
                title=item.title, outlet=item.outlet, published_at=item.published, text=item.text,
                text_kind=TextKind.FULL_TEXT, guid=str(item.index),
            ))  # fmt: skip
    started = time.perf_counter()
    print(f"real: {len(corpus)} ECB+ articles of {len({item.event for item in corpus})} events stored; processing")
    report = process_new_articles(database, encoder)
    sys.stdout.write(f"real: {report.articles} ECB+ articles processed in {time.perf_counter() - started:.0f} s\n")
    _bulk(database, args.articles - report.articles, now, random.Random(2014))


def _time(database: Database, spec: dict[str, Any], encoder: Encoder, now: datetime) -> int:
    questions = [(entry["question"], entry["answer"].casefold()) for entry in spec["questions"]]
    questions += [(entry["question"], None) for entry in spec["unanswerable"]]
    gc.collect()
    gc.freeze()  # as a long-running bot process does once its models are loaded
    rss_before = _rss_mib()
    started = time.perf_counter()
    ask(database, encoder, "What happened?", now=now)
    cold = time.perf_counter() - started
    index = vector_index(database)
    timings, hits = [], 0
    for round_number, order in enumerate((questions, questions[::-1])):
        for question, expected in order:
            started = time.perf_counter()
            answer = ask(database, encoder, question, now=now)
            timings.append(time.perf_counter() - started)
            if round_number == 0 and expected is not None:
                hits += any(expected in " ".join(s.text.split()).casefold() for s in answer.sentences)
    briefs = []
    for query in BRIEF_QUERIES * 2:
        started = time.perf_counter()
        brief(database, query, now=now)
        briefs.append(time.perf_counter() - started)
    with database.session() as session:
        window = session.scalar(
            select(text("count(*)")).select_from(Article).where(Article.published_at >= now - timedelta(days=30))
        )
        stories = session.scalar(
            select(text("count(*)")).select_from(Story).where(Story.last_published_at >= now - timedelta(days=7))
        )
    answerable = len(spec["questions"])
    print(f"archive: {window:,} articles in the 30-day window, {stories:,} stories in the 7-day brief window")
    print(f"first ask (fills the vector index: {index.size:,} vectors, {index.vectors.nbytes / 2**20:.0f} MiB "
          f"int8): {cold:.1f} s")  # fmt: skip
    for label, values, target in (("ask", timings, 300), ("brief", briefs, 200)):
        p50, p95 = 1000 * statistics.median(values), 1000 * _percentile(values, 0.95)
        print(f"{label} over {len(values)}: p50 {p50:.0f} ms, p95 {p95:.0f} ms, max {1000 * max(values):.0f} ms "
              f"(target p95 < {target} ms)")  # fmt: skip
    print(f"answers with the expected fact, among {window:,} articles: {hits}/{answerable}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"RSS: {rss_before:.0f} MiB before the first ask, {_rss_mib():.0f} MiB after; peak {peak:.0f} MiB "
          f"(the peak includes building the bulk in this process)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
