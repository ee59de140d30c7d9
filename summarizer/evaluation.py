"""ROUGE evaluation of summarisers on a JSONL set (the schema of shared/data/summ-dev).

Each row has ``article``, ``reference`` (one highlight per line) and optionally ``title``. Scores are
rouge-score's mean F1 x100 with Porter stemming; ROUGE-Lsum splits both sides at newlines, so predictions
are written one sentence per line.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from summarizer.encoder import TextEncoder
from summarizer.errors import MissingDependencyError
from summarizer.results import StoryDocument, Summary
from summarizer.sentences import split_sentences

__all__ = [
    "ROUGE_TYPES",
    "EvalReport",
    "EvalRow",
    "MethodFn",
    "StoryEvalRow",
    "evaluate",
    "evaluate_stories",
    "load_rows",
    "load_story_rows",
    "score_predictions",
    "story_methods",
    "sumy_method",
]

ROUGE_TYPES = ("rouge1", "rouge2", "rougeL", "rougeLsum")
# A method takes a batch of rows and returns, for each, its summary sentences.
MethodFn = Callable[[Sequence["EvalRow"]], list[list[str]]]
_BATCH = 16  # articles per call: big enough for efficient encoder batches, small enough for a lively progress bar


@dataclass(frozen=True, slots=True)
class EvalRow:
    """One article with its reference summary."""

    article: str
    reference: str
    title: str | None = None
    row_id: str | None = None


@dataclass(frozen=True)
class EvalReport:
    """ROUGE F1 x100 per method, plus the seconds each method spent summarising."""

    n: int
    scores: dict[str, dict[str, float]]
    seconds: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """Return ``{"n": N, "methods": {method: {rouge1, rouge2, rougeL, rougeLsum}}}``."""
        return {"n": self.n, "methods": {m: {t: round(v, 2) for t, v in s.items()} for m, s in self.scores.items()}}


def load_rows(path: str | Path, limit: int | None = None) -> list[EvalRow]:
    """Read a JSONL evaluation file; rows need ``article`` and ``reference``."""
    rows: list[EvalRow] = []
    with open(path, encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            obj = json.loads(line)
            if "article" not in obj or "reference" not in obj:
                raise ValueError(f"{path}:{number}: a row needs 'article' and 'reference'")
            rows.append(EvalRow(obj["article"], obj["reference"], obj.get("title"), obj.get("id")))
            if limit is not None and len(rows) >= limit:
                break
    return rows


def score_predictions(references: Sequence[str], predictions: Sequence[Sequence[str]]) -> dict[str, float]:
    """Return mean ROUGE-1/2/L/Lsum F1 x100 of predictions (lists of sentences) against references."""
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(list(ROUGE_TYPES), use_stemmer=True)
    totals = dict.fromkeys(ROUGE_TYPES, 0.0)
    for ref, pred in zip(references, predictions, strict=True):
        scores = scorer.score(ref, "\n".join(pred))
        for t in ROUGE_TYPES:
            totals[t] += scores[t].fmeasure
    n = max(1, len(references))
    return {t: 100.0 * totals[t] / n for t in ROUGE_TYPES}


def summaries_method(summarize_many: Callable[..., list[Summary]], max_sentences: int) -> MethodFn:
    """Wrap a ``summarize_many(texts, titles=..., max_sentences=...)`` as an evaluation method."""

    def run(rows: Sequence[EvalRow]) -> list[list[str]]:
        out = summarize_many([r.article for r in rows], titles=[r.title for r in rows], max_sentences=max_sentences)
        return [s.lines() for s in out]

    return run


class _SumyTokenizer:
    """sumy's tokenizer interface on our sentence splitter (so that sumy needs no NLTK data download)."""

    language = "english"
    _word = re.compile(r"[\w'’-]+")

    def to_sentences(self, paragraph: str) -> tuple[str, ...]:
        return tuple(s.text for s in split_sentences(paragraph))

    def to_words(self, sentence: str) -> tuple[str, ...]:
        return tuple(self._word.findall(sentence))


def sumy_method(name: str, max_sentences: int) -> MethodFn:
    """Return sumy's LexRank or TextRank as a method (a dev extra: sumy is imported here, when asked for)."""
    try:
        from sumy.nlp.stemmers import Stemmer
        from sumy.parsers.plaintext import PlaintextParser
        from sumy.summarizers.lex_rank import LexRankSummarizer
        from sumy.summarizers.text_rank import TextRankSummarizer
        from sumy.utils import get_stop_words
    except ImportError as exc:
        raise MissingDependencyError("sumy", f"the {name} baseline") from exc
    classes = {"lexrank": LexRankSummarizer, "textrank": TextRankSummarizer}
    if name not in classes:
        raise ValueError(f"unknown sumy method {name!r}")
    summarizer = classes[name](Stemmer("english"))
    summarizer.stop_words = get_stop_words("english")
    tokenizer = _SumyTokenizer()

    def run(rows: Sequence[EvalRow]) -> list[list[str]]:
        out = []
        for row in rows:
            document = PlaintextParser.from_string(row.article, tokenizer).document
            out.append([str(s) for s in summarizer(document, max_sentences)])
        return out

    return run


