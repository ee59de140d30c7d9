"""Following stories a channel has: updates when new coverage arrives, and breaking alerts.

An update is due when a story the channel was sent has coverage it was not told of, and that coverage adds a new
outlet, a new publisher country, or a new fact: a sentence not similar (`summarizer.coverage`) to any sentence
already delivered to the channel. The update holds only that: the new facts, each citing its article, and the new
outlets and countries. It is an outbox delivery like a digest (kind "update", keyed by the occurrence and the
story), posted as a reply in the thread of the message that carried the story.

A breaking alert is a story the channel has not had that crossed its subscription's `AlertRule` (enough outlets
or publisher countries within the window); it is posted at once, keyed by the story ("alert-<id>", so never
twice), and claims the story like a digest does, so the next digest does not repeat it.

What the channel knows of each story lives on its `DeliveredStory` row (articles, sentences, the message id),
written in the transaction that records the delivery. No model runs here: sentence vectors were stored when the
articles were processed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.digests.model import Digest, DigestItem, FollowUp, SourceLink, SummaryLine
from bot.digests.outbox import StoryCoverage
from bot.digests.subscriptions import AlertRule
from bot.intelligence.briefing import story_briefs, story_signals
from bot.intelligence.processing import SENTENCE_DTYPE, from_blob
from bot.storage import Article, DeliveredStory, Delivery, DeliveryStatus, Feed, Story, Subscription, TextKind
from bot.storage.models import ArticleAnalysis
from summarizer.coverage import novel_sentences
from summarizer.extractive import is_boilerplate
from summarizer.ranking import ChannelFilters
from summarizer.story import CANDIDATES_PER_ARTICLE

FOLLOW_WINDOW = timedelta(days=3)  # a story is followed while the channel heard of it this recently
MAX_UPDATE_LINES = 3  # new facts per update
MAX_UPDATE_SOURCES = 8
MIN_FACT_WORDS = 6  # shorter sentences are datelines, captions and fragments, not facts
UPDATE_KEY = "{occurrence}~u{story_id}"
_CHUNK = 500  # ids per IN (...)
ALERT_KEY = "alert-{story_id}"


@dataclass(frozen=True)
class _Coverage:
    article_id: int
    outlet: str
    country: str | None
    title: str
    url: str
    published_at: datetime
    text_kind: TextKind
    is_backlog: bool
    processed_at: datetime


def story_coverage(session: Session, story_ids: Iterable[int]) -> dict[int, StoryCoverage]:
    """What a digest or an alert tells a channel of each story: its processed articles and its summary lines."""
    ids = sorted(set(story_ids))
    if not ids:
        return {}
    articles: dict[int, list[int]] = defaultdict(list)
    query = (
        select(Article.story_id, Article.id)
        .join(ArticleAnalysis, ArticleAnalysis.article_id == Article.id)
        .where(Article.story_id.in_(ids))
    )
    for story_id, article_id in session.execute(query):
        if story_id is not None:
            articles[story_id].append(article_id)
    result = {}
    for story_id, summary in session.execute(select(Story.id, Story.summary).where(Story.id.in_(ids))):
        lines = tuple(
            (int(line["article_id"]), int(line["start"]), int(line["end"]))
            for line in summary
            if isinstance(line, dict) and {"article_id", "start", "end"} <= set(line)
        )
        result[story_id] = StoryCoverage(tuple(sorted(articles.get(story_id, ()))), lines)
    return result


def _coverage_rows(session: Session, story_id: int) -> list[_Coverage]:
    query = (
        select(
            Article.id,
            Article.outlet,
            Feed.country,
            Article.title,
            Article.canonical_url,
            Article.published_at,
            Article.text_kind,
            Article.is_backlog,
            ArticleAnalysis.processed_at,
        )
        .join(ArticleAnalysis, ArticleAnalysis.article_id == Article.id)
        .outerjoin(Feed, Feed.id == Article.feed_id)
        .where(Article.story_id == story_id)
        .order_by(Article.published_at, Article.id)
    )
    return [_Coverage(*row) for row in session.execute(query)]


def _sentence_table(session: Session, article_ids: Iterable[int]) -> dict[int, tuple[str, list[list[int]], np.ndarray]]:
    """Each article's text, indexed sentence spans and their vectors (one row per span)."""
    ids = sorted(set(article_ids))
    if not ids:
        return {}
    query = (
        select(Article.id, Article.text, ArticleAnalysis.sentence_spans, ArticleAnalysis.sentence_vectors)
        .join(ArticleAnalysis, ArticleAnalysis.article_id == Article.id)
        .where(Article.id.in_(ids))
    )
    table = {}
    for article_id, text, spans, blob in session.execute(query):
        vectors = from_blob(blob, SENTENCE_DTYPE)
        dim = len(vectors) // len(spans) if spans else 0
        table[article_id] = (text, spans, vectors.reshape(len(spans), dim) if dim else np.zeros((0, 0)))
    return table


