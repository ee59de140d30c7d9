"""Digest composition: 1,000 subscriptions with different filters over an archive of 10,000 articles.

usage: python -m benchmarks.digest_bench [--db PATH] [--articles 10000] [--subscriptions 1000] [--threads 2]

The archive is the one `benchmarks.intelligence_bench` builds (real MiniLM vectors, processed by the production
code); pass `--db` to reuse one it saved, or let this script build it (a few minutes). Subscriptions get random
filters drawn from the gazetteer (none, a country, a region, a topic, a country and a topic, keywords, sources),
random sizes (3 to 10 items) and styles. Timed: `Dispatcher.compose` for every subscription, as the scheduler
runs it (channel history lookup, filtering, ranking, region spread, story briefs). Prints digests per second.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select

from benchmarks.intelligence_bench import NOW, build_archive
from bot.digests.dispatch import Dispatcher
from bot.digests.outbox import Outbox
from bot.storage import Article, Database, Feed, Story, Subscription
from summarizer.encoder import Encoder, bf16_supported
from summarizer.tagging import load_gazetteer

KEYWORDS = ["missile", "sanctions", "election", "drone", "ceasefire", "oil", "famine", "summit", "hackers", "troops"]


def random_filters(rng: random.Random, outlets: list[str]) -> dict[str, list[str]]:
    """One subscription's filters, in the stored JSON form (ids, not names)."""
    gazetteer = load_gazetteer()
    countries = sorted(gazetteer.countries)
    regions = sorted(gazetteer.regions)
    topics = sorted(gazetteer.topics)
    shape = rng.choice(["none", "country", "region", "topic", "country+topic", "keywords", "sources"])
    filters: dict[str, list[str]] = {"countries": [], "regions": [], "topics": [], "keywords": [], "sources": []}
    if "country" in shape:
        filters["countries"] = rng.sample(countries, rng.randint(1, 3))
    if shape == "region":
        filters["regions"] = [rng.choice(regions)]
    if "topic" in shape:
        filters["topics"] = rng.sample(topics, rng.randint(1, 2))
    if shape == "keywords":
        filters["keywords"] = rng.sample(KEYWORDS, 2)
    if shape == "sources":
        filters["sources"] = rng.sample(outlets, 3)
    return filters


def main() -> int:
    """Build or open the archive, add subscriptions, time composing every digest."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, help="a SQLite archive saved by benchmarks.intelligence_bench")
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--subscriptions", type=int, default=1_000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    path = args.db or Path(tempfile.mkdtemp()) / "digest-bench.sqlite3"
    database = Database(f"sqlite:///{path}")
    database.upgrade()
    with database.session() as session:
        stored = session.scalar(select(func.count()).select_from(Article)) or 0
    if stored == 0:
        encoder = Encoder(threads=args.threads, bf16=bf16_supported())
        # the intelligence benchmark's own defaults, so both measure the same archive
        build_archive(database, encoder, args.articles, variants=20, singletons=0.3, seed=20261126)
    rng = random.Random(args.seed)
    with database.session() as session:
        session.query(Subscription).delete()
        outlets = list(session.scalars(select(Feed.name)))
        for number in range(args.subscriptions):
            session.add(
                Subscription(
                    platform="slack",
                    workspace_id="T1",
                    channel_id=f"C{number}",
                    schedule="08:00",
                    timezone="UTC",
                    filters=random_filters(rng, outlets),
                    max_items=rng.randint(3, 10),
                    style=rng.choice(["short", "detailed"]),
                    created_at=NOW,
                )
            )
        ids = list(session.scalars(select(Subscription.id)))
        articles = session.scalar(select(func.count()).select_from(Article))
        stories = session.scalar(select(func.count()).select_from(Story))

    dispatcher = Dispatcher(database, Outbox(database, {}), clock=lambda: NOW)
    timings: list[float] = []
    items = 0
    started = time.perf_counter()
    for subscription_id in ids:
        begun = time.perf_counter()
        items += len(dispatcher.compose(subscription_id).items)
        timings.append(time.perf_counter() - begun)
    elapsed = time.perf_counter() - started
    timings.sort()
    sys.stdout.write(
        f"{len(ids)} digests over {articles} articles ({stories} stories) in {elapsed:.1f} s: "
        f"{len(ids) / elapsed:.1f} digests/s, "
        f"{items / len(ids):.1f} items each; per digest p50 {statistics.median(timings) * 1000:.0f} ms, "
        f"p95 {timings[int(0.95 * (len(timings) - 1))] * 1000:.0f} ms\n"
    )
    database.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
