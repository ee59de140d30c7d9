"""The `python -m bot` command line: one subcommand per job, each a small function."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import NoReturn

from sqlalchemy.exc import OperationalError

from bot.config import Settings, load_settings
from bot.errors import BotError, UserInputError
from bot.log import mask_credentials, setup_logging
from bot.storage import Database

log = logging.getLogger(__name__)

Handler = Callable[[Settings, argparse.Namespace], int]
# What `run --role` needs when no platform token is set (only `all` falls back to the offline demo).
ROLE_NEEDS = {
    "web": "The web role serves Slack's HTTP events: set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET.",
    "worker": "The worker role serves Discord and Slack Socket Mode: set DISCORD_TOKEN or SLACK_BOT_TOKEN.",
}


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line that names the problem (and points to --help)."""

    def error(self, message: str) -> NoReturn:
        """Print `prog: error: message` and exit with status 2."""
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _whole_number(text: str) -> int:
    """An argparse type: a whole number in ASCII digits, optionally negative (range checks come later)."""
    digits = text.removeprefix("-")
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 12:
        raise argparse.ArgumentTypeError("must be a whole number")
    return int(text)


def _db(settings: Settings, args: argparse.Namespace) -> int:
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    from bot.storage.db import alembic_config

    if args.action == "downgrade" and args.revision is None:
        raise UserInputError("db downgrade: give the revision to go back to (such as 0008, -1 or base)")
    with Database.open(settings.database_url, upgrade=False) as database:
        config = alembic_config(database.engine)
        try:
            if args.action == "upgrade":
                command.upgrade(config, args.revision or "head")
            elif args.action == "downgrade":
                command.downgrade(config, args.revision)
        except CommandError as error:
            raise UserInputError(f"db {args.action}: {error}") from None
        with database.engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
    head = ScriptDirectory.from_config(config).get_current_head()
    # One line either way, so an upgrade or downgrade is seen to have happened and an empty database is named.
    if current is None:
        sys.stdout.write("no schema yet (`python -m bot db upgrade` creates it; every other command does too)\n")
    else:
        sys.stdout.write(f"{current} (head)\n" if current == head else f"{current} (head is {head})\n")
    return 0


def _ingest(settings: Settings, args: argparse.Namespace) -> int:
    from bot.news.feeds import sync_sources
    from bot.news.sources import configured_sources

    with Database.open(settings.database_url) as database:
        sync_sources(database, configured_sources(settings.feeds))
        if not args.once:
            return asyncio.run(_ingest_forever(settings, database))
        code = asyncio.run(_ingest_once(settings, database))
        if not args.no_process:
            _process_stored(settings, database)
        return code


async def _ingest_once(settings: Settings, database: Database) -> int:
    from tqdm import tqdm

    from bot.news.backfill import run_backfill_pass
    from bot.news.feeds import list_feeds
    from bot.news.http import HttpClient, HttpPolicy
    from bot.news.ingest import IngestOptions, run_ingest_pass

    total = len(list_feeds(database))
    options = IngestOptions.from_settings(settings)
    async with HttpClient(HttpPolicy.from_settings(settings)) as http:
        # The bars go to stderr (and hide themselves when stderr is not a terminal); the tables go to stdout.
        with tqdm(total=total, desc="Feeds", unit="feed", file=sys.stderr, disable=None) as bar:
            report = await run_ingest_pass(database, http, options, on_feed_done=lambda _result: bar.update())
        with tqdm(total=0, desc="Backlog pages", unit="page", file=sys.stderr, disable=None) as bar:

            def advance(done: int, planned: int) -> None:
                bar.total = planned
                bar.update(done - bar.n)

            backfill = await run_backfill_pass(database, http, options, progress=advance)
    sys.stdout.write(f"{report.as_table()}\n\n{backfill.as_table()}\n")
    polled = len(report.results) - len(report.failed)
    return 1 if report.failed and polled == 0 else 0


def _process_stored(settings: Settings, database: Database) -> None:
    """Process what the pass stored, so that questions and briefs see it right away."""
    from bot.intelligence.encoder import encoder_for
    from bot.platforms.console.commands import process_pending

    report = process_pending(database, encoder_for(settings))
    stories = f"{report.stories_created} new stor{'ies' if report.stories_created != 1 else 'y'}"
    sys.stdout.write(f"\nProcessed {report.articles} article(s) in {report.seconds:.1f} s: {stories}.\n")


