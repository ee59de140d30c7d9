"""Group articles that report the same event into stories, and keep story identities stable as they change.

Two articles are compared by the mean of two cosines, damped by the time between them:

    similarity = (tf-idf cosine + encoder cosine) / 2 * decay(|t1 - t2|)

- the tf-idf cosine over their words, the headline counted ``HEADLINE_WEIGHT`` times and the lead
  ``LEAD_WEIGHT`` times (what the event is), the body once; idf comes from the articles being clustered, so a
  name that is everywhere this week ("Trump", "United States") weighs little and a rare one ("Qeshm", "Comeaux")
  much, which is what tells two earthquakes or two court cases in one region apart;
- the encoder cosine of the article vectors (headline + lead), which catches reports that share meaning but
  few words;
- ``decay`` is 1 for articles up to ``DECAY_AFTER`` apart, then falls by e every ``DECAY_SCALE``: coverage of
  one event from many outlets comes within a day, and a later report is more likely a new development (a
  storyline link, not the same story);
- articles in different languages are never compared (similarity 0) unless the encoder is multilingual: a
  monolingual encoder and the word overlap say nothing across languages;
- in a language the encoder does not cover (anything but English for all-MiniLM-L6-v2), its cosine is noise:
  there two articles are compared by their tf-idf cosine alone (words of their own language, see
  :func:`summarizer.languages.content_words`), which must reach the stricter ``UNCOVERED_JOIN_THRESHOLD``.

Stories are the clusters of average-linkage agglomerative clustering cut at ``JOIN_THRESHOLD``: a story is a
group whose members are, on average, similar to each other, so one article that resembles two events cannot
chain them together, and no centroid drifts. It runs on the connected components of the graph of pairs at or
above the threshold (average linkage never joins across them), which keeps it fast on a busy window.

The threshold and weights were chosen on two real labelled sets (ECB+ full articles in confusable pairs, and
NeuS headline + lead triples on US politics) under the "dense week" timing; docs/intelligence.md gives the grid
and the figures. :func:`keep_story_ids` decides which stored story each new cluster continues, so a re-clustered
window keeps the ids that channels, threads and deliveries refer to.
"""

from __future__ import annotations

import zlib
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from scipy import sparse
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.sparse.csgraph import connected_components
from scipy.spatial.distance import squareform
from threadpoolctl import threadpool_limits

from summarizer.languages import ENGLISH, content_words, encoder_covers

__all__ = [
    "DECAY_AFTER",
    "DECAY_SCALE",
    "HEADLINE_WEIGHT",
    "JOIN_THRESHOLD",
    "LEAD_SENTENCES",
    "LEAD_WEIGHT",
    "RELATED_THRESHOLD",
    "UNCOVERED_JOIN_THRESHOLD",
    "StoryFeatures",
    "article_vector",
    "cluster_articles",
    "keep_story_ids",
    "related_pairs",
    "representative",
    "similarity_matrix",
    "weighted_terms",
]

LEAD_SENTENCES = 3  # the article vector is the headline plus the mean of this many opening sentences
HEADLINE_WEIGHT = 3.0  # a headline word counts this many times in the tf-idf profile
LEAD_WEIGHT = 2.0  # a word of the lead (the first LEAD_SENTENCES sentences) this many times; the body once
MAX_TERMS = 200  # an article's profile keeps its most weighted words (long articles ramble)
# idf counts this many more articles, none with the term: in a small window (a new install, a quiet feed list) a
# shared word still says something, while in a busy window of thousands it changes nothing.
IDF_PRIOR_DOCUMENTS = 100
JOIN_THRESHOLD = 0.31  # average similarity at which articles are one story
# The tf-idf cosine at which two articles in a language the encoder does not cover are one story (words only:
# stricter: at 0.24 words alone joined 0.996 / 0.995 B-cubed-precise stories on ECB+ / NeuS); docs/intelligence.md.
UNCOVERED_JOIN_THRESHOLD = 0.24
DEFAULT_ENCODER_LANGUAGES = (ENGLISH,)  # what all-MiniLM-L6-v2 was trained on
DECAY_AFTER = timedelta(hours=12)
DECAY_SCALE = timedelta(hours=24)
RELATED_THRESHOLD = 0.4  # content similarity of two stories' profiles that makes them one storyline


