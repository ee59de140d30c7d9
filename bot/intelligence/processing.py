"""Process stored articles: tag them, embed them, index their words and sentences, and group them into stories.

Everything costly is done here, once per article, so that questions and briefs only read what is stored:
`ArticleAnalysis` (tags, the article vector, sentence offsets and vectors), the word index (the database's full-text
index, `bot.intelligence.fulltext`) and
the story profile columns of `Story` (centroid, outlets, countries, tags, title and summary).
"""

from __future__ import annotations

import logging
import math
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.intelligence.clustering import link_related, recluster
from bot.intelligence.fulltext import index_terms
from bot.news.normalize import detect_language
from bot.storage import Database
from bot.storage.models import Article, ArticleAnalysis, Feed, Story, utcnow
from summarizer.answers import name_roots
from summarizer.encoder import TextEncoder, covered_languages
from summarizer.languages import encoder_covers
from summarizer.results import Sentence, StoryDocument
from summarizer.retrieval import term_counts
from summarizer.sentences import split_sentences
from summarizer.stories import LEAD_SENTENCES, article_vector, representative, weighted_terms
from summarizer.story import lead_summary, summarize_story
from summarizer.tagging import Tagger

log = logging.getLogger(__name__)

BATCH_SIZE = 100  # articles per transaction: a crash loses at most one batch of work
MAX_INDEXED_SENTENCES = 80  # sentences per article kept for questions (and embedded); longer texts are cut
SUMMARY_SENTENCES = 3
MAX_SUMMARY_ARTICLES = 8  # a story summary reads the articles closest to the centroid, at most this many
STORY_TOPIC_SHARE = 0.25  # a story has a topic when at least this share of its articles has it
VECTOR_DTYPE = np.float32
SENTENCE_DTYPE = np.float16  # sentence vectors are many; half precision halves the storage, cosine error ~1e-3


@dataclass(frozen=True)
class ProcessReport:
    """What a processing run did."""

    articles: int
    stories_created: int
    stories_updated: int
    seconds: float


def to_blob(array: np.ndarray, dtype: type[np.generic]) -> bytes:
    """Store an array as raw bytes of ``dtype``."""
    return np.ascontiguousarray(array, dtype=dtype).tobytes()


def from_blob(blob: bytes | None, dtype: type[np.generic], dim: int | None = None) -> np.ndarray:
    """Read an array stored by :func:`to_blob` as float32 (rows of ``dim`` when given)."""
    array = np.frombuffer(blob or b"", dtype=dtype).astype(np.float32)
    return array.reshape(-1, dim) if dim else array


def article_names_text(title: str, text: str) -> str:
    """What an article's names are read from (`summarizer.answers.name_roots`): its headline and its text."""
    return f"{title}\n{text}"


def process_new_articles(
    database: Database,
    encoder: TextEncoder,
    *,
    tagger: Tagger | None = None,
    batch_size: int = BATCH_SIZE,
    limit: int | None = None,
    on_batch: Callable[[int], object] | None = None,
) -> ProcessReport:
    """Tag, embed, index and cluster every stored article that has not been processed yet.

    Articles are taken oldest first, in batches of ``batch_size``, each batch in its own transaction: the batch
    is analysed, then the open window around it is re-clustered (`bot.intelligence.clustering`), and the stories
    that changed get their title, summary, outlets, countries, tags and storyline links recomputed. Safe to call
    again at any time (the scheduler runs it after each ingestion pass); only unprocessed articles are read.

    Args:
        database: the database.
        encoder: the sentence encoder (the same model must be used for questions).
        tagger: the tagger; by default one over ``encoder`` with the bundled aliases.
        batch_size: articles per transaction.
        limit: stop after this many articles (None: all).
        on_batch: called with the number of articles of each finished batch (a progress bar).

    Returns:
        How many articles were processed and how many stories were created and updated.
    """
    started = time.perf_counter()
    tagger = tagger or Tagger(encoder)
    processed = created = 0
    updated: set[int] = set()
    while limit is None or processed < limit:
        size = batch_size if limit is None else min(batch_size, limit - processed)
        with database.session() as session:
            articles = _unprocessed(session, size)
            if not articles:
                break
            terms = _analyse(session, articles, encoder, tagger)
            session.flush()
            for article_id, counts in terms.items():
                index_terms(session, article_id, counts)
            stories_before = session.scalar(select(func.max(Story.id))) or 0
            oldest = min(article.published_at for article in articles)
            touched = recluster(database, session, oldest, covered_languages(encoder))
            _refresh_stories(session, touched, encoder)
            link_related(session, touched)
            new_stories = sum(1 for story_id in touched if story_id > stories_before)
        processed += len(articles)
        created += new_stories
        updated |= touched
        log.info("processed %d articles (%d new stories, %d touched)", len(articles), new_stories, len(touched))
        if on_batch is not None:
            on_batch(len(articles))
    return ProcessReport(processed, created, len(updated), time.perf_counter() - started)


