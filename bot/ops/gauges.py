"""The /metrics registry: this process's counters (`bot.ops.metrics`) and gauges read from the database at scrape
time (`DatabaseCollector`: a few small queries over covering indexes)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import datetime

from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError

from bot.ops.status import read_figures
from bot.storage import Database, TextKind, utcnow

log = logging.getLogger(__name__)


class DatabaseCollector(Collector):
    """Gauges computed from the database at scrape time: articles, processing lag, stories, outbox, feeds."""

    def __init__(self, database: Database, clock: Callable[[], datetime] = utcnow) -> None:
        self.database = database
        self.clock = clock

    def describe(self) -> list[Metric]:
        """Nothing up front: the gauges are only known once the database answers."""
        return []

    def collect(self) -> Iterator[Metric]:
        """Read the figures (a few small queries over indexes) and yield them as gauges."""
        up = GaugeMetricFamily("geobrief_database_up", "Whether the database answered this scrape (1) or not (0).")
        try:
            figures = read_figures(self.database)
        except SQLAlchemyError as error:
            log.warning("metrics: the database did not answer: %s", type(error).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        articles = GaugeMetricFamily("geobrief_articles", "Stored articles by text kind.", labels=["text_kind"])
        for kind in TextKind:
            articles.add_metric([kind.value], figures.articles.get(kind.value, 0))
        yield articles
        yield GaugeMetricFamily(
            "geobrief_articles_unprocessed",
            "Articles waiting to be tagged, embedded and clustered.",
            figures.unprocessed,
        )
        yield GaugeMetricFamily(
            "geobrief_processing_lag_seconds",
            "Age of the oldest article waiting to be processed (0 when none waits).",
            figures.processing_lag(self.clock()),
        )
        yield GaugeMetricFamily("geobrief_stories", "Stories in the archive.", figures.stories)
        feeds = GaugeMetricFamily("geobrief_feeds", "Polled feeds by health.", labels=["status"])
        for status in ("ok", "new", "erroring", "failing"):
            feeds.add_metric([status], figures.feeds.get(status, 0))
        yield feeds
        outbox = GaugeMetricFamily(
            "geobrief_outbox_deliveries",
            "Deliveries in the outbox by platform and status.",
            labels=["platform", "status"],
        )
        for (platform, status), count in sorted(figures.deliveries.items()):
            outbox.add_metric([platform, status], count)
        yield outbox
        subscriptions = GaugeMetricFamily(
            "geobrief_subscriptions", "Subscribed channels by platform and state.", labels=["platform", "state"]
        )
        for (platform, state), count in sorted(figures.subscriptions.items()):
            subscriptions.add_metric([platform, state], count)
        yield subscriptions


class _ProcessMetrics(Collector):
    """This process's counters and histograms (and the client's process and Python collectors)."""

    def collect(self) -> Iterator[Metric]:
        """Everything in the client's default registry."""
        yield from REGISTRY.collect()


def metrics_registry(database: Database, clock: Callable[[], datetime] = utcnow) -> CollectorRegistry:
    """A registry with this process's metrics and the database gauges, for one /metrics endpoint."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_ProcessMetrics())
    registry.register(DatabaseCollector(database, clock))
    return registry


def render_metrics(registry: CollectorRegistry) -> bytes:
    """The registry in the Prometheus text format (version 0.0.4)."""
    return generate_latest(registry)
