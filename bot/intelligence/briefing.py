"""Briefs and digest selection: the top stories for a topic, country or region, from the stored story profiles.

No model runs here: stories were clustered, tagged and summarised when their articles were processed.
"""

from __future__ import annotations

import difflib
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import ColumnElement, cast, exists, func, literal, or_, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import InstrumentedAttribute, Session, defer, load_only

from bot.digests.model import DigestItem, RelatedStory, SourceLink, SummaryLine
from bot.errors import UserInputError
from bot.intelligence.processing import VECTOR_DTYPE, from_blob
from bot.intelligence.results import Brief, StoryBrief
from bot.intelligence.search import archive_as_of
from bot.storage import Database
from bot.storage.models import Article, Story, StoryLink, utcnow
from summarizer.languages import language_name
from summarizer.ranking import WORLD, ChannelFilters, ChannelHistory, StorySignals, select_stories
from summarizer.tagging import Gazetteer, TagRef, load_gazetteer

BRIEF_WINDOW = timedelta(days=7)  # stories with coverage this recent can be briefed; recency decay ranks within
BRIEF_STORIES = 5
MAX_BRIEF_STORIES = 20
# A brief ranks at most this many stories of its window, the most widely covered, then the latest: at 300,000
# articles a week holds 50,000 stories, and reading them all costs seconds. (Digests read all: they skip what the
# channel already had.)
BRIEF_CANDIDATES = 500
MAX_SOURCES = 8  # sources listed per story (newest first); outlet_count still counts them all
MAX_RELATED = 3  # storyline links shown per story in a brief
MAX_QUERY_CHARS = 100
SUGGESTIONS = 5
EVERYTHING = frozenset({"all", "everything", "world", "top", "news"})  # words that mean "no filter"


def resolve_filters(query: str, gazetteer: Gazetteer | None = None) -> tuple[ChannelFilters, str]:
    """Understand a brief's argument: "" (everything), a topic, a country or a region, or a topic and a place.

    Returns:
        The filters and a description of them ("nuclear and missiles · Japan"); no filters and "" when the query
        asks for everything.

    Raises:
        UserInputError: the words name no known topic, country or region; the message suggests close names.
    """
    gazetteer = gazetteer or load_gazetteer()
    query = " ".join(query.split())
    if not query or query.lower() in EVERYTHING:
        return ChannelFilters(), ""
    if len(query) > MAX_QUERY_CHARS:
        raise UserInputError(f"A brief topic is limited to {MAX_QUERY_CHARS} characters.")
    refs = _resolve_words(query, gazetteer)
    if refs is None:
        raise UserInputError(_unknown_message(query, gazetteer))
    groups: dict[str, set[str]] = {"country": set(), "region": set(), "topic": set()}
    for ref in refs:
        groups[ref.kind].add(ref.id)
    filters = ChannelFilters(
        countries=frozenset(groups["country"]),
        regions=frozenset(groups["region"]),
        topics=frozenset(groups["topic"]),
    )
    return filters, " · ".join(ref.name for ref in refs)


def _resolve_words(query: str, gazetteer: Gazetteer) -> list[TagRef] | None:
    """The whole query as one name, or split in two names of different kinds ("nuclear Japan", "Sahel conflict")."""
    whole = gazetteer.resolve(query)
    if whole is not None:
        return [whole]
    words = query.split()
    for cut in range(1, len(words)):
        left, right = gazetteer.resolve(" ".join(words[:cut])), gazetteer.resolve(" ".join(words[cut:]))
        if left is not None and right is not None and left.kind != right.kind:
            return [left, right]
    return None


def _unknown_message(query: str, gazetteer: Gazetteer) -> str:
    folded = query.lower()
    names: list[str] = []
    for word in difflib.get_close_matches(folded, gazetteer.vocabulary(), n=SUGGESTIONS * 3, cutoff=0.6):
        ref = gazetteer.resolve(word)
        if ref is not None and ref.name not in names:
            names.append(ref.name)
    hint = f" Did you mean: {', '.join(names[:SUGGESTIONS])}?" if names else ""
    topics = ", ".join(topic.label for topic in gazetteer.topics.values())
    return f"I don't know the topic, country or region {query!r}.{hint} Topics: {topics}."


def primary_region(countries: Sequence[str], regions: Sequence[str], gazetteer: Gazetteer) -> str:
    """The region a story counts for when spreading a digest: the smallest region of its main country."""
    for code in countries[:1]:
        options = [gazetteer.regions[region] for region in gazetteer.regions_of(code)]
        if options:
            return min(options, key=lambda region: (len(region.members), region.id)).id
    for region_id in regions:
        region = gazetteer.regions.get(region_id)
        if region is not None and region.kind == "region":
            return region.id
    return WORLD