def _known_vectors(session: Session, refs: Sequence[Sequence[int]]) -> list[np.ndarray]:
    """The stored vectors of sentences the channel was sent, (article id, start, end) each; no article text is read."""
    ids = sorted({int(ref[0]) for ref in refs})
    stored: dict[int, tuple[list[list[int]], np.ndarray]] = {}
    for start in range(0, len(ids), _CHUNK):
        query = select(
            ArticleAnalysis.article_id, ArticleAnalysis.sentence_spans, ArticleAnalysis.sentence_vectors
        ).where(ArticleAnalysis.article_id.in_(ids[start : start + _CHUNK]))
        for article_id, spans, blob in session.execute(query):
            vectors = from_blob(blob, SENTENCE_DTYPE)
            stored[article_id] = (spans, vectors.reshape(len(spans), -1) if spans else vectors.reshape(0, 0))
    known = []
    for article_id, begin, _end in refs:
        entry = stored.get(int(article_id))
        if entry is None:
            continue
        spans, matrix = entry
        # the span that holds the sentence's start (summaries and the index split a text alike)
        index = next((i for i, span in enumerate(spans) if span[0] <= begin < span[1]), None)
        if index is not None and index < len(matrix):
            known.append(matrix[index])
    return known


@dataclass(frozen=True)
class PlannedUpdate:
    """An update to record: the digest to post and what it tells the channel."""

    story_id: int
    digest: Digest
    coverage: StoryCoverage


_Line = tuple[_Coverage, int, int, str, np.ndarray]  # article, start, end, text, vector


def plan_updates(
    session: Session, subscription_id: int, now: datetime, *, timezone: str = "UTC", style: str = "short"
) -> list[PlannedUpdate]:
    """The updates a channel is due now: stories it was sent whose new coverage adds an outlet, a country or a fact.

    Only stories whose delivery went out are followed (a pending one has no message to reply to yet), and only
    while the channel heard of them within `FOLLOW_WINDOW`.
    """
    rows = session.execute(
        select(DeliveredStory, Delivery.created_at, Delivery.sent_at, Delivery.platform_message_id)
        .join(Delivery, Delivery.id == DeliveredStory.delivery_id)
        .where(DeliveredStory.subscription_id == subscription_id, Delivery.status == DeliveryStatus.SENT)
    ).all()
    if not any((row.followed_at or created) >= now - FOLLOW_WINDOW for row, created, _sent, _message in rows):
        return []
    known = _known_vectors(session, [tuple(ref) for row, *_ in rows for ref in row.seen_sentences or ()])
    plans = []
    for row, created, sent, message in rows:
        if (row.followed_at or created) < now - FOLLOW_WINDOW:
            continue
        story = session.get(Story, row.story_id)
        if story is None or story.merged_into_id is not None or story.article_count == 0:
            continue
        coverage = _coverage_rows(session, story.id)
        if row.seen_articles is not None:
            seen = set(row.seen_articles)
        else:  # a story that took over articles, or a delivery older than updates: what it held when recorded
            seen = {each.article_id for each in coverage if each.processed_at <= created}
        fresh = [each for each in coverage if each.article_id not in seen and not each.is_backlog]
        if not fresh:
            continue
        old_outlets = {each.outlet for each in coverage if each.article_id in seen}
        old_countries = {each.country for each in coverage if each.article_id in seen and each.country}
        new_outlets = tuple(dict.fromkeys(e.outlet for e in fresh if e.outlet not in old_outlets))
        new_countries = tuple(dict.fromkeys(e.country for e in fresh if e.country and e.country not in old_countries))
        lines = _new_facts(session, fresh, known)
        if not (lines or new_outlets or new_countries):
            continue
        since = row.followed_at or created
        follow_up = FollowUp(
            since=since,
            since_label=_since_label(since, now, ZoneInfo(timezone)),
            first_posted_at=sent or created,
            reply_to=row.message_id or message,
            new_outlets=new_outlets,
            new_countries=new_countries,
        )
        digest = Digest(
            heading=f"Update: {story.title}",
            generated_at=now,
            items=(_update_item(story, fresh, lines),),
            style="detailed" if style == "detailed" else "short",
            kind="update",
            follow_up=follow_up,
        )
        told = StoryCoverage(
            articles=tuple(each.article_id for each in coverage),
            sentences=tuple((each.article_id, start, end) for each, start, end, _t, _v in lines),
        )
        plans.append(PlannedUpdate(story.id, digest, told))
        known += [line[4] for line in lines]  # two updates in one digest run never repeat one fact
    return plans