def article_vector(title_vector: np.ndarray | None, sentence_vectors: np.ndarray) -> np.ndarray:
    """The vector that stands for an article: its headline plus its lead, which say what the event is.

    Args:
        title_vector: the encoder vector of the headline, if there is one.
        sentence_vectors: the vectors of the body's sentences, in order.

    Returns:
        A unit-length float32 vector (zeros when there is no text at all).
    """
    parts = []
    if title_vector is not None:
        parts.append(np.asarray(title_vector, dtype=np.float32))
    if len(sentence_vectors):
        parts.append(np.asarray(sentence_vectors[:LEAD_SENTENCES], dtype=np.float32).mean(axis=0))
    if not parts:
        return np.zeros(sentence_vectors.shape[1] if sentence_vectors.ndim == 2 else 0, dtype=np.float32)
    return _unit(np.sum(parts, axis=0))


def weighted_terms(title: str, lead: str, body: str, language: str | None = None) -> dict[str, float]:
    """An article's word profile: term counts with the headline and the lead weighted above the body.

    Args:
        title: the headline.
        lead: the opening sentences (also part of ``body``).
        body: the whole text.
        language: the text's ISO 639-1 code (None: English).

    Returns:
        At most ``MAX_TERMS`` terms (:func:`summarizer.languages.content_words`) with their weighted counts.
    """
    weights: dict[str, float] = {}
    for words, weight in ((body, 1.0), (lead, LEAD_WEIGHT - 1.0), (title, HEADLINE_WEIGHT)):
        for term in content_words(words, language):
            weights[term] = weights.get(term, 0.0) + weight
    return dict(sorted(weights.items(), key=lambda item: -item[1])[:MAX_TERMS])


def representative(vectors: np.ndarray, centroid: np.ndarray) -> int:
    """Index of the vector closest to the centroid: the article whose headline best names the story."""
    return int(np.argmax(np.asarray(vectors, dtype=np.float32) @ _unit(centroid)))