def _any_of(session: Session, column: InstrumentedAttribute[list[Any]], values: frozenset[str]) -> ColumnElement[bool]:
    """SQL for "the JSON list in ``column`` holds one of ``values``" on either engine."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(column, JSONB).op("?|")(postgresql.array(sorted(values)))
    members = func.json_each(column).table_valued("value")
    return exists(select(literal(1)).select_from(members).where(members.c.value.in_(sorted(values))))


def story_signals(
    session: Session,
    since: datetime,
    now: datetime,
    gazetteer: Gazetteer | None = None,
    filters: ChannelFilters | None = None,
    candidates: int | None = None,
) -> list[StorySignals]:
    """What ranking needs about every story with coverage between ``since`` and ``now``; with ``filters``, only
    the stories that can pass their country, region and topic groups are read (the ranking still applies them
    all), so that a filtered brief reads a fraction of a large window; with ``candidates``, at most that many,
    the most widely covered first, then the latest (what ranking weighs most)."""
    gazetteer = gazetteer or load_gazetteer()
    # plain rows, not ORM objects: a brief may rank thousands of stories, and objects cost time and GC passes
    query = select(
        Story.id,
        Story.title,
        Story.summary,
        Story.centroid,
        Story.outlets,
        Story.publisher_countries,
        Story.countries,
        Story.regions,
        Story.topics,
        Story.last_published_at,
        Story.language,
    ).where(Story.last_published_at >= since, Story.first_published_at <= now, Story.article_count > 0)
    for values, column in ((filters.countries, Story.countries), (filters.regions, Story.regions),
                           (filters.topics, Story.topics)) if filters is not None else ():  # fmt: skip
        if values:
            query = query.where(_any_of(session, column, values))
    if candidates is not None:
        order = (func.json_array_length(Story.outlets).desc(), Story.last_published_at.desc(), Story.id)
        query = query.order_by(*order).limit(candidates)
    signals = []
    for row in session.execute(query):
        vector = from_blob(row.centroid, VECTOR_DTYPE) if row.centroid else None
        if vector is not None:
            norm = float(np.sqrt(np.einsum("i,i->", vector, vector)))
            vector = vector / norm if norm else None
        summary_text = " ".join(str(line.get("text", "")) for line in row.summary if isinstance(line, dict))
        signals.append(
            StorySignals(
                story_id=row.id,
                outlets=frozenset(row.outlets),
                publisher_countries=frozenset(row.publisher_countries),
                last_published_at=min(row.last_published_at, now),
                region=primary_region(row.countries, row.regions, gazetteer),
                countries=tuple(row.countries),
                regions=tuple(row.regions),
                topics=tuple(row.topics),
                text=f"{row.title} {summary_text}",
                vector=vector,
                language=row.language,
            )
        )
    return signals


def story_briefs(
    session: Session,
    story_ids: Sequence[int],
    scores: Mapping[int, float] | None = None,
    gazetteer: Gazetteer | None = None,
    *,
    with_related: bool = False,
) -> list[StoryBrief]:
    """Full briefs (summary lines citing sources, sources, tag names) for stories, in the order given.

    With ``with_related`` each brief also names the other stories of its storyline (`StoryLink`).
    """
    gazetteer = gazetteer or load_gazetteer()
    if not story_ids:
        return []
    related = _related(session, story_ids) if with_related else {}
    query = select(Story).where(Story.id.in_(story_ids)).options(defer(Story.entities), defer(Story.centroid))
    stories = {story.id: story for story in session.scalars(query)}
    articles = session.scalars(
        select(Article)
        .where(Article.story_id.in_(story_ids))
        .options(load_only(*_SOURCE_COLUMNS))  # not the text: a big story has hundreds of articles
    ).all()
    by_story = {key: list(group) for key, group in itertools.groupby(sorted(articles, key=_story_key), key=_story_key)}
    briefs = []
    for story_id in story_ids:
        story = stories.get(story_id)
        members = sorted(by_story.get(story_id, []), key=lambda a: (a.published_at, a.id), reverse=True)
        if story is None or not members:
            continue
        cited_ids = [line.get("article_id") for line in story.summary if isinstance(line, dict)]
        shown = [a for a in members if a.id in cited_ids]
        shown += [a for a in members if a.id not in cited_ids][: max(MAX_SOURCES - len(shown), 0)]
        shown.sort(key=lambda a: (a.published_at, a.id), reverse=True)
        position = {article.id: index for index, article in enumerate(shown)}
        summary = tuple(
            SummaryLine(text=str(line["text"]), source=position[line["article_id"]])
            for line in story.summary
            if isinstance(line, dict) and line.get("article_id") in position
        )
        briefs.append(
            StoryBrief(
                item=DigestItem(
                    story_id=story.id,
                    title=story.title,
                    summary=summary,
                    sources=tuple(
                        SourceLink(a.outlet, a.title, a.canonical_url, a.published_at, a.text_kind) for a in shown
                    ),
                    updated_at=members[0].published_at,  # the newest coverage, not when it was processed
                    countries=tuple(gazetteer.country_name(code) for code in story.countries),
                    regions=tuple(gazetteer.region_name(region) for region in story.regions),
                    topics=tuple(gazetteer.topic_label(topic) for topic in story.topics),
                    related=related.get(story.id, ()),
                    language=story.language,
                    all_outlets=len(story.outlets),
                ),
                outlet_count=len(story.outlets),
                country_count=len(story.publisher_countries),
                score=round((scores or {}).get(story.id, 0.0), 4),
            )
        )
    return briefs


def _related(session: Session, story_ids: Sequence[int]) -> dict[int, tuple[RelatedStory, ...]]:
    """The storyline links of the stories: the other story's id and title, most alike first."""
    ids = list(story_ids)
    links = session.execute(
        select(StoryLink.story_id, StoryLink.related_id, StoryLink.score).where(
            or_(StoryLink.story_id.in_(ids), StoryLink.related_id.in_(ids))
        )
    ).all()
    others: dict[int, list[tuple[float, int]]] = {}
    for a, b, score in links:
        if a in ids:
            others.setdefault(a, []).append((score, b))
        if b in ids:
            others.setdefault(b, []).append((score, a))
    wanted = {other for pairs in others.values() for _, other in pairs}
    query = select(Story.id, Story.title).where(Story.id.in_(wanted), Story.article_count > 0)
    titles = {story_id: title for story_id, title in session.execute(query)}
    return {
        story_id: tuple(
            RelatedStory(other, titles[other])
            for _, other in sorted(pairs, reverse=True)[:MAX_RELATED]
            if other in titles
        )
        for story_id, pairs in others.items()
    }