def _new_facts(session: Session, fresh: Sequence[_Coverage], known: list[np.ndarray]) -> list[_Line]:
    """The sentences of the new articles (their leads, in time order) that state no fact the channel was sent."""
    table = _sentence_table(session, [e.article_id for e in fresh])
    candidates: list[tuple[int, _Coverage, int, int, str, np.ndarray]] = []
    for each in fresh:
        entry = table.get(each.article_id)
        if entry is None:
            continue
        text, spans, matrix = entry
        for index, (start, end) in enumerate(spans[:CANDIDATES_PER_ARTICLE]):
            sentence = text[start:end].strip()
            if len(sentence.split()) >= MIN_FACT_WORDS and not is_boilerplate(sentence):
                candidates.append((index, each, start, end, sentence, matrix[index]))
    if not candidates:
        return []
    # Leads first, across the new articles: each outlet's first new fact before any outlet's second.
    candidates.sort(key=lambda c: (c[0], c[1].published_at, c[1].article_id))
    lines: list[_Line] = [(each, start, end, sentence, vector) for _, each, start, end, sentence, vector in candidates]
    dim = lines[0][4].shape[0]
    matrix = np.stack(known) if known else np.zeros((0, dim), dtype=np.float32)
    novel = novel_sentences(np.stack([line[4] for line in lines]), matrix, limit=len(lines))
    # Round robin over the articles, so each new outlet's first new fact comes before any outlet's second.
    by_article: dict[int, list[_Line]] = defaultdict(list)
    for index in novel:
        by_article[lines[index][0].article_id].append(lines[index])
    rounds = max((len(group) for group in by_article.values()), default=0)
    ordered = [group[turn] for turn in range(rounds) for group in by_article.values() if turn < len(group)]
    return ordered[:MAX_UPDATE_LINES]


def _update_item(story: Story, fresh: Sequence[_Coverage], lines: Sequence[_Line]) -> DigestItem:
    """The update's one item: the new facts citing the new articles, which are its sources (oldest first)."""
    cited = list(dict.fromkeys(line[0].article_id for line in lines))
    others = [each.article_id for each in fresh if each.article_id not in cited]
    by_id = {each.article_id: each for each in fresh}
    shown = sorted(
        (by_id[i] for i in (cited + others)[:MAX_UPDATE_SOURCES]), key=lambda e: (e.published_at, e.article_id)
    )
    position = {each.article_id: index for index, each in enumerate(shown)}
    return DigestItem(
        story_id=story.id,
        title=story.title,
        summary=tuple(SummaryLine(text, position[each.article_id]) for each, _s, _e, text, _v in lines),
        sources=tuple(SourceLink(e.outlet, e.title, e.url, e.published_at, e.text_kind) for e in shown),
        updated_at=max(e.published_at for e in fresh),
    )


def _in_time(each: _Coverage) -> tuple[datetime, int]:
    return each.published_at, each.article_id