def _unit(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    return (vector / norm).astype(np.float32) if norm > 0 else vector.astype(np.float32)


@dataclass(frozen=True, slots=True)
class StoryFeatures:
    """What clustering knows about an article; build it with :meth:`of`.

    ``term_ids`` are stable hashes of the profile's words (so profiles built in different processes agree),
    ``term_weights`` their weighted counts.
    """

    vector: np.ndarray  # unit article vector (article_vector)
    term_ids: np.ndarray  # int64 hashes of the words of weighted_terms
    term_weights: np.ndarray  # float32 weighted counts, >= 1
    published_at: datetime
    language: str | None = None

    @classmethod
    def of(
        cls, vector: np.ndarray, terms: Mapping[str, float], published_at: datetime, language: str | None = None
    ) -> StoryFeatures:
        """The features of an article from its vector, its word profile, its time and its language."""
        kept = [(term, weight) for term, weight in terms.items() if weight >= 1.0]
        return cls(
            vector=np.asarray(vector, dtype=np.float32),
            term_ids=np.array([zlib.crc32(term.encode()) for term, _ in kept], dtype=np.int64),
            term_weights=np.array([weight for _, weight in kept], dtype=np.float32),
            published_at=published_at,
            language=language,
        )


def _tfidf(features: Sequence[StoryFeatures]) -> sparse.csr_matrix:
    """Unit-length tf-idf rows (sublinear tf, idf over ``features``), one per article."""
    lengths = np.array([len(f.term_ids) for f in features])
    hashes = np.concatenate([f.term_ids for f in features]) if len(features) else np.zeros(0, dtype=np.int64)
    weights = np.concatenate([f.term_weights for f in features]) if len(features) else np.zeros(0, np.float32)
    _, columns, document_frequency = np.unique(hashes, return_inverse=True, return_counts=True)
    idf = np.log((len(features) + IDF_PRIOR_DOCUMENTS + 1) / (document_frequency + 1)).astype(np.float32)
    values = (1.0 + np.log(weights)) * idf[columns]
    indptr = np.concatenate([[0], np.cumsum(lengths)])
    matrix = sparse.csr_matrix((values, columns, indptr), shape=(len(features), len(document_frequency)))
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sparse.csr_matrix(sparse.diags(1.0 / norms) @ matrix)


def _decay_table() -> np.ndarray:
    """The time decay by distance in tenths of an hour, up to where it no longer matters (then 0)."""
    after, scale = DECAY_AFTER.total_seconds() / 3600, DECAY_SCALE.total_seconds() / 3600
    tenths = np.arange(_DECAY_STEPS, dtype=np.float32) / 10
    table = np.exp(-np.maximum(tenths - after, 0.0) / scale).astype(np.float32)
    table[-1] = 0.0
    return table


_DECAY_STEPS = 10 * 24 * 7  # a week, in tenths of an hour
_DECAY = _decay_table()


def _content_similarity(features: Sequence[StoryFeatures], covered: np.ndarray | None = None) -> np.ndarray:
    """The mean of the tf-idf and encoder cosines of every pair, regardless of time and language.

    Where ``covered`` (one flag per article) is False for either article, the encoder is left out and the tf-idf
    cosine is scaled so that ``UNCOVERED_JOIN_THRESHOLD`` lands on ``JOIN_THRESHOLD``.
    """
    vectors = np.stack([f.vector for f in features])
    tfidf = _tfidf(features)
    # One BLAS thread: idle OpenBLAS threads keep spinning after a product and starve torch's encoder threads.
    with threadpool_limits(1):
        similarity = vectors @ vectors.T
    words = (tfidf @ tfidf.T).toarray().astype(np.float32)
    similarity += words
    similarity *= 0.5
    if covered is not None and not covered.all():
        uncovered = ~(covered[:, None] & covered[None, :])
        similarity[uncovered] = words[uncovered] * (JOIN_THRESHOLD / UNCOVERED_JOIN_THRESHOLD)
    result: np.ndarray = similarity
    return result


def similarity_matrix(
    features: Sequence[StoryFeatures],
    *,
    multilingual: bool = False,
    encoder_languages: Collection[str] = DEFAULT_ENCODER_LANGUAGES,
) -> np.ndarray:
    """The pairwise article similarities (see the module docstring), a symmetric float32 matrix.

    Args:
        features: the articles.
        multilingual: whether the encoder compares meaning across languages (then languages may mix, and every
            language counts as covered).
        encoder_languages: the languages a monolingual encoder covers (articles of unknown language count as
            English).
    """
    if not features:
        return np.zeros((0, 0), dtype=np.float32)
    covered = None if multilingual else np.array([encoder_covers(encoder_languages, f.language) for f in features])
    similarity = _content_similarity(features, covered)
    tenths = np.array([round(f.published_at.timestamp() / 360) for f in features], dtype=np.int64)
    tenths = np.minimum(tenths - tenths.min(), np.iinfo(np.int32).max).astype(np.int32)
    apart = np.abs(tenths[:, None] - tenths[None, :])
    np.minimum(apart, _DECAY_STEPS - 1, out=apart)
    similarity *= _DECAY[apart]
    del apart
    languages = sorted({f.language for f in features if f.language})
    if not multilingual and len(languages) > 1:
        codes = np.array([languages.index(f.language) if f.language else -1 for f in features])
        differ = (codes[:, None] != codes[None, :]) & (codes[:, None] >= 0) & (codes[None, :] >= 0)
        similarity[differ] = 0.0
    np.fill_diagonal(similarity, 1.0)
    return similarity


def related_pairs(
    stories: Sequence[StoryFeatures], focus: Sequence[int], *, threshold: float = RELATED_THRESHOLD
) -> list[tuple[int, int, float]]:
    """Pairs of stories of one developing situation: alike in content (no time decay), at least ``threshold``.

    Args:
        stories: one profile per story (its centroid and its names as terms).
        focus: the indices whose pairs are wanted (the stories that changed).
        threshold: the content similarity needed.

    Returns:
        ``(focus index, other index, similarity)`` for every related pair, each pair once.
    """
    if not stories or not focus:
        return []
    similarity = _content_similarity(stories)
    pairs = {}
    for a in focus:
        for b in np.flatnonzero(similarity[a] >= threshold).tolist():
            if b != a:
                pairs[(min(a, b), max(a, b))] = float(similarity[a, b])
    return [(a, b, score) for (a, b), score in sorted(pairs.items())]


def cluster_articles(
    features: Sequence[StoryFeatures],
    *,
    threshold: float = JOIN_THRESHOLD,
    multilingual: bool = False,
    encoder_languages: Collection[str] = DEFAULT_ENCODER_LANGUAGES,
) -> list[int]:
    """Average-linkage clusters of the articles cut at ``threshold``; a cluster number per article, in order.

    Clusters are numbered in the order of their first member, so equal inputs give equal labels.
    ``multilingual`` and ``encoder_languages`` are those of :func:`similarity_matrix`.
    """
    similarity = similarity_matrix(features, multilingual=multilingual, encoder_languages=encoder_languages)
    if len(similarity) == 0:
        return []
    _, components = connected_components(sparse.csr_matrix(similarity >= threshold), directed=False)
    labels = np.zeros(len(similarity), dtype=np.int64)
    offset = 0
    for component in range(int(components.max()) + 1):
        members = np.flatnonzero(components == component)
        if len(members) == 1:
            local = np.zeros(1, dtype=np.int64)
        else:
            distance = 1.0 - similarity[np.ix_(members, members)].astype(np.float64)
            np.fill_diagonal(distance, 0.0)
            tree = linkage(squareform(np.clip(distance, 0.0, None), checks=False), method="average")
            local = fcluster(tree, t=1.0 - threshold, criterion="distance") - 1
        labels[members] = local + offset
        offset += int(local.max()) + 1
    order = {label: rank for rank, label in enumerate(dict.fromkeys(labels.tolist()))}
    return [order[label] for label in labels.tolist()]


def keep_story_ids(
    clusters: Sequence[int],
    previous: Sequence[int | None],
    *,
    delivered: Sequence[bool] | None = None,
) -> dict[int, int | None]:
    """Which existing story each cluster continues, so that ids survive splits and merges.

    A story id goes to the cluster holding most of its delivered articles (those that were part of it when a
    channel received it), then most of its articles; a cluster that gathers several stories (a merge) keeps the
    one with the most delivered articles, then the most articles, then the oldest (lowest id). Each id goes to
    one cluster at most; a cluster left without one is a new story.

    Args:
        clusters: the new cluster of each article.
        previous: the story each article belonged to before (None for an article not yet in a story).
        delivered: whether each article counts as delivered with its previous story (default: none does).

    Returns:
        cluster -> the story id it keeps, or None for a new story.
    """
    delivered = delivered or [False] * len(clusters)
    overlap: Counter[tuple[int, int]] = Counter()
    overlap_delivered: Counter[tuple[int, int]] = Counter()
    for cluster, story, was_delivered in zip(clusters, previous, delivered, strict=True):
        if story is not None:
            overlap[(cluster, story)] += 1
            overlap_delivered[(cluster, story)] += int(was_delivered)
    ranked = sorted(overlap, key=lambda pair: (-overlap_delivered[pair], -overlap[pair], pair[1], pair[0]))
    kept: dict[int, int | None] = dict.fromkeys(clusters)
    taken: set[int] = set()
    for cluster, story in ranked:
        if kept[cluster] is None and story not in taken:
            kept[cluster] = story
            taken.add(story)
    return kept