async def _ingest_forever(settings: Settings, database: Database) -> int:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    from bot.news.http import HttpClient, HttpPolicy
    from bot.scheduler import register_feed_jobs
    from bot.shutdown import cancel_on_sigterm, stopped_by_sigterm

    async with HttpClient(HttpPolicy.from_settings(settings)) as http:
        scheduler = AsyncIOScheduler(timezone=UTC)
        jobs = register_feed_jobs(scheduler, settings, database=database, http=http)
        scheduler.start()
        log.info("polling %d feeds every %d minutes; stop with Ctrl-C", len(jobs), settings.feed_poll_minutes)
        with cancel_on_sigterm() as sigterm:
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                if not stopped_by_sigterm(sigterm):
                    raise
            finally:
                scheduler.shutdown(wait=False)
    return 0


def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M}" if moment else "-"


def _column(text: str, width: int) -> str:
    """`text` cut (with an ellipsis) and padded to `width` terminal columns: CJK characters take two."""
    import unicodedata

    def cells(char: str) -> int:
        return 2 if unicodedata.east_asian_width(char) in "WF" else 1

    if sum(map(cells, text)) > width:
        kept, used = [], 1  # one column for the ellipsis
        for char in text:
            if used + cells(char) > width:
                break
            kept.append(char)
            used += cells(char)
        text = "".join(kept) + "…"
    return text + " " * (width - sum(map(cells, text)))


def _feeds_list(settings: Settings, args: argparse.Namespace) -> int:
    from bot.news.feeds import list_feeds, sync_sources
    from bot.news.sources import configured_sources

    with Database.open(settings.database_url) as database:
        sync_sources(database, configured_sources(settings.feeds))
        feeds = list_feeds(database, include_removed=getattr(args, "all", False))
    lines = [f"{'STATUS':<9} {'NAME':<32} {'LAST SUCCESS':<16} {'FAILS':>5}  {'NEXT TRY':<16} URL"]
    for feed in feeds:
        retry = feed.retry_after if feed.consecutive_failures else None
        lines.append(
            f"{feed.status:<9} {_column(feed.name, 32)} {_when(feed.last_success_at):<16} "
            f"{feed.consecutive_failures:>5}  {_when(retry):<16} {feed.url}"
        )
        if feed.last_error and feed.consecutive_failures:
            lines.append(f"{'':<9} └ {feed.last_error}")
        if feed.pages_waiting:
            lines.append(f"{'':<9} └ {feed.pages_waiting} backlog article(s) waiting for their page")
    failing = sum(1 for feed in feeds if feed.status == "failing")
    waiting = sum(feed.pages_waiting for feed in feeds)
    backlog = f", {waiting} backlog article(s) waiting for their page" if waiting else ""
    lines.append(f"{len(feeds)} feeds, {failing} failing{backlog} (times in UTC)")
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


def _feeds_add(settings: Settings, args: argparse.Namespace) -> int:
    from bot.news.feeds import add_feed
    from bot.news.sources import check_feed_url

    with Database.open(settings.database_url) as database:
        try:
            feed = add_feed(
                database,
                args.url,
                name=args.name,
                country=args.country,
                language=args.language,
                allow_private=args.allow_private,
            )
        except UserInputError as error:
            if args.allow_private:
                raise
            try:  # refused only for its private address: say how an operator adds an intranet feed
                check_feed_url(args.url, allow_private=True)
            except ValueError:
                raise error from None
            raise UserInputError(f"{error} Use --allow-private for an intranet feed.") from None
    sys.stdout.write(f"Added {feed.name} <{feed.url}>; its current items will be stored as backlog.\n")
    return 0


def _feeds_remove(settings: Settings, args: argparse.Namespace) -> int:
    from bot.news.feeds import remove_feed

    with Database.open(settings.database_url) as database:
        feed = remove_feed(database, args.url)
    sys.stdout.write(f"Removed {feed.name} <{feed.url}>; its articles are kept.\n")
    return 0


def _feeds_import(settings: Settings, args: argparse.Namespace) -> int:
    from pathlib import Path

    from bot.errors import UserInputError
    from bot.news.feeds import import_feeds, sync_sources
    from bot.news.opml import read_opml
    from bot.news.sources import configured_sources

    path = Path(args.file).expanduser()
    try:
        entries = read_opml(path)
    except OSError as error:
        raise UserInputError(f"Cannot read {path}: {error.strerror or error}.") from None
    except ValueError as error:
        raise UserInputError(f"{path} is not a usable OPML file: {error}.") from None
    with Database.open(settings.database_url) as database:
        sync_sources(database, configured_sources(settings.feeds))  # so configured feeds count as listed
        report = import_feeds(database, entries, allow_private=args.allow_private)
    lines = [f"Added {feed.name} <{feed.url}>" for feed in report.added]
    lines += [f"Already listed: {url}" for url in report.already_listed]
    lines.append(
        f"{len(report.added)} feeds added, {len(report.already_listed)} already listed; "
        "the current items of new feeds will be stored as backlog."
    )
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


