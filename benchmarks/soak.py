"""Soak: the Procfile's processes on PostgreSQL under load and faults; did every due digest arrive exactly once?

usage: python -m benchmarks.soak [--minutes 12] [--interval 4] [--feeds 200] [--subscriptions 1000]
                                 [--database-url postgresql://postgres@127.0.0.1:5432/postgres] [--smoke] [--keep]

It creates a database of its own on the server (dropped afterwards unless --keep), then runs, as separate OS
processes exactly as the Procfile does (`python -m bot run --role ...`, TASK_QUEUE=procrastinate): 2 web replicas
(Slack HTTP mode), 2 workers (Discord shards 0 and 1 of 2; one runs the scheduler, the other stands by) and 2
processors. In this process it serves, on 127.0.0.1: the feeds (40 new items a minute across them, each feed in
turn: 6x what 200 real feeds publish; one more feed never answers), a fake Slack Web API and a fake Discord REST
API and gateway (tests/platforms/*), and it sends a signed `/news brief` to a web replica every few seconds.

Every subscription (half Slack, half Discord, in several timezones) has digests due every --interval minutes
during a --minutes window. During the window it injects, in order: a burst of 429s with Retry-After from both
platforms; Slack posts taken whose answer is lost (the connection drops); `kill -9` of the worker that runs the
scheduler, digests in flight or not (restarted a while later); a burst of 5xx from both platforms; `kill -9` of
the processor that is running the processing job (restarted later); and `pg_terminate_backend` of every
connection of the bot's processes. Each burst is queued on the fake platform and hits its next calls; the report
says how many were left unused at the end. After the window it waits for the outbox to drain, then prints:

- digests due, and what became of each: posted (accepted by the platform and marked sent), skipped (nothing new
  for the channel), coalesced (no digest of its own: the scheduler woke after the next one was due and served
  that one, which carries what was new since the channel's last digest), lost (recorded but unsent at the end, or
  never served and no later occurrence served either: its news never reached the channel): must be 0;
  duplicates (a channel got the same digest more than once, counted on what the fake platforms accepted): must
  be 0;
- the delay from an occurrence's due time to the delivery being marked sent (p50, p95, max);
- processing lag (article stored -> analysed and in a story, p50/p95), slash-command acknowledgement latency;
- peak resident memory per process kind, and the machine's load average during the run.

`--smoke` runs a small version that tests/test_soak.py runs in CI: 2 workers and 1 processor (no web replica), 10
feeds, 20 subscriptions each due once. `python -m bot ingest --once` first stores and processes the feeds' news;
the subscriptions were made a minute before this minute's digest, which falls due before any scheduler runs, so
the one that starts serves it at once (no wait for the clock). The platform faults are queued before the
processes start, so they hit the first posts; the worker kill and the connection drop come together once every
due digest is recorded and none is being sent (a send cut short is retried safely, but only when its 2-minute
lease ends, which would double the run's length), and the processor is killed in its next job. About 80 s on a
quiet 2-core machine, most of it loading three models and the outbox's 30-second retry. It exits 1 when a digest
is lost or duplicated.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlencode
from xml.sax.saxutils import escape

import httpx
from aiohttp import web
from sqlalchemy import create_engine, func, select, text, update
from sqlalchemy.engine import make_url

from bot.digests.model import ChannelRef
from bot.digests.outbox import SEND_LEASE
from bot.digests.schedule import Schedule
from bot.digests.subscriptions import Actor, SubscriptionRequest, subscribe
from bot.news.feeds import sync_sources
from bot.news.sources import source_from_url
from bot.storage import Article, Database, Delivery, DeliveryStatus, Feed, Subscription
from bot.storage.models import ArticleAnalysis
from tests.platforms.discord.fake_discord import Failure, FakeDiscord
from tests.platforms.slack.conftest import signed_headers
from tests.platforms.slack.fake_slack import FakeSlack

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
SECRET = "soak-signing-secret"
ZONES = ("UTC", "Europe/Berlin", "Asia/Tokyo", "America/New_York", "Asia/Kolkata")  # Kolkata: a :30 offset
GUILDS = [900000000000000002 + (index << 22) for index in range(20)]  # spread over both shards
COUNTRIES = (
    "Japan", "China", "India", "Germany", "France", "Brazil", "Nigeria", "Kenya", "Turkey", "Iran",
    "Israel", "Egypt", "Ukraine", "Russia", "Poland", "Mexico", "Canada", "Australia", "Indonesia", "Vietnam",
    "South Korea", "North Korea", "Pakistan", "Saudi Arabia", "Ethiopia", "Argentina", "Chile", "Spain",
)  # fmt: skip
TOPICS = ("trade talks", "a ceasefire", "sanctions", "an election", "a border dispute", "energy supplies")
ITEMS_PER_MINUTE = 40  # new items a minute over all feeds: 6x what 200 real feeds publish (300,000 in 30 days)
EVENTS_PER_MINUTE = 8  # each minute's items cover this many events, five outlets each: stories grow
BACKLOG_MINUTES = 1  # items already in a feed when the soak starts (stored as news: the feeds are pre-seeded)
WINDOW_ITEMS = 10  # a feed document holds its newest items


@dataclass(frozen=True)
class Plan:
    """The size of a run."""

    feeds: int
    subscriptions: int
    minutes: int  # the schedule window
    interval: int  # minutes between two digests of one subscription
    webs: int
    workers: int
    processors: int
    lead_seconds: int  # from all processes ready to the window's start: subscriptions reach the scheduler
    restart_seconds: float  # a killed process comes back after this
    drain_seconds: float  # after the window, the outbox gets this long to post what is left
    burst: int = 20  # 429s, and 5xx, from each platform
    lost_answers: int = 10  # Slack posts taken whose answer never arrives
    # The smoke's shape: subscribed before the processes start (the window begins at the first minute `lead_seconds`
    # after that), platform faults queued at once, the kill and the connection drop when nothing is being sent.
    compact: bool = False


FULL = Plan(
    feeds=200, subscriptions=1000, minutes=12, interval=4, webs=2, workers=2, processors=2,
    lead_seconds=100, restart_seconds=60, drain_seconds=300,
)  # fmt: skip
SMOKE = Plan(
    feeds=10, subscriptions=20, minutes=1, interval=1, webs=0, workers=2, processors=1,
    lead_seconds=5, restart_seconds=10, drain_seconds=240, burst=3, lost_answers=2, compact=True,
)  # fmt: skip


# -- the feeds ----------------------------------------------------------------------------------------------------
class Feeds:
    """200 feeds on one loopback server; feed f publishes item m at start + m minutes + a per-feed offset."""

    def __init__(self, count: int, start: float) -> None:
        self.count = count
        self.start = start
        self.port = 0
        self.hang_port = 0
        self.hits = 0

    def url(self, feed: int) -> str:
        """The URL of feed number `feed`."""
        return f"http://127.0.0.1:{self.port}/feed/{feed}.xml"

    def hang_url(self) -> str:
        """The URL of the feed whose server never answers."""
        return f"http://127.0.0.1:{self.hang_port}/feed/hang.xml"

    def _period(self) -> int:
        """Minutes between two items of one feed."""
        return max(1, round(self.count / ITEMS_PER_MINUTE))

    def _published(self, feed: int, step: int) -> float:
        """Item `step` of a feed: feeds take turns, so new items arrive every minute."""
        period = self._period() * 60.0
        return self.start + step * period + (feed * period / self.count)

    def _item(self, feed: int, minute: int) -> str:
        published_minute = int((self._published(feed, minute) - self.start) // 60)
        event = published_minute * EVENTS_PER_MINUTE + feed % EVENTS_PER_MINUTE  # five outlets per event a minute
        first, second = COUNTRIES[event % len(COUNTRIES)], COUNTRIES[(event * 7 + 3) % len(COUNTRIES)]
        topic = TOPICS[event % len(TOPICS)]
        outlet = f"Outlet {feed}"
        sentences = [
            f"Officials in {first} said on Tuesday that {topic} with {second} would resume within days.",
            f"The announcement, reported by {outlet}, followed weeks of pressure from neighbours of {first}.",
            f"Negotiators from {second} confirmed that delegation {event} would travel to the capital of {first}.",
            f"Analysts said the move on {topic} could ease tensions that had grown since the spring.",
            f"A spokesperson for the government of {second} declined to comment on the details of round {event}.",
        ]
        link = f"http://127.0.0.1:{self.port}/article/{feed}/{minute}"
        title = f"{first} and {second}: {topic} resume ({outlet}, {minute})"
        published = datetime.fromtimestamp(self._published(feed, minute), UTC)
        body = "".join(f"<p>{sentence}</p>" for sentence in sentences)
        return (
            f"<item><title>{escape(title)}</title><link>{link}</link><guid isPermaLink='false'>{feed}-{minute}</guid>"
            f"<description>{escape(sentences[0])}</description><content:encoded><![CDATA[{body}]]></content:encoded>"
            f"<pubDate>{format_datetime(published, usegmt=True)}</pubDate></item>"
        )

    async def feed(self, request: web.Request) -> web.Response:
        """Serve a feed document: its newest items as of now."""
        self.hits += 1
        feed = int(request.match_info["feed"])
        period = self._period() * 60.0
        newest = int((time.time() - self.start - feed * period / self.count) // period)
        minutes = range(max(-BACKLOG_MINUTES, newest - WINDOW_ITEMS + 1), newest + 1)
        items = "".join(self._item(feed, minute) for minute in reversed(minutes))
        document = (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0" '
            'xmlns:content="http://purl.org/rss/1.0/modules/content/">'
            f"<channel><title>Outlet {feed}</title><link>http://127.0.0.1/</link><language>en</language>"
            f"{items}</channel></rss>"
        )
        return web.Response(body=document.encode(), content_type="application/rss+xml")

    @staticmethod
    async def hang(request: web.Request) -> web.Response:
        """Never answer (within the run)."""
        await asyncio.sleep(3600)  # the feed server that never answers: the fetcher's timeout must cut it off
        return web.Response(status=504)


# -- the processes ------------------------------------------------------------------------------------------------
@dataclass
class Child:
    """One bot process."""

    kind: str  # web | worker | processor
    index: int
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    log: IO[bytes] | None = None
    peak_rss_kib: int = 0
    kills: int = 0

    @property
    def name(self) -> str:
        """kind-index, e.g. worker-0."""
        return f"{self.kind}-{self.index}"

    def start(self) -> None:
        """Start the process, its output appended to its log."""
        self.log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run", "--role", self.kind],
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    @property
    def alive(self) -> bool:
        """Whether the process is running."""
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """kill -9: no shutdown code runs."""
        if self.process is not None and self.alive:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait()
            self.kills += 1

    def stop(self) -> None:
        """Stop the process politely (SIGTERM), then by force."""
        if self.process is not None and self.alive:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
        if self.log is not None:
            self.log.close()

    def sample(self) -> None:
        """Record the resident memory now, keeping the peak."""
        if self.process is None or not self.alive:
            return
        try:
            status = Path(f"/proc/{self.process.pid}/status").read_text()
        except OSError:
            return
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                self.peak_rss_kib = max(self.peak_rss_kib, int(line.split()[1]))

    def log_text(self) -> str:
        """Everything the process logged so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def running_job(child: Child) -> bool:
    """Whether this processor's log shows a processing job started and not yet ended."""
    started = ended = 0
    for line in child.log_text().splitlines():
        if "Starting job geobrief:process_articles" in line:
            started += 1
        elif "Job geobrief:process_articles" in line and "ended with status" in line:
            ended += 1
    return started > ended


