"""One story in full (`/news story <id or words>`): its timeline, related storylines, and how each outlet tells it.

- Timeline: the first report, then each other outlet's first report, in time order, with its headline and time.
- How it is told: for each outlet (with its publisher country), its headline and its most distinctive sentence,
  the one least similar to anything the other outlets carry (`summarizer.coverage.distinctive_sentences`).
- Facts only some outlets report: facts (sentences at the same-fact similarity) carried by some outlets and not
  all, each cited, with the outlets that carry it.

No model runs here: the sentence vectors were stored when the articles were processed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.digests.model import DigestItem, RelatedStory
from bot.errors import UserInputError
from bot.intelligence.briefing import story_briefs
from bot.intelligence.fulltext import lexical_candidates, term_counts_of
from bot.intelligence.processing import SENTENCE_DTYPE, from_blob
from bot.storage import Article, Database, Feed, Story, TextKind
from bot.storage.models import ArticleAnalysis, utcnow
from summarizer.coverage import distinctive_sentences, partial_facts
from summarizer.extractive import is_boilerplate
from summarizer.retrieval import tokenize
from summarizer.story import CANDIDATES_PER_ARTICLE

MAX_TIMELINE = 15  # outlets' first reports listed; the rest are counted
MAX_TELLINGS = 10  # outlets whose account is shown
ARTICLES_PER_OUTLET = 3  # an outlet's account: its first few articles on the story
MAX_PARTIAL_FACTS = 5
MIN_SENTENCE_WORDS = 6
MAX_QUERY_CHARS = 200
OTHER_MATCHES = 3
SEARCHED_ARTICLES = 200  # articles the full-text index ranks best for the words; their stories are compared
MAX_MERGE_HOPS = 10


@dataclass(frozen=True)
class Report:
    """One article in a story's timeline or account."""

    outlet: str
    country: str | None
    title: str
    url: str
    published_at: datetime
    text_kind: TextKind


@dataclass(frozen=True)
class Telling:
    """How one outlet tells the story: its (first) headline and its most distinctive sentence, if any."""

    report: Report
    sentence: str | None  # None when the outlet has no sentence of its own (a teaser-only item, or the only outlet)
    sentence_report: Report | None = None  # the article the sentence is from, for its citation


@dataclass(frozen=True)
class PartialFact:
    """A fact some outlets report and others do not: the sentence, the report it is quoted from, who carries it."""

    text: str
    report: Report
    outlets: tuple[str, ...]


@dataclass(frozen=True)
class StoryView:
    """A story in full, ready for any platform to render."""

    item: DigestItem  # title, summary lines citing sources, tags, related storylines
    timeline: tuple[Report, ...]  # first report, then each other outlet's first, in time order
    more_outlets: int  # outlets beyond the timeline's length
    tellings: tuple[Telling, ...]
    partial_facts: tuple[PartialFact, ...]
    outlet_count: int
    country_count: int
    as_of: datetime
    query: str = ""
    merged_from: int | None = None  # the id asked for, when that story became part of this one
    other_matches: tuple[RelatedStory, ...] = ()  # other stories the words match

    @property
    def story_id(self) -> int:
        """The story's id."""
        return self.item.story_id

    @property
    def related(self) -> tuple[RelatedStory, ...]:
        """Other stories of the same storyline."""
        return self.item.related