def _unprocessed(session: Session, limit: int) -> list[Article]:
    query = (
        select(Article)
        .outerjoin(ArticleAnalysis, ArticleAnalysis.article_id == Article.id)
        .where(ArticleAnalysis.article_id.is_(None), Article.page_pending.is_(False))  # full text first
        .order_by(Article.published_at, Article.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def _analyse(
    session: Session, articles: Sequence[Article], encoder: TextEncoder, tagger: Tagger
) -> dict[int, Counter[str]]:
    """Store each article's analysis (tags, vectors, sentence index, word profile); return each article's terms
    for the word index (written once the analysis rows are flushed).

    The whole batch goes through the encoder in one call: batches of similar length across articles run about
    twice as fast as one call per article.
    """
    prepared = [_texts(session, article) for article in articles]
    vectors = np.asarray(encoder.encode([text for _, _, texts in prepared for text in texts]), dtype=np.float32)
    terms: dict[int, Counter[str]] = {}
    offset = 0
    for article, (title, sentences, texts) in zip(articles, prepared, strict=True):
        article_vectors = vectors[offset : offset + len(texts)]
        terms[article.id] = _store_analysis(session, article, title, sentences, article_vectors, encoder, tagger)
        offset += len(texts)
    return terms


def _texts(session: Session, article: Article) -> tuple[str, list[Sentence], list[str]]:
    """The article's headline (possibly empty), its indexed sentences, and the texts to embed.

    An article stored without a language (before ingestion detected them, or by another tool) gets one here.
    """
    if article.language is None:
        feed_language = session.scalar(select(Feed.language).where(Feed.id == article.feed_id))
        article.language = detect_language(f"{article.title}\n{article.text}", feed_language)
    sentences = split_sentences(article.text, language=article.language)[:MAX_INDEXED_SENTENCES]
    # an article always has a vector: a headline-less, empty item is represented by its outlet and address
    title = article.title.strip() or (f"{article.outlet} {article.canonical_url}" if not sentences else "")
    return title, sentences, ([title] if title else []) + [sentence.text for sentence in sentences]


def _store_analysis(
    session: Session,
    article: Article,
    title: str,
    sentences: Sequence[Sentence],
    vectors: np.ndarray,
    encoder: TextEncoder,
    tagger: Tagger,
) -> Counter[str]:
    language = article.language
    sentence_vectors = vectors[1:] if title else vectors
    vector = article_vector(vectors[0] if title else None, sentence_vectors)
    tags = tagger.tag(article.text, title, vectors, language=language)
    counts = term_counts(f"{title}\n{article.text}")
    session.add(
        ArticleAnalysis(
            article_id=article.id,
            processed_at=utcnow(),
            encoder=getattr(encoder, "name", type(encoder).__name__)[:100],
            countries=list(tags.countries),
            salient_countries=list(tags.salient_countries),
            regions=list(tags.regions),
            topics=list(tags.topics),
            entities=list(tags.entities),
            vector=to_blob(vector, VECTOR_DTYPE),
            sentence_spans=[[sentence.start, sentence.end] for sentence in sentences],
            sentence_vectors=to_blob(sentence_vectors, SENTENCE_DTYPE),
            term_count=sum(counts.values()),
            story_terms=weighted_terms(
                title, " ".join(sentence.text for sentence in sentences[:LEAD_SENTENCES]), article.text, language
            ),
            name_roots=sorted(name_roots(article_names_text(article.title, article.text))),
        )
    )
    return counts


def _refresh_stories(session: Session, story_ids: Iterable[int], encoder: TextEncoder) -> None:
    """Recompute the title, summary, outlets, countries and tags of each story from its articles."""
    for story_id in story_ids:
        story = session.get_one(Story, story_id)
        rows = session.execute(
            select(Article, ArticleAnalysis, Feed.country)
            .join(ArticleAnalysis, ArticleAnalysis.article_id == Article.id)
            .outerjoin(Feed, Feed.id == Article.feed_id)
            .where(Article.story_id == story_id)
            .order_by(Article.published_at, Article.id)
        ).all()
        if not rows:
            story.article_count = 0  # emptied by re-clustering: out of briefs and digests
            continue
        articles = [row[0] for row in rows]
        analyses = [row[1] for row in rows]
        vectors = np.stack([from_blob(analysis.vector, VECTOR_DTYPE) for analysis in analyses])
        centroid = vectors.mean(axis=0)
        story.centroid = to_blob(centroid, VECTOR_DTYPE)
        story.article_count = len(articles)
        story.first_published_at = articles[0].published_at
        story.last_published_at = max(article.published_at for article in articles)
        story.merged_into_id = None
        story.title = articles[representative(vectors, centroid)].title[:500]
        story.outlets = sorted({article.outlet for article in articles})
        story.publisher_countries = sorted({country for _, _, country in rows if country})
        story.countries = _story_countries(analyses)
        story.regions = _ranked_union(analysis.regions for analysis in analyses)
        story.topics = _story_topics(analyses)
        story.entities = _ranked_union(analysis.entities for analysis in analyses)[:200]
        story.language = _story_language(articles)
        story.summary = _summary(articles, vectors, centroid, encoder, story.language)
        story.updated_at = utcnow()


def _story_language(articles: Sequence[Article]) -> str | None:
    """The language most of the articles are in (the earliest article's among equals)."""
    counts = Counter(article.language for article in articles if article.language)
    return counts.most_common(1)[0][0] if counts else None


def _story_countries(analyses: Sequence[ArticleAnalysis]) -> list[str]:
    """Countries salient in any article, ordered by how many articles make them salient, then mention them."""
    salient: Counter[str] = Counter()
    mentioned: Counter[str] = Counter()
    for analysis in analyses:
        salient.update(analysis.salient_countries)
        mentioned.update(analysis.countries)
    return sorted(salient, key=lambda code: (-salient[code], -mentioned[code], code))


def _story_topics(analyses: Sequence[ArticleAnalysis]) -> list[str]:
    """Topics carried by at least ``STORY_TOPIC_SHARE`` of the articles, most common first."""
    counts: Counter[str] = Counter()
    for analysis in analyses:
        counts.update(analysis.topics)
    needed = max(1, math.ceil(STORY_TOPIC_SHARE * len(analyses)))
    return [topic for topic, count in counts.most_common() if count >= needed]


def _ranked_union(lists: Iterable[Sequence[str]]) -> list[str]:
    """Every item of the lists, the most frequent first (ties in order of first appearance)."""
    counts: Counter[str] = Counter()
    for items in lists:
        counts.update(dict.fromkeys(items, 1))
    return [item for item, _ in counts.most_common()]


def _summary(
    articles: Sequence[Article],
    vectors: np.ndarray,
    centroid: np.ndarray,
    encoder: TextEncoder,
    language: str | None = None,
) -> list[dict[str, object]]:
    """The multi-article summary: sentences with the article each came from and the articles that agree.

    In a language the encoder does not cover, the lead of the article nearest the centroid instead: the
    consensus choice needs the encoder to tell repeated facts apart.
    """
    closest = np.argsort(-(vectors @ centroid))[:MAX_SUMMARY_ARTICLES]
    if encoder_covers(covered_languages(encoder), language):
        chosen = [articles[int(index)] for index in sorted(closest)]
        documents = [StoryDocument(text=a.text, doc_id=str(a.id), title=a.title) for a in chosen]
        summary = summarize_story(documents, encoder, max_sentences=SUMMARY_SENTENCES, language=language)
    else:
        chosen = [articles[int(closest[0])]]
        lead = StoryDocument(text=chosen[0].text, doc_id=str(chosen[0].id), title=chosen[0].title)
        summary = lead_summary(lead, max_sentences=SUMMARY_SENTENCES, language=language)
    return [
        {
            "text": sentence.text,
            "article_id": chosen[sentence.doc_index].id,
            "start": sentence.start,
            "end": sentence.end,
            "also_in": [chosen[index].id for index in sentence.also_in],
        }
        for sentence in summary.sentences
    ]