def _since_label(since: datetime, now: datetime, zone: ZoneInfo) -> str:
    local = since.astimezone(zone)
    return f"{local:%H:%M}" if local.date() == now.astimezone(zone).date() else f"{local:%a %d %b %H:%M}"


# -- breaking alerts ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PlannedAlert:
    """An alert to record: the story, its digest, and what it tells the channel."""

    story_id: int
    digest: Digest
    coverage: StoryCoverage


def alerts_sent_today(session: Session, subscription_id: int, now: datetime, zone: ZoneInfo) -> int:
    """How many alerts the channel got since its local midnight."""
    local = now.astimezone(zone)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    query = select(func.count()).where(
        Delivery.subscription_id == subscription_id,
        Delivery.occurrence_key.like("alert-%"),
        Delivery.created_at >= midnight,
        Delivery.status != DeliveryStatus.FAILED,
    )
    return int(session.scalar(query) or 0)


def breadth_within(session: Session, since: datetime, now: datetime) -> dict[int, tuple[set[str], set[str]]]:
    """Per story, the outlets and publisher countries of its (non-backlog) articles published since ``since``."""
    query = (
        select(Article.story_id, Article.outlet, Feed.country)
        .join(ArticleAnalysis, ArticleAnalysis.article_id == Article.id)
        .outerjoin(Feed, Feed.id == Article.feed_id)
        .where(
            Article.story_id.is_not(None),
            Article.is_backlog.is_(False),
            Article.published_at >= since,
            Article.published_at <= now,
        )
    )
    breadth: dict[int, tuple[set[str], set[str]]] = defaultdict(lambda: (set(), set()))
    for story_id, outlet, country in session.execute(query):
        if story_id is None:
            continue
        outlets, countries = breadth[story_id]
        outlets.add(outlet)
        if country:
            countries.add(country)
    return dict(breadth)


def plan_alerts(session: Session, subscription: Subscription, now: datetime) -> list[PlannedAlert]:
    """The stories that crossed the subscription's alert rule and that its channel has not had, within the cap.

    Nothing in the quiet hours or once the day's alerts are used up; the same filters as the digest apply.
    """
    if subscription.alerts is None or subscription.paused_reason is not None:
        return []
    rule = AlertRule.from_json(subscription.alerts)
    zone = ZoneInfo(subscription.timezone)
    if rule.is_quiet(now.astimezone(zone).time()):
        return []
    room = rule.per_day - alerts_sent_today(session, subscription.id, now, zone)
    if room <= 0:
        return []
    since = now - timedelta(hours=rule.window_hours)
    breadth = breadth_within(session, since, now)
    crossed = {
        story_id: (len(outlets), len(countries))
        for story_id, (outlets, countries) in breadth.items()
        if len(outlets) >= rule.min_outlets or len(countries) >= rule.min_countries
    }
    if not crossed:
        return []
    had = set(
        session.scalars(
            select(DeliveredStory.story_id).where(
                DeliveredStory.subscription_id == subscription.id, DeliveredStory.story_id.in_(list(crossed))
            )
        )
    )
    filters = ChannelFilters.from_json(subscription.filters)
    signals = {signal.story_id: signal for signal in story_signals(session, since, now) if signal.story_id in crossed}
    eligible = [
        story_id
        for story_id in crossed
        if story_id not in had and story_id in signals and filters.matches(signals[story_id])
    ]
    eligible.sort(key=lambda story_id: (-crossed[story_id][0], -crossed[story_id][1], story_id))
    chosen = eligible[:room]
    coverage = story_coverage(session, chosen)
    alerts = []
    for brief in story_briefs(session, chosen):
        outlets, countries = crossed[brief.story_id]
        heading = (
            f"Breaking: {outlets} outlets from {countries} {'country' if countries == 1 else 'countries'} "
            f"within {rule.window_hours} h"
        )
        digest = Digest(
            heading=heading,
            generated_at=now,
            items=(brief.item,),
            style="detailed" if subscription.style == "detailed" else "short",
            kind="alert",
        )
        alerts.append(PlannedAlert(brief.story_id, digest, coverage[brief.story_id]))
    return alerts
