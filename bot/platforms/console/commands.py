"""The console platform's commands: `python -m bot ask`, `brief`, `summarize`, `digest` and `process` (see bot/cli.py).

Like the Discord and Slack adapters, each one parses its arguments, calls the service layer and renders what it
returns (bot/platforms/console.py), so the terminal shows what a channel would get. Whoever runs the command line
operates the bot, so the console channel's actor may manage its subscription.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import TextIO

from bot.config import Settings
from bot.digests.model import Style
from bot.digests.subscriptions import MAX_ITEMS_LIMIT, Actor, SubscriptionRequest, split_list
from bot.errors import UserInputError
from bot.intelligence.encoder import encoder_for
from bot.intelligence.pending import pending_note, unprocessed_count
from bot.intelligence.processing import BATCH_SIZE, ProcessReport, process_new_articles
from bot.news.http import HttpClient, HttpPolicy
from bot.platforms.console.publisher import CONSOLE_CHANNEL, ConsolePublisher
from bot.platforms.console.render import render_answer, render_digest, render_link_summary, render_story
from bot.replies import DigestNow, DigestOutcome
from bot.service import NewsService
from bot.storage import Database
from bot.tasks import ProcessingBusyError, process_articles_job
from summarizer.encoder import TextEncoder
from summarizer.tagging import Tagger

CONSOLE_ACTOR = Actor("console", can_manage=True, name="terminal user")


async def summarize(service: NewsService, url: str, out: TextIO, *, allow_private: bool = False) -> None:
    """Fetch the page at `url` (a private address only with `allow_private`), summarise it and write the summary.

    Raises:
        UserInputError: the URL is not a public http(s) page, could not be fetched, or has no article text.
    """
    summary = await service.summarize_url(url, requester=CONSOLE_ACTOR.user_id, allow_private=allow_private)
    out.write(render_link_summary(summary))


async def post_digest(service: NewsService, out: TextIO, *, style: Style = "short", limit: int = 5) -> DigestNow:
    """Post the console channel's digest now: the top stories it has not shown yet, through the outbox.

    The console channel's subscription is created (or its size and style updated) first, so what was shown is
    remembered and the next digest has only stories not shown before. The digest is published to `out`.

    Raises:
        UserInputError: `limit` is out of range.
    """
    service.add_publisher(CONSOLE_CHANNEL.platform, ConsolePublisher(out))
    await service.subscribe(CONSOLE_CHANNEL, SubscriptionRequest(max_items=limit, style=style), CONSOLE_ACTOR)
    result = await service.digest_now(CONSOLE_CHANNEL)
    if result.outcome is not DigestOutcome.POSTED:  # a posted digest has been written to `out` by the publisher
        out.write(f"{result.message}\n")
    return result


def ask_command(settings: Settings, args: argparse.Namespace) -> int:
    """`ask QUESTION`: answer from the stored articles with citations, or say there is nothing on it."""

    async def answer(service: NewsService) -> None:
        await _catch_up(service, note=False)  # the answer itself says what it could not search
        sys.stdout.write(render_answer(await service.ask(args.question)))

    return _with_service(settings, answer)


def brief_command(settings: Settings, args: argparse.Namespace) -> int:
    """`brief [TOPIC]`: the top stories for a topic, country or region, with summaries and sources."""

    if not 1 <= args.limit <= MAX_ITEMS_LIMIT:
        raise UserInputError(f"--limit must be 1 to {MAX_ITEMS_LIMIT}.")

    async def show(service: NewsService) -> None:
        await _catch_up(service)
        languages = split_list(getattr(args, "languages", ""))
        sys.stdout.write(render_digest(await service.brief(args.topic, limit=args.limit, languages=languages)))

    return _with_service(settings, show)


def story_command(settings: Settings, args: argparse.Namespace) -> int:
    """`story ID|WORDS`: one story in full: timeline, related storylines, and how each outlet tells it."""

    async def show(service: NewsService) -> None:
        await _catch_up(service)
        sys.stdout.write(render_story(await service.story(" ".join(args.query))))

    return _with_service(settings, show)


def summarize_command(settings: Settings, args: argparse.Namespace) -> int:
    """`summarize URL [--allow-private]`: print the page's title, site, what the summary is based on, and summary."""
    return _with_service(
        settings, lambda service: summarize(service, args.url, sys.stdout, allow_private=args.allow_private)
    )


def digest_command(settings: Settings, args: argparse.Namespace) -> int:
    """`digest [--style short|detailed] [--limit N]`: print the console channel's digest of stories not shown yet."""

    async def post(service: NewsService) -> None:
        await _catch_up(service)
        await post_digest(service, sys.stdout, style=args.style, limit=args.limit)

    return _with_service(settings, post)


async def _catch_up(service: NewsService, *, note: bool = True) -> None:
    """Process the stored articles that are ready first (progress bar on stderr), so the command sees them all;
    then, with ``note``, say on stderr what still cannot be seen (backlog articles waiting for their page)."""
    await asyncio.to_thread(process_pending, service.database, encoder_for(service.settings))
    line = await asyncio.to_thread(pending_note, service.database) if note else ""
    if line:
        sys.stderr.write(f"Note: {line}\n")


def _with_service(settings: Settings, action: Callable[[NewsService], Awaitable[None]]) -> int:
    async def run(database: Database) -> None:
        async with HttpClient(HttpPolicy.from_settings(settings)) as http:
            await action(NewsService(settings, database, http))

    with Database.open(settings.database_url) as database:
        asyncio.run(run(database))
    return 0


def process_pending(database: Database, encoder: TextEncoder, *, progress: bool = True) -> ProcessReport:
    """Process every article that is ready, in batches, with a progress bar on standard error.

    The bar hides itself when standard error is not a terminal (or with ``progress=False``).
    """
    from tqdm import tqdm

    tagger = Tagger(encoder)
    articles = created = 0
    seconds = 0.0
    total = unprocessed_count(database)
    with tqdm(
        total=total, desc="Processing", unit="article", file=sys.stderr, disable=None if progress else True
    ) as bar:
        while True:
            report = process_new_articles(database, encoder, tagger=tagger, limit=BATCH_SIZE)
            articles, created, seconds = (
                articles + report.articles,
                created + report.stories_created,
                seconds + report.seconds,
            )
            bar.update(report.articles)
            if report.articles < BATCH_SIZE:
                break
    # Stories touched by several batches are counted once per batch; the command line shows only new ones.
    return ProcessReport(articles, created, 0, seconds)


def process_command(settings: Settings, args: argparse.Namespace) -> int:
    """`process`: tag, embed, index and cluster the stored articles that are not processed yet."""
    if args.limit is not None and args.limit < 1:
        raise UserInputError("--limit must be 1 or more.")
    with Database.open(settings.database_url) as database:
        try:
            report = process_articles_job(database, encoder_for(settings), limit=args.limit)
        except ProcessingBusyError:
            sys.stdout.write("Another process is processing articles right now; they will be done there.\n")
            return 0
    sys.stdout.write(
        f"Processed {report.articles} article(s) in {report.seconds:.1f} s: "
        f"{report.stories_created} new stor{'ies' if report.stories_created != 1 else 'y'}, "
        f"{report.stories_updated} updated.\n"
    )
    return 0