_SOURCE_COLUMNS = (
    Article.id,
    Article.story_id,
    Article.title,
    Article.outlet,
    Article.canonical_url,
    Article.published_at,
    Article.text_kind,
)


def _story_key(article: Article) -> int:
    return article.story_id or 0


def select_digest_stories(
    database: Database,
    *,
    now: datetime | None = None,
    window: timedelta = BRIEF_WINDOW,
    limit: int = BRIEF_STORIES,
    filters: ChannelFilters | Mapping[str, object] | None = None,
    delivered: Mapping[int, datetime] | None = None,
) -> list[StoryBrief]:
    """The stories a channel should get now: filtered, novel for the channel, important, spread across regions.

    Args:
        database: the database.
        now: the digest time (default: now).
        window: only stories with coverage within this window are candidates.
        limit: the channel's item budget.
        filters: the channel's filters (a `ChannelFilters` or the ``Subscription.filters`` JSON).
        delivered: story id -> when the channel last received it (see the ``delivered_stories`` table).

    Returns:
        Story briefs in the order to post them.
    """
    now = now or utcnow()
    if filters is not None and not isinstance(filters, ChannelFilters):
        filters = ChannelFilters.from_json(filters)
    history = ChannelHistory(delivered or {})
    with database.session() as session:
        ranked = select_stories(story_signals(session, now - window, now), now, limit, filters, history)
        return story_briefs(session, [item.story_id for item in ranked], {item.story_id: item.score for item in ranked})


def brief(
    database: Database,
    query: str = "",
    *,
    now: datetime | None = None,
    limit: int = BRIEF_STORIES,
    window: timedelta = BRIEF_WINDOW,
    languages: Sequence[str] = (),
) -> Brief:
    """The top stories for a topic, country or region ("" for everything), with summaries and sources.

    Args:
        database: the database (articles must have been processed).
        query: a topic ("nuclear"), country ("Japan", "the Kremlin"), region or bloc ("Sahel", "NATO"), or a topic
            and a place ("sanctions Russia").
        now: the time of the brief (default: now).
        limit: how many stories (1 to 20).
        window: how recent a story's coverage must be.
        languages: only stories in these languages (ISO 639-1 codes; empty: all).

    Returns:
        A `Brief`; its ``message`` says so when no story matches.

    Raises:
        UserInputError: the query names nothing known (the message suggests close names).
    """
    filters, description = resolve_filters(query)
    if languages:
        filters = replace(filters, languages=frozenset(code.lower() for code in languages))
        named = ", ".join(language_name(code) for code in languages)
        description = f"{description} · {named}" if description else named
    now = now or utcnow()
    limit = max(1, min(limit, MAX_BRIEF_STORIES))
    with database.session() as session:
        as_of = archive_as_of(session, now)
        signals = story_signals(session, now - window, now, filters=filters, candidates=BRIEF_CANDIDATES)
        ranked = select_stories(signals, now, limit, filters)
        stories = story_briefs(
            session,
            [item.story_id for item in ranked],
            {item.story_id: item.score for item in ranked},
            with_related=True,
        )
    days = max(1, round(window.total_seconds() / 86400))
    about = f" on {description}" if description else ""
    message = "" if stories else f"No stories{about} in the last {days} days."
    return Brief(query, description, tuple(stories), as_of, message)
