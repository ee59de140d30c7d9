"""Score story clustering on real articles labelled by event, through the production pipeline.

usage: python -m benchmarks.story_eval DATA.jsonl [--timing dense-week|as-dated] [--seed N] [--json]
                                      [--database-url URL] [--limit N]

DATA.jsonl has one article per line: `event_id`, `title`, `text`, and optionally `outlet`, `published`, `url`,
`lang` (the schema of the stories-dev set). The articles are served on 127.0.0.1 as one RSS feed per outlet (the
articles without an outlet are spread over a few "unknown" feeds) with an HTML page each, ingested by the real
ingestion pass (feed, page fetch, text extraction, canonical URL, dedup, store), then processed by the same
`process_new_articles` the scheduler runs (tags, vectors, stories), in the batches the scheduler uses.

Timing:
- dense-week (default): each event is placed at a random time within the last 6 days (seeded), its articles at
  random times within 18 hours after it, so that unrelated events overlap in time as they do in a busy week;
- as-dated: the articles keep their `published` times, shifted together so the newest is an hour old (articles
  without a date are placed as in dense-week).

Printed: B-cubed precision / recall / F1 over articles, pairwise precision / recall / F1, stories against events,
the largest story and the events it mixes, and the processing speed. Articles the pipeline stored once because
they duplicate another (same text from two outlets) are scored where they were stored.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from tqdm import tqdm

from bot.config import Settings
from bot.demo.bundle import Bundle, DemoArticle, DemoOutlet
from bot.demo.run import demo_policy
from bot.demo.server import DemoNewsServer
from bot.intelligence import encoder_for, process_new_articles
from bot.news.feeds import add_feed
from bot.news.http import HttpClient
from bot.news.ingest import IngestOptions, run_ingest_pass
from bot.storage import Article, Database

DENSE_DAYS = 6
EVENT_SPREAD_HOURS = 18
UNKNOWN_FEEDS = 20  # feeds that carry the articles whose outlet is unknown


@dataclass(frozen=True)
class Row:
    """One labelled article of the data file."""

    event: str
    title: str
    text: str
    outlet: str | None
    published: datetime | None
    language: str


def read_rows(path: Path, limit: int | None = None) -> list[Row]:
    """The labelled articles of a JSON-lines file; a line without an event id or a text is an error."""
    rows = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            data = json.loads(line)
            if not data.get("event_id") or not (data.get("text") or "").strip():
                raise SystemExit(f"{path}:{number}: every row needs an event_id and a text")
            published = data.get("published")
            rows.append(
                Row(
                    event=str(data["event_id"]),
                    title=(data.get("title") or "").strip(),
                    text=data["text"],
                    outlet=data.get("outlet") or None,
                    published=datetime.fromisoformat(published) if published else None,
                    language=data.get("lang") or "en",
                )
            )
            if limit is not None and len(rows) >= limit:
                break
    return rows


def publish_hours_ago(rows: Sequence[Row], timing: str, seed: int) -> list[float]:
    """How many hours before now each article was published, by the timing protocol."""
    rng = random.Random(seed)
    event_start = {event: rng.uniform(EVENT_SPREAD_HOURS, DENSE_DAYS * 24) for event in sorted({r.event for r in rows})}
    dense = [max(0.05, event_start[r.event] - rng.uniform(0, EVENT_SPREAD_HOURS)) for r in rows]
    if timing == "dense-week":
        return dense
    dated = [r.published for r in rows if r.published is not None]
    if not dated:
        return dense
    newest = max(dated)
    return [
        1.0 + (newest - r.published).total_seconds() / 3600 if r.published is not None else hours
        for r, hours in zip(rows, dense, strict=True)
    ]


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:60] or "outlet"


def build_bundle(rows: Sequence[Row], hours_ago: Sequence[float]) -> tuple[Bundle, dict[tuple[str, str], int]]:
    """The articles as a news site: one outlet per source, each article with a page; and (outlet, slug) -> row."""
    outlets: dict[str, DemoOutlet] = {}
    articles = []
    where: dict[tuple[str, str], int] = {}
    for index, (row, hours) in enumerate(zip(rows, hours_ago, strict=True)):
        name = row.outlet or f"unknown-{index % UNKNOWN_FEEDS + 1}"
        outlet = outlets.setdefault(name, DemoOutlet(name=name, path=_slug(name), country=None, language=row.language))
        paragraphs = [line.strip() for line in row.text.splitlines() if line.strip()]
        slug = f"article-{index}"
        articles.append(
            DemoArticle(
                outlet=outlet.path,
                slug=slug,
                title=row.title,
                hours_ago=hours,
                round=2,  # every article is news: the first poll finds the feeds empty
                teaser=paragraphs[0][:300] if paragraphs else "",
                text="\n\n".join(paragraphs),
                source="evaluation data",
            )
        )
        where[(outlet.path, slug)] = index
    return Bundle(outlets=tuple(outlets.values()), articles=tuple(articles)), where


async def ingest(database: Database, bundle: Bundle, settings: Settings) -> dict[str, tuple[str, str]]:
    """Serve the bundle on loopback and ingest it; returns the stored canonical URL -> (outlet, slug)."""
    async with DemoNewsServer(bundle) as server, HttpClient(demo_policy(settings)) as http:
        for outlet in bundle.outlets:
            add_feed(database, server.feed_url(outlet), name=outlet.name, language=outlet.language, allow_private=True)
        options = IngestOptions(max_article_age=timedelta(days=DENSE_DAYS + 2), max_items=100_000)
        await run_ingest_pass(database, http, options)  # the feeds' first fetch: empty, so nothing is backlog
        server.round = 2
        await run_ingest_pass(database, http, options)
        return {server.article_url(a): (a.outlet, a.slug) for a in bundle.articles}


def bcubed(gold: Sequence[str], predicted: Sequence[int]) -> tuple[float, float, float]:
    """B-cubed precision, recall and F1 over items (Bagga & Baldwin)."""
    by_gold: dict[str, set[int]] = defaultdict(set)
    by_predicted: dict[int, set[int]] = defaultdict(set)
    for index, (g, p) in enumerate(zip(gold, predicted, strict=True)):
        by_gold[g].add(index)
        by_predicted[p].add(index)
    precision = recall = 0.0
    for g, p in zip(gold, predicted, strict=True):
        shared = len(by_gold[g] & by_predicted[p])
        precision += shared / len(by_predicted[p])
        recall += shared / len(by_gold[g])
    precision, recall = precision / len(gold), recall / len(gold)
    return precision, recall, _f1(precision, recall)


def pairwise(gold: Sequence[str], predicted: Sequence[int]) -> tuple[float, float, float]:
    """Precision, recall and F1 over the pairs of items put in one cluster."""

    def pairs(counts: Counter[Any]) -> int:
        return sum(n * (n - 1) // 2 for n in counts.values())

    both = pairs(Counter(zip(gold, predicted, strict=True)))
    same_predicted, same_gold = pairs(Counter(predicted)), pairs(Counter(gold))
    precision = both / same_predicted if same_predicted else 1.0
    recall = both / same_gold if same_gold else 1.0
    return precision, recall, _f1(precision, recall)


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def evaluate(args: argparse.Namespace) -> dict[str, Any]:
    """Run the whole evaluation and return its figures."""
    rows = read_rows(args.data, args.limit)
    bundle, where = build_bundle(rows, publish_hours_ago(rows, args.timing, args.seed))
    settings = Settings(_env_file=None)
    with tempfile.TemporaryDirectory() as scratch:
        database = Database(args.database_url or f"sqlite:///{Path(scratch) / 'stories.sqlite3'}")
        try:
            database.upgrade()
            started = time.perf_counter()
            urls = asyncio.run(ingest(database, bundle, settings))
            ingest_seconds = time.perf_counter() - started
            encoder = encoder_for(settings)
            encoder.load()
            with tqdm(total=len(rows), desc="processing", unit="article", file=sys.stderr) as bar:
                report = process_new_articles(database, encoder, on_batch=bar.update)
            with database.session() as session:
                placed = [(urls.get(url), story_id) for url, story_id in session.execute(_STORED)]
        finally:
            database.dispose()
    gold, predicted = [], []
    for key, story_id in placed:
        if key is None or story_id is None:
            continue
        gold.append(rows[where[key]].event)
        predicted.append(story_id)
    return _figures(rows, gold, predicted, report.articles, report.seconds, ingest_seconds)


_STORED = select(Article.canonical_url, Article.story_id)


def _figures(
    rows: Sequence[Row],
    gold: Sequence[str],
    predicted: Sequence[int],
    processed: int,
    seconds: float,
    ingest_seconds: float,
) -> dict[str, Any]:
    b_precision, b_recall, b_f1 = bcubed(gold, predicted)
    p_precision, p_recall, p_f1 = pairwise(gold, predicted)
    sizes = Counter(predicted)
    largest, largest_size = sizes.most_common(1)[0]
    mix = Counter(g for g, p in zip(gold, predicted, strict=True) if p == largest)
    return {
        "articles": len(rows),
        "stored": len(gold),
        "events": len(set(gold)),
        "stories": len(sizes),
        "bcubed": {"precision": b_precision, "recall": b_recall, "f1": b_f1},
        "pairwise": {"precision": p_precision, "recall": p_recall, "f1": p_f1},
        "largest_story": {"articles": largest_size, "events": dict(mix.most_common())},
        "processing": {"articles": processed, "seconds": seconds, "articles_per_second": processed / seconds},
        "ingest_seconds": ingest_seconds,
    }


def print_figures(figures: dict[str, Any], args: argparse.Namespace) -> None:
    """The figures as a short report."""
    b, p = figures["bcubed"], figures["pairwise"]
    largest = figures["largest_story"]
    processing = figures["processing"]
    print(f"{args.data} ({args.timing}, seed {args.seed})")
    print(f"articles {figures['articles']} ({figures['stored']} stored), events {figures['events']}")
    print(f"stories {figures['stories']} for {figures['events']} events")
    print(f"B-cubed  P {b['precision']:.3f}  R {b['recall']:.3f}  F1 {b['f1']:.3f}")
    print(f"pairwise P {p['precision']:.3f}  R {p['recall']:.3f}  F1 {p['f1']:.3f}")
    events = ", ".join(f"{event} ({count})" for event, count in list(largest["events"].items())[:5])
    print(f"largest story: {largest['articles']} articles from {len(largest['events'])} events: {events}")
    print(
        f"processing: {processing['articles']} articles in {processing['seconds']:.1f} s "
        f"= {processing['articles_per_second']:.1f} articles/s (ingestion {figures['ingest_seconds']:.1f} s)"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.story_eval", description=__doc__.split("\n\n")[0] if __doc__ else None
    )
    parser.add_argument("data", type=Path, help="JSON lines: event_id, title, text[, outlet, published, url, lang]")
    parser.add_argument("--timing", choices=("dense-week", "as-dated"), default="dense-week")
    parser.add_argument("--seed", type=int, default=0, help="seed of the dense-week placement (default 0)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--database-url", help="run on this (empty) database instead of a temporary SQLite file")
    parser.add_argument("--limit", type=int, help="read only the first N rows")
    args = parser.parse_args(argv)
    figures = evaluate(args)
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        print_figures(figures, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
