"""Prometheus metrics: counters and histograms updated where things happen, gauges read from the database when
Prometheus scrapes.

The hooks, one call at each place where something happens:

- ingestion: `record_feed_result` for every feed of a pass;
- the outbox: `record_delivery` when a delivery is recorded, sent, postponed for a retry or fails;
- commands: `observe_command` in each platform adapter's one command path (Slack's `NewsCommands.handle`,
  Discord's `NewsTree`);
- the scheduler: `watch_scheduler` adds a listener for runs, errors and misfires.

Counters live in this process (each process exposes its own); the gauges (`bot.ops.gauges`) read the shared
database at scrape time, so every process reports the same values for them. Label values come from short fixed
lists (outcomes, statuses, platforms, command names, job kinds): never a feed URL, a channel or a user.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import Protocol

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    JobEvent,
)
from apscheduler.schedulers.base import BaseScheduler
from prometheus_client import Counter, Histogram

from bot.storage import DeliveryStatus

COMMAND_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)  # acks are fast; answers wait on models

FEED_POLLS = Counter(
    "geobrief_feed_polls_total", "Feed polls by outcome: ok, not_modified, failed, backing_off.", ["outcome"]
)
FEED_ITEMS = Counter(
    "geobrief_feed_items_total",
    "Feed items by what became of them: new, backlog, duplicate, too_old, unusable.",
    ["fate"],
)
DELIVERIES = Counter(
    "geobrief_deliveries_total",
    "Outbox events by platform and status: pending (recorded), skipped (nothing new), sent, retry (a transient "
    "platform error; stays pending), failed (channel unavailable; the subscription is paused).",
    ["platform", "status"],
)
COMMAND_SECONDS = Histogram(
    "geobrief_command_duration_seconds",
    "Time from receiving a slash command to its last reply, by platform and command.",
    ["platform", "command"],
    buckets=COMMAND_BUCKETS,
)
COMMAND_ERRORS = Counter(
    "geobrief_command_errors_total",
    "Commands that ended in an error: refused (bad input, not allowed) or failed (a bug or an outage).",
    ["platform", "command", "kind"],
)
JOB_RUNS = Counter(
    "geobrief_job_runs_total", "Scheduler job runs by job kind and outcome (ok, error).", ["job", "outcome"]
)
JOB_MISFIRES = Counter(
    "geobrief_job_misfires_total",
    "Job runs that did not happen: missed (past its grace time) or overlapping (the previous run still going).",
    ["job", "reason"],
)

_FEED_FATES = ("new", "backlog", "duplicate", "too_old", "unusable")


class FeedCounts(Protocol):
    """What a feed's poll reports (`bot.news.ingest.FeedResult`: its outcome and one count per fate in
    `_FEED_FATES`); a Protocol, so this module imports no floor above storage and every floor may call it."""

    @property
    def outcome(self) -> Enum:
        """How the poll went."""
        ...


def record_feed_result(result: FeedCounts) -> None:
    """Count one feed's poll and what became of its items."""
    FEED_POLLS.labels(result.outcome.name.lower()).inc()
    for fate in _FEED_FATES:
        count = int(getattr(result, fate))
        if count:
            FEED_ITEMS.labels(fate).inc(count)


def record_delivery(platform: str, status: DeliveryStatus | str) -> None:
    """Count a delivery reaching `status` (a DeliveryStatus, or "retry" for a postponed attempt)."""
    DELIVERIES.labels(platform, str(status)).inc()


def observe_command(platform: str, command: str, seconds: float, error: str | None = None) -> None:
    """Record one command's duration, and its error kind ("refused" or "failed") when it did not succeed."""
    COMMAND_SECONDS.labels(platform, command).observe(seconds)
    if error is not None:
        COMMAND_ERRORS.labels(platform, command, error).inc()


def watch_scheduler(scheduler: BaseScheduler, kind: Callable[[str], str]) -> None:
    """Count the scheduler's job runs, errors and misfires, labelled by `kind(job_id)`."""

    def on_event(event: JobEvent) -> None:
        job = kind(event.job_id)
        if event.code == EVENT_JOB_EXECUTED:
            JOB_RUNS.labels(job, "ok").inc()
        elif event.code == EVENT_JOB_ERROR:
            JOB_RUNS.labels(job, "error").inc()
        elif event.code == EVENT_JOB_MISSED:
            JOB_MISFIRES.labels(job, "missed").inc()
        elif event.code == EVENT_JOB_MAX_INSTANCES:
            JOB_MISFIRES.labels(job, "overlapping").inc()

    scheduler.add_listener(on_event, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES)