def _feeds_export(settings: Settings, args: argparse.Namespace) -> int:
    from pathlib import Path

    from bot.news.feeds import list_feeds, sync_sources
    from bot.news.opml import to_opml
    from bot.news.sources import FeedSource, configured_sources

    with Database.open(settings.database_url) as database:
        sync_sources(database, configured_sources(settings.feeds))
        feeds = list_feeds(database)
    sources = [FeedSource(feed.url, feed.name, feed.country, feed.language) for feed in feeds]
    document = to_opml(sources, title="Geobrief feeds", created=datetime.now(UTC))
    if args.file in (None, "-"):
        sys.stdout.buffer.write(document)
        sys.stdout.flush()
    else:
        path = Path(args.file).expanduser()
        try:
            path.write_bytes(document)
        except OSError as error:
            raise UserInputError(f"Cannot write {path}: {error.strerror or error}.") from None
        sys.stderr.write(f"Wrote {len(sources)} feeds to {args.file}.\n")
    return 0


def _ask(settings: Settings, args: argparse.Namespace) -> int:
    from bot.platforms.console.commands import ask_command

    return ask_command(settings, args)


def _brief(settings: Settings, args: argparse.Namespace) -> int:
    from bot.platforms.console.commands import brief_command

    return brief_command(settings, args)


def _process(settings: Settings, args: argparse.Namespace) -> int:
    from bot.platforms.console.commands import process_command

    return process_command(settings, args)


def _summarize(settings: Settings, args: argparse.Namespace) -> int:
    from bot.platforms.console.commands import summarize_command

    return summarize_command(settings, args)


def _digest(settings: Settings, args: argparse.Namespace) -> int:
    from bot.platforms.console.commands import digest_command

    return digest_command(settings, args)


def _story(settings: Settings, args: argparse.Namespace) -> int:
    from bot.platforms.console.commands import story_command

    return story_command(settings, args)


def _demo(settings: Settings, _args: argparse.Namespace) -> int:
    from bot.demo.run import run_demo

    return run_demo(settings)