# -- the run ------------------------------------------------------------------------------------------------------
@dataclass
class Run:
    """Everything one soak run starts, watches and measures."""

    plan: Plan
    server_url: str
    workdir: Path
    database_name: str = field(default_factory=lambda: f"geobrief_soak_{uuid.uuid4().hex[:8]}")
    children: list[Child] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    loads: list[float] = field(default_factory=list)
    command_latencies: list[float] = field(default_factory=list)
    command_failures: int = 0
    started: float = field(default_factory=time.time)

    @property
    def database_url(self) -> str:
        """The URL of the soak's own database."""
        return make_url(self.server_url).set(database=self.database_name).render_as_string(hide_password=False)

    def note(self, event: str) -> None:
        """Print and keep a timeline entry."""
        line = f"[{time.time() - self.started:7.1f} s] {event}"
        self.events.append(line)
        print(line, flush=True)

    def of(self, kind: str) -> list[Child]:
        """The processes of one kind."""
        return [child for child in self.children if child.kind == kind]


def _create_database(run: Run) -> None:
    admin = create_engine(make_url(run.server_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{run.database_name}"'))
    admin.dispose()


def _drop_database(run: Run) -> None:
    admin = create_engine(make_url(run.server_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(
            text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name"),
            {"name": run.database_name},
        )
        connection.execute(text(f'DROP DATABASE IF EXISTS "{run.database_name}"'))
    admin.dispose()


def _occurrence_times(index: int, window_start: datetime, plan: Plan) -> list[datetime]:
    """The due times of subscription `index` inside the window (UTC)."""
    offset = timedelta(minutes=index % plan.interval)
    times: list[datetime] = []
    moment = window_start + offset
    while moment < window_start + timedelta(minutes=plan.minutes) and len(times) < 12:
        times.append(moment)
        moment += timedelta(minutes=plan.interval)
    return times


def _seed(run: Run, feeds: Feeds, *, hanging: bool = True) -> None:
    """Migrate and add the feeds, marked as past their first fetch (so what they carry is news)."""
    database = Database(run.database_url)
    database.upgrade()
    sources = [source_from_url(feeds.url(feed)) for feed in range(run.plan.feeds)]
    if hanging:
        sources.append(source_from_url(feeds.hang_url()))
    sync_sources(database, sources)
    with database.session() as session:
        session.execute(update(Feed).values(backlog_loaded=True))
    database.dispose()


def _subscribe(run: Run, window_start: datetime, subscribed_at: datetime | None = None) -> None:
    """Subscribe the channels, each with its digests due inside the window (the scheduler picks them up)."""
    database = Database(run.database_url)
    actor = Actor(user_id="USOAK", can_manage=True, name="soak")
    for index in range(run.plan.subscriptions):
        zone = ZONES[index % len(ZONES)]
        local = Schedule.parse("00:00", zone).timezone
        times = {
            moment.astimezone(local).strftime("%H:%M") for moment in _occurrence_times(index, window_start, run.plan)
        }
        schedule = ", ".join(sorted(times))
        if index % 2 == 0:
            channel = ChannelRef("slack", f"T{index % 10}", f"C{index:05d}")
        else:
            channel = ChannelRef("discord", str(GUILDS[index % len(GUILDS)]), str(910_000_000_000_000_000 + index))
        request = SubscriptionRequest(schedule=schedule, timezone=zone, max_items=3)
        subscribe(database, channel, request, actor, now=subscribed_at)
    database.dispose()


def _environment(run: Run, feeds_file: Path, slack: FakeSlack, discord_api: FakeDiscord) -> dict[str, str]:
    return {
        **{key: value for key, value in os.environ.items() if not key.startswith(("DISCORD_", "SLACK_"))},
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": run.database_url,
        "TASK_QUEUE": "procrastinate",
        "FEEDS": str(feeds_file),
        "FEED_POLL_MINUTES": "1",
        "FETCH_ARTICLE_PAGES": "false",
        "HTTP_POLITENESS_DELAY_SECONDS": "0",  # every feed is on 127.0.0.1: politeness would measure the sleep
        "HTTP_PER_HOST_CONCURRENCY": "8",
        "HTTP_TIMEOUT_SECONDS": "5",
        "HTTP_MAX_RETRIES": "1",
        "ENCODER_THREADS": "1",
        "LOG_LEVEL": "INFO",
        "DISCORD_TOKEN": "soak-discord-token",
        "DISCORD_API_URL": discord_api.base,
        "DISCORD_SHARD_COUNT": "2",
        "SLACK_BOT_TOKEN": "xoxb-soak-token",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": f"{slack.base}/api/",
    }


def _feeds_file(run: Run, feeds: Feeds, *, hanging: bool = True) -> Path:
    lines = []
    for feed in range(run.plan.feeds):
        lines += ["[[feeds]]", f'url = "{feeds.url(feed)}"', f'name = "Outlet {feed}"', 'country = "GB"', ""]
    if hanging:
        lines += ["[[feeds]]", f'url = "{feeds.hang_url()}"', 'name = "Hanging"', ""]
    path = run.workdir / ("feeds.toml" if hanging else "seed-feeds.toml")
    path.write_text("\n".join(lines))
    return path


async def _send_commands(run: Run, ports: list[int], slack: FakeSlack, stop: asyncio.Event) -> None:
    """A signed `/news brief` to a web replica every few seconds; the HTTP answer is Bolt's ack."""
    async with httpx.AsyncClient(timeout=10) as client:
        number = 0
        while not stop.is_set():
            number += 1
            payload = {
                "token": "x", "team_id": "T0", "channel_id": "C00000", "user_id": "UREADER", "user_name": "reader",
                "command": "/news", "text": "brief", "api_app_id": "A1", "trigger_id": "1.2.3",
                "response_url": f"{slack.base}/respond/soak-{number}",
            }  # fmt: skip
            body = urlencode(payload)
            port = ports[number % len(ports)]
            started = time.perf_counter()
            try:
                response = await client.post(
                    f"http://127.0.0.1:{port}/slack/events", content=body, headers=signed_headers(body, secret=SECRET)
                )
                if response.status_code == 200:
                    run.command_latencies.append(time.perf_counter() - started)
                else:
                    run.command_failures += 1
            except httpx.HTTPError:
                run.command_failures += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=4)


async def _watch(run: Run, stop: asyncio.Event) -> None:
    while not stop.is_set():
        for child in run.children:
            child.sample()
        run.loads.append(os.getloadavg()[0])
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=2)


async def _wait_for(predicate: Callable[[], bool], timeout: float, step: float = 1.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await asyncio.to_thread(predicate):
            return True
        await asyncio.sleep(step)
    return False


def _scheduler_holder(run: Run) -> Child | None:
    """The worker whose log (since its last start) says it runs the scheduler and has not stopped since."""
    for child in run.of("worker"):
        log = child.log_text().rsplit("--- restarted", 1)[-1]
        if child.alive and log.rfind("scheduler started") > log.rfind("scheduling stops here"):
            return child
    return None


def _terminate_connections(run: Run) -> int:
    admin = create_engine(make_url(run.server_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        dropped = connection.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = :name AND pid <> pg_backend_pid()"
            ),
            {"name": run.database_name},
        ).scalar()
    admin.dispose()
    return int(dropped or 0)


async def _restart_later(run: Run, child: Child, delay: float) -> None:
    await asyncio.sleep(delay)
    with child.log_path.open("ab") as log:
        log.write(b"--- restarted\n")
    child.start()
    run.note(f"restarted {child.name}")


def _rate_limits(run: Run, slack: FakeSlack, discord_api: FakeDiscord) -> None:
    burst = run.plan.burst
    for _ in range(burst):
        slack.fail("chat.postMessage", status=429, error="ratelimited", headers={"Retry-After": "2"})
    discord_api.any_channel.append(Failure(429, 0, "You are being rate limited.", times=burst, retry_after=1.5))
    run.note(f"fault: {burst} x 429 with Retry-After from Slack and from Discord")


def _lost_answers(run: Run, slack: FakeSlack) -> None:
    slack.lose_response("chat.postMessage", run.plan.lost_answers)
    run.note(f"fault: the next {run.plan.lost_answers} Slack posts are taken and their answers lost")


def _server_errors(run: Run, slack: FakeSlack, discord_api: FakeDiscord) -> None:
    burst = run.plan.burst
    for _ in range(burst):
        slack.fail("chat.postMessage", status=503, error="service_unavailable")
    discord_api.any_channel.append(Failure(503, 0, "Service Unavailable", times=burst))
    run.note(f"fault: {burst} x 503 from Slack and from Discord")


def _kill_scheduler_holder(run: Run, restarts: list[asyncio.Task[None]]) -> None:
    holder = _scheduler_holder(run)
    if holder is None:
        run.note("fault skipped: no worker says it runs the scheduler")
        return
    holder.kill()
    run.note(f"fault: kill -9 {holder.name} (it ran the scheduler)")
    restarts.append(asyncio.create_task(_restart_later(run, holder, run.plan.restart_seconds)))


async def _kill_busy_processor(run: Run, restarts: list[asyncio.Task[None]], within: float) -> None:
    busy = None
    deadline = time.time() + within
    while busy is None and time.time() < deadline:
        busy = next((child for child in run.of("processor") if child.alive and running_job(child)), None)
        if busy is None:
            await asyncio.sleep(0.2)
    if busy is None:
        run.note(f"fault skipped: no processor was running a job within {within:.0f} s")
        return
    busy.kill()
    run.note(f"fault: kill -9 {busy.name} in the middle of a processing job")
    restarts.append(asyncio.create_task(_restart_later(run, busy, run.plan.restart_seconds)))


async def _drop_connections(run: Run) -> None:
    dropped = await asyncio.to_thread(_terminate_connections, run)
    run.note(f"fault: pg_terminate_backend on all {dropped} connections of the bot's processes")


async def _faults(
    run: Run, slack: FakeSlack, discord_api: FakeDiscord, window_start: float
) -> list[asyncio.Task[None]]:
    """Inject the faults at fixed points of the window; returns the restart tasks to await."""
    length = run.plan.minutes * 60
    restarts: list[asyncio.Task[None]] = []

    async def at(share: float) -> None:
        await asyncio.sleep(max(0.0, window_start + share * length - time.time()))

    if run.plan.compact:
        # The platform faults were queued before the processes started. Once every due digest is recorded and none
        # is being sent: kill -9 the scheduler's worker and drop every connection at once (one hand-over, to the
        # standby), and kill the processor the next time it runs a job.
        quiet = lambda: _recorded(run) >= run.plan.subscriptions and _sending(run) == 0  # noqa: E731
        await _wait_for(quiet, 120, step=0.5)
        _kill_scheduler_holder(run, restarts)
        await _drop_connections(run)
        await _kill_busy_processor(run, restarts, within=30)
        return restarts

    await at(0.15)
    _rate_limits(run, slack, discord_api)
    await at(0.2)
    _lost_answers(run, slack)
    await at(0.25)
    _kill_scheduler_holder(run, restarts)  # digests may be in flight: a send cut short is retried, looked up first
    await at(0.3)  # while both platforms still have digests to post (later occurrences may find nothing new)
    _server_errors(run, slack, discord_api)
    await at(0.4)
    await _kill_busy_processor(run, restarts, within=60)
    await at(0.7)
    await _drop_connections(run)
    return restarts


# -- measuring ----------------------------------------------------------------------------------------------------
@dataclass
class Report:
    """What a run measured."""

    due: int
    posted: int
    skipped: int
    lost: int
    duplicates: int
    delays: list[float]
    lag: list[float]
    coalesced: int = 0  # no digest of its own: a late wake-up served a later occurrence, which carried its news
    lost_unserved: int = 0  # neither recorded nor followed by a served occurrence (the rest of `lost`: unsent)
    duplicates_slack: int = 0
    history_lookups: int = 0  # conversations.history calls: Slack retries looking for an earlier post
    unused_faults: tuple[int, int] = (0, 0)  # Slack's and Discord's scripted failures no call reached


def _digest_key(payload: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def _measure(run: Run, slack: FakeSlack, discord_api: FakeDiscord, window: tuple[datetime, datetime]) -> Report:
    database = Database(run.database_url)
    with database.session() as session:
        subscriptions = list(session.scalars(select(Subscription)))
        deliveries = {
            (delivery.subscription_id, delivery.occurrence_key): delivery
            for delivery in session.scalars(select(Delivery))
        }
        lag_rows = session.execute(
            select(Article.fetched_at, ArticleAnalysis.processed_at)
            .join(ArticleAnalysis, ArticleAnalysis.article_id == Article.id)
            .where(Article.fetched_at >= window[0] - timedelta(minutes=2))
        ).all()
        unprocessed = session.scalar(
            select(func.count())
            .select_from(Article)
            .outerjoin(ArticleAnalysis, ArticleAnalysis.article_id == Article.id)
            .where(ArticleAnalysis.article_id.is_(None))
        )
    database.dispose()
    due = posted = skipped = lost = coalesced = unserved = 0
    delays = []
    served = (DeliveryStatus.SENT, DeliveryStatus.SKIPPED)
    for subscription in subscriptions:
        schedule = Schedule.parse(subscription.schedule, subscription.timezone)
        moments = []
        moment = schedule.next_occurrence(window[0] - timedelta(seconds=1))
        while moment < window[1]:
            moments.append(moment)
            moment = schedule.next_occurrence(moment)
        found = [deliveries.get((subscription.id, moment.strftime("%Y-%m-%dT%H:%MZ"))) for moment in moments]
        for number, (moment, delivery) in enumerate(zip(moments, found, strict=True)):
            due += 1
            if delivery is None:
                # Folded into the next occurrence that has a digest, if that one was served: the digest composed
                # then picks from everything the channel has not been sent yet, this occurrence's news included.
                later = next((other for other in found[number + 1 :] if other is not None), None)
                if later is not None and later.status in served:
                    coalesced += 1
                else:
                    lost += 1
                    unserved += 1
            elif delivery.status in (DeliveryStatus.PENDING, DeliveryStatus.FAILED):
                lost += 1
            elif delivery.status is DeliveryStatus.SKIPPED:
                skipped += 1
            else:
                posted += 1
                assert delivery.sent_at is not None
                delays.append((delivery.sent_at - moment).total_seconds())
    # What the platforms accepted: top-level Slack posts (continuations go to a thread) and Discord messages.
    accepted_slack: Counter[tuple[object, str]] = Counter(
        (call.payload.get("channel"), _digest_key({k: call.payload.get(k) for k in ("text", "blocks")}))
        for call in slack.posts
        if not call.payload.get("thread_ts")
    )
    accepted_discord: Counter[tuple[object, str]] = Counter()
    for channel, messages in discord_api.posted.items():
        accepted_discord.update((channel, _digest_key({"c": m["content"], "e": m["embeds"]})) for m in messages)
    duplicates_slack = sum(count - 1 for count in accepted_slack.values())
    duplicates = duplicates_slack + sum(count - 1 for count in accepted_discord.values())
    lag = [(processed - fetched).total_seconds() for fetched, processed in lag_rows]
    print(f"articles stored during the run and processed: {len(lag)}; left unprocessed at the end: {unprocessed}")
    return Report(
        due, posted, skipped, lost, duplicates, delays, lag, coalesced, unserved, duplicates_slack,
        len(slack.api("conversations.history")),
        (slack.unused_faults("chat.postMessage"), sum(failure.times for failure in discord_api.any_channel)),
    )  # fmt: skip


def _percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _print(run: Run, report: Report, feeds: Feeds, slack: FakeSlack) -> None:
    plan = run.plan
    print()
    print(f"== soak: {plan.webs} web, {plan.workers} workers, {plan.processors} processors; {plan.feeds} feeds "
          f"(+1 that hangs), {plan.subscriptions} subscriptions, digests every {plan.interval} min "
          f"for {plan.minutes} min ==")  # fmt: skip
    for event in run.events:
        print(f"  {event}")
    print(
        f"digests due {report.due}: posted {report.posted}, skipped (nothing new) {report.skipped}, "
        f"coalesced into a later digest {report.coalesced}, lost {report.lost}"
    )
    print(
        f"duplicates {report.duplicates} (must be 0; Slack {report.duplicates_slack}, Discord "
        f"{report.duplicates - report.duplicates_slack}); lost {report.lost} (must be 0; "
        f"{report.lost - report.lost_unserved} recorded but unsent, {report.lost_unserved} never served)"
    )
    print(
        f"delay due -> posted: p50 {_percentile(report.delays, 0.5):.1f} s, p95 {_percentile(report.delays, 0.95):.1f}"
        f" s, max {max(report.delays, default=float('nan')):.1f} s"
    )
    print(f"processing lag (stored -> in a story): p50 {_percentile(report.lag, 0.5):.1f} s, "
          f"p95 {_percentile(report.lag, 0.95):.1f} s over {len(report.lag)} articles")  # fmt: skip
    if run.command_latencies:
        print(f"/news brief ack on the web replicas: p50 {1000 * _percentile(run.command_latencies, 0.5):.0f} ms, "
              f"p95 {1000 * _percentile(run.command_latencies, 0.95):.0f} ms over {len(run.command_latencies)}, "
              f"{run.command_failures} failed")  # fmt: skip
    print(f"feed requests served {feeds.hits}; Slack posts accepted {len(slack.posts)}, history look-ups "
          f"{report.history_lookups}; Block Kit problems {len(slack.problems)}")  # fmt: skip
    print(f"scripted faults no call reached (left at the end): Slack {report.unused_faults[0]}, Discord "
          f"{report.unused_faults[1]}")  # fmt: skip
    for kind in ("web", "worker", "processor"):
        peaks = [child.peak_rss_kib / 1024 for child in run.of(kind)]
        print(f"peak RSS {kind}: " + ", ".join(f"{peak:.0f} MiB" for peak in peaks))
    if run.loads:
        print(f"load average (1 min) during the run: mean {statistics.mean(run.loads):.1f}, max {max(run.loads):.1f} "
              f"on {os.cpu_count()} cores")  # fmt: skip


async def soak(plan: Plan, server_url: str, *, keep: bool = False) -> Report:
    """Run the soak and return its figures (printed as well)."""
    workdir = Path(tempfile.mkdtemp(prefix="geobrief-soak-"))
    run = Run(plan, server_url, workdir)
    feeds = Feeds(plan.feeds, time.time())
    feed_app = web.Application()
    feed_app.router.add_get("/feed/{feed:\\d+}.xml", feeds.feed)
    feed_runner = web.AppRunner(feed_app, access_log=None)
    await feed_runner.setup()
    await web.TCPSite(feed_runner, "127.0.0.1", 0).start()
    feeds.port = int(feed_runner.addresses[0][1])
    hang_app = web.Application()
    hang_app.router.add_get("/feed/hang.xml", Feeds.hang)
    hang_runner = web.AppRunner(hang_app, access_log=None, shutdown_timeout=0.1)
    await hang_runner.setup()
    await web.TCPSite(hang_runner, "127.0.0.1", 0).start()
    feeds.hang_port = int(hang_runner.addresses[0][1])
    slack, discord_api = FakeSlack(), FakeDiscord()
    await slack.start()
    await discord_api.start()
    discord_api.guilds = GUILDS

    await asyncio.to_thread(_create_database, run)
    stop = asyncio.Event()
    watchers: list[asyncio.Task[None]] = []
    try:
        await asyncio.to_thread(_seed, run, feeds, hanging=not plan.compact)
        environment = _environment(run, _feeds_file(run, feeds), slack, discord_api)
        if plan.compact:  # the news is in stories before the scheduler starts, so the digests have something to post
            seed_env = {**environment, "FEEDS": str(_feeds_file(run, feeds, hanging=False))}
            with (workdir / "ingest.log").open("wb") as log:
                seeding = await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "bot", "ingest", "--once", cwd=ROOT, env=seed_env, stdout=log, stderr=log
                )
                await seeding.wait()
            run.note(f"python -m bot ingest --once: the feeds' news stored and in stories (exit {seeding.returncode})")
        web_ports = [_free_port() for _ in range(plan.webs)]
        for index in range(plan.workers):
            # PORT: each worker serves its status page on a port of its own
            worker_env = {**environment, "DISCORD_SHARD_IDS": str(index % 2), "PORT": str(_free_port())}
            run.children.append(Child("worker", index, worker_env, workdir / f"worker-{index}.log"))
        for index, port in enumerate(web_ports):
            run.children.append(Child("web", index, {**environment, "PORT": str(port)}, workdir / f"web-{index}.log"))
        for index in range(plan.processors):
            run.children.append(Child("processor", index, environment, workdir / f"processor-{index}.log"))
        watchers.append(asyncio.create_task(_watch(run, stop)))

        def window_from_now() -> tuple[datetime, datetime]:
            start = (datetime.now(UTC) + timedelta(seconds=plan.lead_seconds)).replace(second=0, microsecond=0)
            start += timedelta(minutes=1)
            return start, start + timedelta(minutes=plan.minutes)

        if plan.compact:
            # Subscribed a minute before this minute's digest, which falls due before any scheduler runs: the one
            # that starts serves it at once (a due occurrence is never skipped). No wait for the clock.
            window_start = datetime.now(UTC).replace(second=0, microsecond=0)
            window_end = window_start + timedelta(minutes=plan.minutes)
            await asyncio.to_thread(_subscribe, run, window_start, window_start - timedelta(minutes=1))
            # Queued now, they hit the first posts: the 429s and lost answers the first Slack posts, then the 503s.
            _rate_limits(run, slack, discord_api)
            _lost_answers(run, slack)
            _server_errors(run, slack, discord_api)
            for child in run.children:
                child.start()
            run.note(f"database {run.database_name}; {plan.subscriptions} subscriptions due {window_start:%H:%M} UTC")
            run.note(f"started {len(run.children)} processes; logs in {workdir}")
        else:
            first_worker = run.of("worker")[0]
            first_worker.start()  # first, so that it is the one that runs the scheduler
            await _wait_for(lambda: "this process runs the scheduler" in first_worker.log_text(), 300)
            for child in run.children[1:]:
                child.start()
            run.note(f"database {run.database_name}; started {len(run.children)} processes; logs in {workdir}")
        if not await _wait_for(lambda: all(_ready(child) for child in run.children), 600, step=2):
            raise RuntimeError("the processes did not get ready within 10 minutes; see their logs in " + str(workdir))
        if plan.compact:
            run.note("all processes ready")
        else:
            window_start, window_end = window_from_now()
            await asyncio.to_thread(_subscribe, run, window_start)
            run.note(
                f"all processes ready; {plan.subscriptions} subscriptions due "
                f"{window_start:%H:%M}-{window_end:%H:%M} UTC"
            )
        if web_ports:
            watchers.append(asyncio.create_task(_send_commands(run, web_ports, slack, stop)))
        restarts = await _faults(run, slack, discord_api, window_start.timestamp())
        if not plan.compact:
            await asyncio.sleep(max(0.0, window_end.timestamp() - time.time()))
            run.note("schedule window over; waiting for the outbox to drain")
        await asyncio.gather(*restarts)
        if plan.compact:  # every subscription is due once: drained when each is recorded and none is pending
            drained = await _wait_for(
                lambda: _recorded(run) >= plan.subscriptions and _pending(run) == 0, plan.drain_seconds, step=1
            )
        else:
            drained = await _wait_for(lambda: _pending(run) == 0, plan.drain_seconds, step=3)
            await asyncio.sleep(5)  # a digest job of the last minute may still be composing
        run.note("outbox drained" if drained else f"outbox not drained after {plan.drain_seconds:.0f} s")
        for child in run.children:
            if not child.alive and child.process is not None and child.kills == 0:
                run.note(f"{child.name} exited by itself with code {child.process.returncode}")
        report = await asyncio.to_thread(_measure, run, slack, discord_api, (window_start, window_end))
        _print(run, report, feeds, slack)
        return report
    finally:
        stop.set()
        await asyncio.gather(*watchers, return_exceptions=True)
        for child in run.children:
            child.stop()
        await slack.stop()
        await discord_api.stop()
        await feed_runner.cleanup()
        await hang_runner.cleanup()
        if not keep:
            await asyncio.to_thread(_drop_database, run)


READY = {
    "worker": ("scheduler started", "another worker runs the scheduler"),
    "web": ("Slack: HTTP mode",),
    "processor": ("processor ready",),
}


def _ready(child: Child) -> bool:
    """Whether the process has logged that it is up (its model loaded, its platforms connected)."""
    return any(line in child.log_text() for line in READY[child.kind])


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _recorded(run: Run) -> int:
    """How many occurrences the digest jobs have recorded in the outbox."""
    database = Database(run.database_url)
    try:
        with database.session() as session:
            return int(session.scalar(select(func.count()).select_from(Delivery)) or 0)
    finally:
        database.dispose()


def _sending(run: Run) -> int:
    """Deliveries claimed within the last 30 s (a claim leases a delivery for SEND_LEASE; a backoff is shorter)."""
    database = Database(run.database_url)
    try:
        with database.session() as session:
            query = (
                select(func.count())
                .select_from(Delivery)
                .where(Delivery.status == DeliveryStatus.PENDING, Delivery.attempts > 0)
                .where(Delivery.next_attempt_at > datetime.now(UTC) + SEND_LEASE - timedelta(seconds=30))
            )
            return int(session.scalar(query) or 0)
    finally:
        database.dispose()


def _pending(run: Run) -> int:
    database = Database(run.database_url)
    try:
        with database.session() as session:
            query = select(func.count()).select_from(Delivery).where(Delivery.status == DeliveryStatus.PENDING)
            return int(session.scalar(query) or 0)
    finally:
        database.dispose()


def main(argv: list[str] | None = None) -> int:
    """Parse the command line, run the soak, exit 1 when a digest was lost or duplicated."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.soak", description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="the small version that CI runs")
    parser.add_argument("--minutes", type=int, help="length of the schedule window")
    parser.add_argument("--interval", type=int, help="minutes between two digests of one subscription")
    parser.add_argument("--feeds", type=int)
    parser.add_argument("--subscriptions", type=int)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("SOAK_DATABASE_URL", DEFAULT_SERVER),
        help="a PostgreSQL server (any database on it): the soak creates and drops a database of its own",
    )
    parser.add_argument("--keep", action="store_true", help="keep the soak's database afterwards")
    args = parser.parse_args(argv)
    plan = SMOKE if args.smoke else FULL
    overrides = {name: getattr(args, name) for name in ("minutes", "interval", "feeds", "subscriptions")}
    plan = Plan(**{**plan.__dict__, **{name: value for name, value in overrides.items() if value is not None}})
    report = asyncio.run(soak(plan, args.database_url, keep=args.keep))
    return 1 if report.lost or report.duplicates or not report.posted else 0


if __name__ == "__main__":
    sys.exit(main())