def find_story(session: Session, query: str) -> tuple[int, int | None, list[int]]:
    """The story a user means: an id (following merges), or the story whose articles best match the words.

    Returns:
        The story id, the id asked for when it was merged into that story, and other matching story ids.

    Raises:
        UserInputError: nothing matches.
    """
    text = " ".join(query.split()).removeprefix("#")
    if not text:
        raise UserInputError("Which story? Give its number (from a digest) or a few words from its headline.")
    if len(text) > MAX_QUERY_CHARS:
        raise UserInputError(f"Keep it under {MAX_QUERY_CHARS} characters: a story number or a few words.")
    if text.isdigit():
        story_id, asked = int(text), int(text)
        for _ in range(MAX_MERGE_HOPS):
            story = session.get(Story, story_id)
            if story is None:
                raise UserInputError(f"There is no story {asked}.")
            if story.merged_into_id is None:
                break
            story_id = story.merged_into_id
        if story is None or story.article_count == 0:
            raise UserInputError(f"Story {asked} has no articles any more.")
        return story_id, (asked if story_id != asked else None), []
    terms = sorted(set(tokenize(text)))
    if not terms:
        raise UserInputError("Give a story number or some words from its headline.")
    # The stories of the articles the full-text index ranks best; a story's score is how many of the words its
    # articles hold together, then the most recent.
    articles = lexical_candidates(session, terms, None, utcnow(), SEARCHED_ARTICLES).best
    found = term_counts_of(session, articles, terms)
    matched: dict[int, set[str]] = {}
    latest: dict[int, float] = {}
    for article_id, owner, last in session.execute(
        select(Article.id, Story.id, Story.last_published_at)
        .join(Story, Story.id == Article.story_id)
        .where(Article.id.in_(list(found)), Story.article_count > 0)
    ):
        matched.setdefault(owner, set()).update(found[article_id])
        latest[owner] = last.timestamp() if last else 0.0
    ranked = sorted(matched, key=lambda story: (-len(matched[story]), -latest[story], -story))[: 1 + OTHER_MATCHES]
    if not ranked or len(matched[ranked[0]]) < max(1, (len(terms) + 1) // 2):  # most of the words must be there
        raise UserInputError(f"I found no story matching {text!r}. Try a story number from a digest, or other words.")
    return ranked[0], None, ranked[1:]


def story_view(database: Database, query: str, *, now: datetime) -> StoryView:
    """The story the user asked for, in full (see the module docstring).

    Raises:
        UserInputError: no story matches the id or the words.
    """
    with database.session() as session:
        story_id, merged_from, others = find_story(session, query)
        (brief,) = story_briefs(session, [story_id], with_related=True)
        reports = _reports(session, story_id)
        firsts: dict[str, Report] = {}
        for _, report in reports:
            firsts.setdefault(report.outlet, report)
        timeline = sorted(firsts.values(), key=lambda r: r.published_at)
        tellings, facts = _accounts(session, reports, timeline)
        titles = {
            row.id: row.title for row in session.execute(select(Story.id, Story.title).where(Story.id.in_(others)))
        }
    return StoryView(
        item=brief.item,
        timeline=tuple(timeline[:MAX_TIMELINE]),
        more_outlets=max(0, len(timeline) - MAX_TIMELINE),
        tellings=tuple(tellings),
        partial_facts=tuple(facts),
        outlet_count=brief.outlet_count,
        country_count=brief.country_count,
        as_of=now,
        query=query,
        merged_from=merged_from,
        other_matches=tuple(RelatedStory(other, titles[other]) for other in others if other in titles),
    )


def _reports(session: Session, story_id: int) -> list[tuple[int, Report]]:
    query = (
        select(
            Article.id,
            Article.outlet,
            Feed.country,
            Article.title,
            Article.canonical_url,
            Article.published_at,
            Article.text_kind,
        )
        .outerjoin(Feed, Feed.id == Article.feed_id)
        .where(Article.story_id == story_id)
        .order_by(Article.published_at, Article.id)
    )
    return [(row[0], Report(*row[1:])) for row in session.execute(query)]


def _accounts(
    session: Session, reports: Sequence[tuple[int, Report]], timeline: Sequence[Report]
) -> tuple[list[Telling], list[PartialFact]]:
    """Each outlet's distinctive sentence, and the facts only some outlets carry."""
    outlets = [report.outlet for report in timeline[:MAX_TELLINGS]]
    chosen: dict[str, list[int]] = {outlet: [] for outlet in outlets}
    by_id = dict(reports)
    for article_id, report in reports:
        if report.outlet in chosen and len(chosen[report.outlet]) < ARTICLES_PER_OUTLET:
            chosen[report.outlet].append(article_id)
    ids = [article_id for group in chosen.values() for article_id in group]
    rows = session.execute(
        select(Article.id, Article.text, ArticleAnalysis.sentence_spans, ArticleAnalysis.sentence_vectors)
        .join(ArticleAnalysis, ArticleAnalysis.article_id == Article.id)
        .where(Article.id.in_(ids))
    ).all()
    pool: list[tuple[int, int, str, int, np.ndarray]] = []  # position, outlet index, text, article id, vector
    for article_id, text, spans, blob in rows:
        if not spans:
            continue
        vectors = from_blob(blob, SENTENCE_DTYPE)
        matrix = vectors.reshape(len(spans), len(vectors) // len(spans))
        group = outlets.index(by_id[article_id].outlet)
        for position, ((start, end), vector) in enumerate(zip(spans[:CANDIDATES_PER_ARTICLE], matrix, strict=False)):
            sentence = text[start:end].strip()
            if len(sentence.split()) >= MIN_SENTENCE_WORDS and not is_boilerplate(sentence):
                pool.append((position, group, sentence, article_id, vector))
    pool.sort(key=lambda entry: (entry[0], entry[1]))  # leads first, earlier outlets first
    if pool:
        vectors = np.stack([entry[4] for entry in pool])
        groups = [entry[1] for entry in pool]
        distinct = distinctive_sentences(vectors, groups)
        partial = partial_facts(vectors, groups, limit=MAX_PARTIAL_FACTS + len(distinct))
    else:
        distinct, partial = {}, []
    tellings = []
    for index, outlet in enumerate(outlets):
        first = next(report for report in timeline if report.outlet == outlet)
        pick = distinct.get(index)
        if pick is None:
            tellings.append(Telling(first, None))
        else:
            tellings.append(Telling(first, pool[pick][2], by_id[pool[pick][3]]))
    taken = set(distinct.values())
    facts = [
        PartialFact(
            pool[fact.sentence][2], by_id[pool[fact.sentence][3]], tuple(outlets[g] for g in sorted(fact.groups))
        )
        for fact in partial
        if fact.sentence not in taken
    ][:MAX_PARTIAL_FACTS]
    return tellings, facts