def evaluate(
    rows: Sequence[EvalRow],
    methods: Mapping[str, MethodFn],
    *,
    progress: bool = True,
    batch_size: int = _BATCH,
) -> EvalReport:
    """Summarise every row with every method and score the results.

    Args:
        rows: the evaluation set.
        methods: name -> method; methods that load a model should have loaded it already, so that the
            seconds measure summarising only.
        progress: show a tqdm progress bar on standard error.
        batch_size: rows per method call.
    """
    scores: dict[str, dict[str, float]] = {}
    seconds: dict[str, float] = {}
    references = [r.reference for r in rows]
    for name, method in methods.items():
        predictions: list[list[str]] = []
        batches: Iterable[int] = range(0, len(rows), batch_size)
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=len(rows), desc=name, unit="article", leave=False)
        started = time.perf_counter()
        for lo in batches:
            predictions.extend(method(rows[lo : lo + batch_size]))
            if bar is not None:
                bar.update(min(batch_size, len(rows) - lo))
        seconds[name] = time.perf_counter() - started
        if bar is not None:
            bar.close()
        scores[name] = score_predictions(references, predictions)
    return EvalReport(n=len(rows), scores=scores, seconds=seconds)


# --- stories (several articles, one reference) ---------------------------------------------------------------

# A story method takes one event's articles and returns its summary sentences.
StoryMethodFn = Callable[["StoryEvalRow"], list[str]]


@dataclass(frozen=True, slots=True)
class StoryEvalRow:
    """One event: its articles (headline and text) and the reference summary."""

    event_id: str
    documents: tuple[StoryDocument, ...]
    reference: str


def load_story_rows(path: str | Path, limit: int | None = None) -> list[StoryEvalRow]:
    """Read a JSONL file of events (the schema of shared/data/mds-dev): ``event_id``, ``articles``, ``summary``."""
    rows: list[StoryEvalRow] = []
    with open(path, encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            obj = json.loads(line)
            articles = obj.get("articles")
            if not isinstance(articles, list) or not articles or "summary" not in obj:
                raise ValueError(f"{path}:{number}: a row needs 'articles' (a list of title and text) and 'summary'")
            documents = tuple(
                StoryDocument(text=a.get("text") or "", doc_id=str(i), title=a.get("title"))
                for i, a in enumerate(articles)
            )
            rows.append(StoryEvalRow(str(obj.get("event_id", number)), documents, obj["summary"]))
            if limit is not None and len(rows) >= limit:
                break
    return rows


def story_methods(encoder: TextEncoder, max_sentences: int, names: Sequence[str]) -> dict[str, StoryMethodFn]:
    """The story summariser and the baselines by name: ``story``, ``lead-1-each``, ``lexrank`` (sumy, all sentences)."""
    from summarizer.story import summarize_story

    def story(row: StoryEvalRow) -> list[str]:
        return [s.text for s in summarize_story(row.documents, encoder, max_sentences=max_sentences).sentences]

    def lead_each(row: StoryEvalRow) -> list[str]:
        firsts = [split_sentences(d.text, limit=1) for d in row.documents]
        return [first[0].text for first in firsts if first][:max_sentences]

    methods: dict[str, StoryMethodFn] = {"story": story, "lead-1-each": lead_each}
    if "lexrank" in names:
        lexrank = sumy_method("lexrank", max_sentences)

        def lexrank_all(row: StoryEvalRow) -> list[str]:
            text = "\n".join(d.text for d in row.documents)
            return lexrank([EvalRow(article=text, reference=row.reference)])[0]

        methods["lexrank"] = lexrank_all
    unknown = set(names) - set(methods)
    if unknown:
        raise ValueError(
            f"unknown story method(s): {', '.join(sorted(unknown))}; choose from story, lead-1-each, lexrank"
        )
    return {name: methods[name] for name in names}


def evaluate_stories(
    rows: Sequence[StoryEvalRow], methods: Mapping[str, StoryMethodFn], *, progress: bool = True
) -> EvalReport:
    """Summarise every event with every method and score against the reference split into sentences."""
    references = ["\n".join(s.text for s in split_sentences(row.reference)) for row in rows]
    scores: dict[str, dict[str, float]] = {}
    seconds: dict[str, float] = {}
    for name, method in methods.items():
        iterable: Iterable[StoryEvalRow] = rows
        if progress:
            from tqdm import tqdm

            iterable = tqdm(rows, desc=name, unit="story", leave=False)
        started = time.perf_counter()
        predictions = [method(row) for row in iterable]
        seconds[name] = time.perf_counter() - started
        scores[name] = score_predictions(references, predictions)
    return EvalReport(n=len(rows), scores=scores, seconds=seconds)
