"""The summariser: a pure NLP library (text in, typed results out).

Sentences with offsets (:func:`split_sentences`), a cached MiniLM sentence encoder (:class:`Encoder`), the
default extractive summariser (:class:`ExtractiveSummarizer`), Lead-N (:class:`LeadSummarizer`), an optional
abstractive backend with a faithfulness guard (:class:`Seq2SeqSummarizer`), and multi-article story summaries
(:func:`summarize_story`). See docs/summarizer.md.

Names are imported on first use, so ``import summarizer`` is fast and loads neither torch nor transformers;
those are imported only when a model is loaded.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from summarizer.encoder import Encoder, TextEncoder
    from summarizer.errors import MissingDependencyError, ModelLoadError, SummarizerError
    from summarizer.extractive import ExtractiveSummarizer, LeadSummarizer
    from summarizer.results import (
        Sentence,
        StoryDocument,
        StorySentence,
        StorySummary,
        Summary,
        SummarySentence,
    )
    from summarizer.sentences import split_sentences
    from summarizer.seq2seq import FaithfulnessGuard, Seq2SeqSummarizer
    from summarizer.story import summarize_story

_EXPORTS = {
    "Encoder": "summarizer.encoder",
    "TextEncoder": "summarizer.encoder",
    "ExtractiveSummarizer": "summarizer.extractive",
    "LeadSummarizer": "summarizer.extractive",
    "FaithfulnessGuard": "summarizer.seq2seq",
    "Seq2SeqSummarizer": "summarizer.seq2seq",
    "Sentence": "summarizer.results",
    "StoryDocument": "summarizer.results",
    "StorySentence": "summarizer.results",
    "StorySummary": "summarizer.results",
    "Summary": "summarizer.results",
    "SummarySentence": "summarizer.results",
    "split_sentences": "summarizer.sentences",
    "summarize_story": "summarizer.story",
    "MissingDependencyError": "summarizer.errors",
    "ModelLoadError": "summarizer.errors",
    "SummarizerError": "summarizer.errors",
}

__all__ = [
    "Encoder",
    "ExtractiveSummarizer",
    "FaithfulnessGuard",
    "LeadSummarizer",
    "MissingDependencyError",
    "ModelLoadError",
    "Sentence",
    "Seq2SeqSummarizer",
    "StoryDocument",
    "StorySentence",
    "StorySummary",
    "SummarizerError",
    "Summary",
    "SummarySentence",
    "TextEncoder",
    "split_sentences",
    "summarize_story",
]


def __getattr__(name: str) -> Any:  # noqa: ANN401 - module attributes of any kind
    """Import a public name from its module on first use."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'summarizer' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
