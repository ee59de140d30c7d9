"""Measure ingestion throughput: passes over N feeds of M items each, served by a loopback server.

usage: python -m benchmarks.ingest_bench [--feeds 200] [--items 50] [--teasers 0.2]

The server runs in its own process (so its memory and its share of the event loop are not counted) and serves
RSS 2.0 feeds and article pages. Three passes run into a fresh SQLite database:

1. first fetch: every feed is new, so its items are stored as backlog (parse, normalise, dedup, store; no pages);
2. new items: every feed has M new items, of which a share are teasers whose article page is fetched and
   extracted with trafilatura, the rest carry full text;
3. unchanged: every feed answers 304 Not Modified to the conditional GET.

The client uses the production code with the politeness delay off and 16 requests per host, since every feed is
on the same host here; per-host politeness would otherwise measure the sleep, not the pipeline.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime
from email.utils import format_datetime
from multiprocessing.sharedctypes import Synchronized
from pathlib import Path

from aiohttp import web

from bot.news.feeds import sync_sources
from bot.news.http import HttpClient, HttpPolicy
from bot.news.ingest import IngestOptions, IngestReport, run_ingest_pass
from bot.news.sources import FeedSource
from bot.storage import Database

PARAGRAPH = (
    "Foreign ministers from {n} countries met in Geneva on Tuesday to discuss a ceasefire proposal for region {f}. "
    "The talks, which lasted more than nine hours, ended with a joint statement that called for an immediate halt "
    "to hostilities and the opening of humanitarian corridors in district {i}. Diplomats said the agreement was "
    "fragile and depended on guarantees that neither side had yet accepted."
)


def _item(feed: int, round_: int, index: int, port: int, *, teaser: bool) -> str:
    link = f"http://127.0.0.1:{port}/article/{feed}/{round_}/{index}"
    title = f"Round {round_}: talks on region {feed} resume, item {index}"
    text = " ".join(PARAGRAPH.format(n=index + 3, f=feed, i=index + k) for k in range(4))
    published = format_datetime(datetime.now(UTC), usegmt=True)
    content = "" if teaser else f"<content:encoded><![CDATA[<p>{text}</p>]]></content:encoded>"
    return (
        f"<item><title>{title}</title><link>{link}</link><guid isPermaLink='false'>{feed}-{round_}-{index}</guid>"
        f"<description>{text[:180]}</description>{content}<pubDate>{published}</pubDate></item>"
    )


def _serve(port_value: Synchronized, round_value: Synchronized, items: int, teasers: float) -> None:  # type: ignore[type-arg]
    async def feed(request: web.Request) -> web.StreamResponse:
        number = int(request.match_info["feed"])
        round_ = round_value.value
        etag = f'"{number}-{round_}"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        port = port_value.value
        teaser_count = round(teasers * items)
        body = "".join(_item(number, round_, i, port, teaser=i < teaser_count) for i in range(items))
        document = (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0" '
            'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>'
            f"<title>Bench feed {number}</title><link>http://127.0.0.1/</link><language>en</language>{body}"
            "</channel></rss>"
        )
        return web.Response(text=document, content_type="application/rss+xml", headers={"ETag": etag})

    async def article(request: web.Request) -> web.StreamResponse:
        feed_number, index = int(request.match_info["feed"]), int(request.match_info["index"])
        text = "".join(f"<p>{PARAGRAPH.format(n=index + 3, f=feed_number, i=index + k)}</p>" for k in range(6))
        page = (
            f"<!DOCTYPE html><html><head><title>Talks {feed_number}/{index}</title></head><body>"
            "<nav><a href='/'>Home</a><a href='/world'>World</a></nav>"
            f"<article><h1>Talks on region {feed_number}</h1>{text}</article>"
            "<footer>Contact. Privacy policy.</footer></body></html>"
        )
        return web.Response(text=page, content_type="text/html")

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/feed/{feed}.xml", feed)
        app.router.add_get("/article/{feed}/{round}/{index}", article)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port_value.value = runner.addresses[0][1]
        await asyncio.Event().wait()

    asyncio.run(main())


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


async def _pass(database: Database, http: HttpClient, label: str) -> IngestReport:
    started = time.perf_counter()
    report = await run_ingest_pass(database, http, IngestOptions())
    seconds = time.perf_counter() - started
    stored = report.total("new") + report.total("backlog")
    failed = len(report.failed)
    print(
        f"{label:<28} {seconds:7.2f} s  {stored:6d} stored  {report.total('duplicate'):5d} duplicate  "
        f"{stored / seconds:8.0f} articles/s  {len(report.results) / seconds:6.1f} feeds/s  {failed} failed  "
        f"peak RSS {_rss_mib():.0f} MiB"
    )
    return report


async def _run(feeds: int, port: int, round_value: Synchronized) -> None:  # type: ignore[type-arg]
    with tempfile.TemporaryDirectory() as folder:
        database = Database(f"sqlite:///{Path(folder) / 'bench.sqlite3'}")
        database.upgrade()
        sources = [FeedSource(f"http://127.0.0.1:{port}/feed/{n}.xml", f"Bench {n}", "GB", "en") for n in range(feeds)]
        sync_sources(database, sources)
        policy = HttpPolicy(user_agent="geobrief-bench/0.1", politeness_delay=0.0, per_host_concurrency=16)
        print(f"baseline RSS after imports and setup: {_rss_mib():.0f} MiB")
        async with HttpClient(policy) as http:
            await _pass(database, http, "1. first fetch (backlog)")
            round_value.value = 2
            await _pass(database, http, "2. new items (with pages)")
            await _pass(database, http, "3. unchanged (304)")
        database.dispose()


def main() -> int:
    """Start the server, run the passes, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--feeds", type=int, default=200, help="number of feeds (default 200)")
    parser.add_argument("--items", type=int, default=50, help="items per feed (default 50)")
    parser.add_argument("--teasers", type=float, default=0.2, help="share of new items that are teasers (default 0.2)")
    args = parser.parse_args()

    port_value = multiprocessing.Value("i", 0)
    round_value = multiprocessing.Value("i", 1)
    server = multiprocessing.Process(
        target=_serve, args=(port_value, round_value, args.items, args.teasers), daemon=True
    )
    server.start()
    try:
        for _ in range(100):
            if port_value.value:
                break
            time.sleep(0.05)
        else:
            print("the benchmark server did not start", file=sys.stderr)
            return 1
        print(f"{args.feeds} feeds x {args.items} items, {args.teasers:.0%} of new items are teasers")
        asyncio.run(_run(args.feeds, port_value.value, round_value))
    finally:
        server.terminate()
        server.join()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