def _run(settings: Settings, args: argparse.Namespace) -> int:
    if args.role == "processor" and settings.task_queue != "procrastinate":
        sys.stderr.write("The processor role serves the task queue: set TASK_QUEUE=procrastinate (PostgreSQL).\n")
        return 2
    if args.role != "processor" and not (settings.discord_enabled or settings.slack_enabled):
        if args.role != "all":  # a deployment that names a role wants the platforms: a demo there would hide it
            sys.stderr.write(ROLE_NEEDS[args.role] + "\n")
            return 2
        sys.stderr.write("No DISCORD_TOKEN or SLACK_BOT_TOKEN is set: running the offline demo instead.\n\n")
        return _demo(settings, args)
    from bot.app import run_bot  # imports the platform libraries, which only a configured platform needs

    with Database.open(settings.database_url) as database:
        asyncio.run(run_bot(settings, database, args.role))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand and its help."""
    parser = _Parser(
        prog="python -m bot",
        description="Geobrief: geopolitical news briefings for Discord, Slack and the terminal.",
        epilog="Settings come from the environment and .env (see .env.example).",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def add(name: str, handler: Handler, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.set_defaults(handler=handler)
        return sub

    run = add(
        "run",
        _run,
        "Start the configured platforms (Discord, Slack), the scheduler and ingestion; "
        "with no platform token configured, `--role all` runs the offline demo instead.",
    )
    run.add_argument(
        "--role",
        choices=["all", "web", "worker", "processor"],
        default="all",
        help="all: everything in one process (default); web: only the Slack HTTP endpoint on $PORT; "
        "worker: Discord, Slack Socket Mode, the scheduler and ingestion; "
        "processor: model work from the task queue (TASK_QUEUE=procrastinate)",
    )
    add(
        "demo",
        _demo,
        "Offline demo: serve bundled sample news on a loopback server, run the whole pipeline, print a digest.",
    )
    ingest = add(
        "ingest", _ingest, "Fetch the configured feeds and store new articles (every FEED_POLL_MINUTES until stopped)."
    )
    ingest.add_argument(
        "--once",
        action="store_true",
        help="run one pass over all feeds and one over the backlog's pages, process what was stored, print a "
        "report and exit",
    )
    ingest.add_argument(
        "--no-process", action="store_true", help="with --once: leave the articles for `process` or the bot"
    )
    brief = add("brief", _brief, "Print the top stories on a topic, country or region.")
    brief.add_argument("topic", nargs="?", default="", help="a topic, country or region (default: everything)")
    brief.add_argument("--limit", type=_whole_number, default=5, help="how many stories, 1 to 10 (default 5)")
    brief.add_argument(
        "--languages", default="", help='only stories in these languages, comma-separated ("pt, German"; default: all)'
    )
    ask = add("ask", _ask, "Answer a question from stored articles, with citations.")
    ask.add_argument("question", help="the question, in quotes")
    story = add("story", _story, "Print one story in full: timeline, related storylines, how each outlet tells it.")
    story.add_argument("query", nargs="+", help="the story's number (from a digest) or words from its headline")
    process = add("process", _process, "Tag, embed, index and cluster the stored articles not processed yet.")
    process.add_argument("--limit", type=_whole_number, default=None, help="process at most this many articles")
    summarize = add("summarize", _summarize, "Fetch an article and print its summary.")
    summarize.add_argument("url", help="an http(s) URL of a news article")
    summarize.add_argument(
        "--allow-private", action="store_true", help="allow a host on a private network or this computer (intranet)"
    )
    digest = add("digest", _digest, "Print the digest the console channel would get now (stories not shown yet).")
    digest.add_argument(
        "--style",
        choices=["short", "detailed"],
        default="short",
        help="short: two summary lines and three sources a story (default); detailed: all of them",
    )
    digest.add_argument("--limit", type=_whole_number, default=5, help="at most this many stories, 1 to 10 (default 5)")
    feeds = add(
        "feeds", _feeds_list, "List, add, remove, import or export (OPML) feeds; the list shows each feed's health."
    )
    feeds_actions = feeds.add_subparsers(dest="feeds_action", metavar="ACTION")
    feeds_list = feeds_actions.add_parser("list", help="list the feeds with their health (the default)")
    feeds_list.add_argument("--all", action="store_true", help="include removed feeds")
    feeds_list.set_defaults(handler=_feeds_list)
    feeds_add = feeds_actions.add_parser("add", help="add a feed; its current items are stored as backlog, not news")
    feeds_add.add_argument("url", help="the feed's http(s) URL")
    feeds_add.add_argument("--name", help="outlet name shown in digests (default: the host)")
    feeds_add.add_argument("--country", help="publisher's country, ISO 3166-1 alpha-2 (GB, JP, ...)")
    feeds_add.add_argument("--language", help="feed language, ISO 639-1 (en, de, ...)")
    feeds_add.add_argument(
        "--allow-private", action="store_true", help="allow a host on a private network (an intranet feed)"
    )
    feeds_add.set_defaults(handler=_feeds_add)
    feeds_remove = feeds_actions.add_parser("remove", help="stop polling a feed (its articles stay)")
    feeds_remove.add_argument("url", help="the feed's URL, as listed")
    feeds_remove.set_defaults(handler=_feeds_remove)
    feeds_import = feeds_actions.add_parser(
        "import", help="add every feed of an OPML file (from a feed reader), checked as `add` checks them"
    )
    feeds_import.add_argument("file", help="an .opml file; nothing is added if any feed in it is invalid")
    feeds_import.add_argument(
        "--allow-private", action="store_true", help="allow hosts on a private network (intranet feeds)"
    )
    feeds_import.set_defaults(handler=_feeds_import)
    feeds_export = feeds_actions.add_parser("export", help="write the polled feeds as OPML (for a feed reader)")
    feeds_export.add_argument("file", nargs="?", help="where to write it (default: standard output)")
    feeds_export.set_defaults(handler=_feeds_export)

    db = add("db", _db, "Manage the database schema (migrations also run on every start).")
    db.add_argument(
        "action",
        choices=["upgrade", "downgrade", "current"],
        help="what to do; each prints the revision the database is at afterwards",
    )
    db.add_argument(
        "revision",
        nargs="?",
        default=None,
        help="target revision: for upgrade default head; downgrade needs one (0008, -1 for one step, base)."
        " Every other command upgrades to head again",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line, load settings, set up logging and run the chosen subcommand."""
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except BotError as error:
        sys.stderr.write(f"{error}\n")
        return 2
    # The service logs to stdout (where platforms collect them); a one-shot command's stdout is its result (a brief,
    # an OPML export), so its logs go to stderr and `> file` keeps the result alone.
    stream = sys.stdout if args.command == "run" else sys.stderr
    setup_logging(settings.log_level, settings.secret_values(), settings.log_format, stream=stream)
    try:
        handler: Handler = args.handler
        return handler(settings, args)
    except BotError as error:
        sys.stderr.write(f"{error}\n")
        return 1
    except OperationalError as error:  # the database is unreachable, refuses us, or is not one
        url = mask_credentials(settings.database_url)
        reason = mask_credentials(" ".join(str(error.orig or error).split()))
        sys.stderr.write(f"Cannot use the database {url}: {reason}\n")
        return 1
    except KeyboardInterrupt:
        return 130
