"""The `python -m bot` command line: one subcommand per job, each a small function."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence

from bot.config import Settings, load_settings
from bot.errors import BotError
from bot.log import setup_logging
from bot.storage import Database

log = logging.getLogger(__name__)

Handler = Callable[[Settings, argparse.Namespace], int]


def open_database(settings: Settings) -> Database:
    """Connect to the configured database and bring its schema up to date (migrations run on every start)."""
    database = Database(settings.database_url)
    database.upgrade()
    return database


def _not_available(feature: str) -> Handler:
    def handler(_settings: Settings, _args: argparse.Namespace) -> int:
        sys.stderr.write(f"{feature} is not available yet in this version.\n")
        return 3

    return handler


def _db(settings: Settings, args: argparse.Namespace) -> int:
    from alembic import command

    from bot.storage.db import alembic_config

    database = Database(settings.database_url)
    try:
        config = alembic_config(database.engine)
        if args.action == "upgrade":
            command.upgrade(config, args.revision)
        elif args.action == "downgrade":
            command.downgrade(config, args.revision)
        else:
            command.current(config, verbose=False)
    finally:
        database.dispose()
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand and its help."""
    parser = argparse.ArgumentParser(
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
        _not_available("Running the platforms"),
        "Start the configured platforms (Discord, Slack), the scheduler and ingestion; "
        "with no platform token configured, run the offline demo instead.",
    )
    run.add_argument(
        "--role",
        choices=["all", "web", "worker"],
        default="all",
        help="all: everything in one process (default); web: only the Slack HTTP endpoint on $PORT; "
        "worker: Discord, Slack Socket Mode, the scheduler and ingestion",
    )
    add(
        "demo",
        _not_available("The offline demo"),
        "Offline demo: serve bundled sample news on a loopback server, run the whole pipeline, print a digest.",
    )
    ingest = add("ingest", _not_available("Ingestion"), "Fetch the configured feeds and store new articles.")
    ingest.add_argument("--once", action="store_true", help="run one pass over all feeds, print a report and exit")
    brief = add("brief", _not_available("Briefing"), "Print the top stories on a topic, country or region.")
    brief.add_argument("topic", nargs="?", default="", help="a topic, country or region (default: everything)")
    ask = add("ask", _not_available("Questions"), "Answer a question from stored articles, with citations.")
    ask.add_argument("question", help="the question, in quotes")
    summarize = add("summarize", _not_available("Summarising a link"), "Fetch an article and print its summary.")
    summarize.add_argument("url", help="an http(s) URL of a news article")
    add("digest", _not_available("Digests"), "Print the digest the console channel would get now.")
    add("feeds", _not_available("Feed management"), "List the feeds with their health.")

    db = add("db", _db, "Manage the database schema (migrations also run on every start).")
    db.add_argument("action", choices=["upgrade", "downgrade", "current"], help="what to do")
    db.add_argument("revision", nargs="?", default="head", help="target revision for upgrade/downgrade (default: head)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line, load settings, set up logging and run the chosen subcommand."""
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except BotError as error:
        sys.stderr.write(f"{error}\n")
        return 2
    setup_logging(settings.log_level, settings.secret_values())
    try:
        handler: Handler = args.handler
        return handler(settings, args)
    except BotError as error:
        sys.stderr.write(f"{error}\n")
        return 1
    except KeyboardInterrupt:
        return 130
