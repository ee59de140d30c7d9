"""Abstractive summaries with any Hugging Face seq2seq model, behind a faithfulness guard.

transformers 5 has no summarization pipeline, so this is ``AutoTokenizer`` + ``AutoModelForSeq2SeqLM`` +
``generate``: distilbart-cnn, bart-large-cnn, pegasus or any other encoder-decoder model, by local path or by
the name of a model already in the Hugging Face cache (nothing is downloaded). Articles longer than the
model's input limit are cut into chunks at sentence boundaries; chunks of many articles are generated in
batches. Off by default: no such model ships with the project.

Every generated sentence is checked against the source by the ``FaithfulnessGuard`` before it is shown: it
must be close (cosine of MiniLM embeddings) to some source sentence, and every number in it must occur in the
source. A sentence that fails is dropped or replaced by its closest source sentence. Each summary sentence
points to the offsets of its closest source sentence either way.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from summarizer.encoder import Encoder, TextEncoder, import_torch, prepare_transformers
from summarizer.errors import ModelLoadError
from summarizer.extractive import TEASER_MAX_SENTENCES, check_limits
from summarizer.results import Sentence, Summary, SummarySentence
from summarizer.sentences import split_sentences

__all__ = ["DEFAULT_SUPPORT_THRESHOLD", "FaithfulnessGuard", "GuardVerdict", "Seq2SeqSummarizer"]

log = logging.getLogger(__name__)

# Minimum cosine between a generated sentence and its closest source sentence. Calibrated on the dev set
# (benchmarks/calibrate_guard.py): 90% of the human highlight sentences reach 0.5 against their own article,
# while 99.4% of highlight sentences of *other* articles stay below it. We prefer dropping a true sentence
# (it is replaced by the source sentence it paraphrases) to showing an invented one.
DEFAULT_SUPPORT_THRESHOLD = 0.5
# Chunks per article: the lead carries the story, and each chunk costs a full generate() call.
DEFAULT_MAX_CHUNKS = 4
# Used when neither the tokenizer nor the model config states an input limit.
_FALLBACK_INPUT_TOKENS = 512
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")

GuardMode = Literal["replace", "drop", "off"]


def _numbers(text: str) -> set[str]:
    """Return the numbers written with digits in ``text``, without thousands separators ("1,200" -> "1200")."""
    return {m.group().replace(",", "").rstrip(".") for m in _NUMBER.finditer(text)}


@dataclass(frozen=True, slots=True)
class GuardVerdict:
    """What the guard found for one generated sentence.

    Attributes:
        text: the generated sentence.
        supported: True when it may be shown.
        support: cosine similarity to the closest source sentence.
        source_index: index of that source sentence.
        reason: why it is unsupported ("" when supported).
    """

    text: str
    supported: bool
    support: float
    source_index: int
    reason: str = ""


class FaithfulnessGuard:
    """Decide whether generated sentences are supported by the source.

    Args:
        encoder: the sentence encoder used for similarity.
        threshold: minimum cosine to the closest source sentence (see ``DEFAULT_SUPPORT_THRESHOLD``).
        check_numbers: also reject a sentence with a number (in digits) that the source does not contain.
    """

    def __init__(
        self, encoder: TextEncoder, *, threshold: float = DEFAULT_SUPPORT_THRESHOLD, check_numbers: bool = True
    ) -> None:
        self.encoder = encoder
        self.threshold = threshold
        self.check_numbers = check_numbers

    def check(self, generated: Sequence[str], source: Sequence[Sentence], source_text: str) -> list[GuardVerdict]:
        """Return one verdict per generated sentence.

        Args:
            generated: the generated sentences.
            source: the source sentences (``split_sentences(source_text)``).
            source_text: the full source text (numbers are looked up in it).
        """
        if not generated:
            return []
        if not source:
            return [GuardVerdict(g, False, 0.0, -1, "empty source") for g in generated]
        vectors = self.encoder.encode([*generated, *(s.text for s in source)])
        sims = vectors[: len(generated)] @ vectors[len(generated) :].T
        source_numbers = _numbers(source_text)
        verdicts: list[GuardVerdict] = []
        for i, text in enumerate(generated):
            best = int(np.argmax(sims[i]))
            support = float(sims[i, best])
            reason = ""
            if support < self.threshold:
                reason = f"similarity {support:.2f} below {self.threshold:.2f}"
            elif self.check_numbers:
                novel = sorted(_numbers(text) - source_numbers)
                if novel:
                    reason = "numbers not in the source: " + ", ".join(novel)
            verdicts.append(GuardVerdict(text, not reason, support, best, reason))
        return verdicts


class Seq2SeqSummarizer:
    """Abstractive summariser for any seq2seq model, guarded against unsupported sentences.

    Args:
        model: a local model directory, or the name of a model already in the Hugging Face cache
            (e.g. "sshleifer/distilbart-cnn-12-6"); never downloaded.
        device: "cpu" or "cuda" (or "cuda:1", ...).
        guard_encoder: the encoder for the faithfulness guard and for pointing to source sentences;
            a default MiniLM ``Encoder`` is made (lazily) when not given.
        guard: "replace" an unsupported sentence by its closest source sentence, "drop" it, or "off"
            (keep everything; offsets still point to the closest source sentence).
        support_threshold: see ``DEFAULT_SUPPORT_THRESHOLD``.
        batch_size: chunks per ``generate`` call.
        num_beams: beam size; None keeps the model's generation config.
        max_new_tokens: generated tokens per chunk; None keeps the model's generation config.
        max_input_tokens: input tokens per chunk; None means the model's own limit.
        max_chunks: chunks per article (the rest of a very long article is not read).
        threads: torch intra-op threads (process-wide), None leaves torch's default.
        tokenizer: an already loaded tokenizer to use instead of loading one.
        seq2seq_model: an already loaded ``AutoModelForSeq2SeqLM`` model to use instead of loading one.
    """

    def __init__(
        self,
        model: str | Path,
        *,
        device: str = "cpu",
        guard_encoder: TextEncoder | None = None,
        guard: GuardMode = "replace",
        support_threshold: float = DEFAULT_SUPPORT_THRESHOLD,
        batch_size: int = 4,
        num_beams: int | None = None,
        max_new_tokens: int | None = None,
        max_input_tokens: int | None = None,
        max_chunks: int = DEFAULT_MAX_CHUNKS,
        threads: int | None = None,
        tokenizer: Any = None,  # noqa: ANN401 - any transformers tokenizer
        seq2seq_model: Any = None,  # noqa: ANN401 - any transformers seq2seq model
    ) -> None:
        if guard not in ("replace", "drop", "off"):
            raise ValueError(f"guard must be 'replace', 'drop' or 'off', not {guard!r}")
        if batch_size < 1 or max_chunks < 1:
            raise ValueError("batch_size and max_chunks must be at least 1")
        self.model_name = str(model)
        self.device = device
        self.guard_mode: GuardMode = guard
        self.support_threshold = support_threshold
        self.batch_size = batch_size
        self.num_beams = num_beams
        self.max_new_tokens = max_new_tokens
        self.max_input_tokens = max_input_tokens
        self.max_chunks = max_chunks
        self.threads = threads
        self._guard_encoder = guard_encoder
        self._guard: FaithfulnessGuard | None = None
        self._tokenizer: Any = tokenizer
        self._model: Any = seq2seq_model
        self._ready = False
        self._lock = threading.RLock()
        self.load_seconds: float | None = None
        self.input_limit = 0

    @property
    def method(self) -> str:
        """The method label: "seq2seq:" plus the model's directory or hub name."""
        return "seq2seq:" + Path(self.model_name).name

    @property
    def guard(self) -> FaithfulnessGuard:
        """The faithfulness guard (a default MiniLM encoder is created on first use when none was given)."""
        if self._guard is None:
            self._guard = FaithfulnessGuard(self._guard_encoder or Encoder(), threshold=self.support_threshold)
        return self._guard

    def load(self) -> None:
        """Load the tokenizer and model now (otherwise the first summary does it)."""
        with self._lock:
            if self._ready:
                return
            started = time.perf_counter()
            torch = import_torch()
            prepare_transformers()
            from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

            if self.threads:
                torch.set_num_threads(self.threads)
            try:
                if self._tokenizer is None:
                    self._tokenizer = AutoTokenizer.from_pretrained(self.model_name, local_files_only=True)
                if self._model is None:
                    self._model = AutoModelForSeq2SeqLM.from_pretrained(self.model_name, local_files_only=True)
            except (OSError, ValueError) as exc:
                raise ModelLoadError(
                    self.model_name, f"{exc} (give a local directory; models are never downloaded)"
                ) from exc
            if not getattr(self._model.config, "is_encoder_decoder", False):
                raise ModelLoadError(self.model_name, "not an encoder-decoder (seq2seq) model")
            self._model = self._model.eval().to(self.device)
            self.input_limit = self._input_limit()
            self._ready = True
            self.load_seconds = time.perf_counter() - started
            log.info("loaded seq2seq model %s in %.2f s", self.model_name, self.load_seconds)

    def _input_limit(self) -> int:
        if self.max_input_tokens:
            return self.max_input_tokens
        limits = [int(getattr(self._model.config, "max_position_embeddings", 0) or 0)]
        tok_limit = int(getattr(self._tokenizer, "model_max_length", 0) or 0)
        if 0 < tok_limit < 100_000:  # tokenizers without a limit report a huge sentinel value
            limits.append(tok_limit)
        positive = [x for x in limits if x > 0]
        return min(positive) if positive else _FALLBACK_INPUT_TOKENS

    def chunk(self, sentences: Sequence[Sentence]) -> list[str]:
        """Group consecutive sentences into chunks that fit the model's input limit (at most ``max_chunks``)."""
        self.load()
        budget = max(8, self.input_limit - self._tokenizer.num_special_tokens_to_add(pair=False))
        encoded = self._tokenizer([s.text for s in sentences], add_special_tokens=False)["input_ids"]
        lengths = [len(ids) for ids in encoded]
        chunks: list[str] = []
        current: list[str] = []
        used = 0
        for sent, length in zip(sentences, lengths, strict=True):
            if current and used + length > budget:
                chunks.append(" ".join(current))
                if len(chunks) == self.max_chunks:
                    return chunks
                current, used = [], 0
            current.append(sent.text)  # a single sentence over budget is truncated by the tokenizer
            used += length
        if current:
            chunks.append(" ".join(current))
        return chunks[: self.max_chunks]

    def generate(self, chunks: Sequence[str]) -> list[str]:
        """Run the model on each chunk (batched) and return the decoded outputs."""
        self.load()
        import torch

        kwargs: dict[str, Any] = {}
        if self.num_beams is not None:
            kwargs["num_beams"] = self.num_beams
        if self.max_new_tokens is not None:
            kwargs["max_new_tokens"] = self.max_new_tokens
        outputs: list[str] = []
        with self._lock, torch.inference_mode():
            for lo in range(0, len(chunks), self.batch_size):
                batch = self._tokenizer(
                    list(chunks[lo : lo + self.batch_size]),
                    padding=True,
                    truncation=True,
                    max_length=self.input_limit,
                    return_tensors="pt",
                )
                # only ids and mask: a BERT-style tokenizer adds token_type_ids, which generate() rejects
                ids = self._model.generate(
                    input_ids=batch["input_ids"].to(self.device),
                    attention_mask=batch["attention_mask"].to(self.device),
                    **kwargs,
                )
                outputs.extend(self._tokenizer.batch_decode(ids, skip_special_tokens=True))
        return [o.strip() for o in outputs]

    def summarize(
        self, text: str, *, title: str | None = None, max_sentences: int | None = 3, max_chars: int | None = None
    ) -> Summary:
        """Summarise one article (same shape as ``ExtractiveSummarizer.summarize``).

        ``title`` is accepted for interface compatibility; seq2seq models here read the article only.
        """
        return self.summarize_many([text], max_sentences=max_sentences, max_chars=max_chars)[0]

    def summarize_many(
        self,
        texts: Sequence[str],
        *,
        titles: Sequence[str | None] | None = None,
        max_sentences: int | None = 3,
        max_chars: int | None = None,
    ) -> list[Summary]:
        """Summarise several articles; the chunks of all of them are generated in shared batches."""
        check_limits(max_sentences, max_chars)
        sources = [split_sentences(t) for t in texts]
        chunked = [self.chunk(s) if s else [] for s in sources]
        flat = [c for chunks in chunked for c in chunks]
        generated = self.generate(flat) if flat else []
        summaries: list[Summary] = []
        pos = 0
        for text, source, chunks in zip(texts, sources, chunked, strict=True):
            outputs = generated[pos : pos + len(chunks)]
            pos += len(chunks)
            summaries.append(self._guarded(text, source, outputs, max_sentences, max_chars))
        return summaries

    def _guarded(
        self,
        text: str,
        source: list[Sentence],
        outputs: list[str],
        max_sentences: int | None,
        max_chars: int | None,
    ) -> Summary:
        """Split the model outputs into sentences, check each, and apply the length limits."""
        candidates = [s.text for out in outputs for s in split_sentences(out)]
        verdicts = self.guard.check(candidates, source, text) if source else []
        kept: list[SummarySentence] = []
        rejected: list[str] = []
        used_sources: set[int] = set()
        used_chars = 0
        for verdict in verdicts:
            if max_sentences is not None and len(kept) >= max_sentences:
                break
            src = source[verdict.source_index]
            if verdict.supported or self.guard_mode == "off":
                item = SummarySentence(verdict.text, src.start, src.end, src.index, verdict.support, generated=True)
            else:
                rejected.append(verdict.text)
                if self.guard_mode == "drop" or src.index in used_sources:
                    continue
                item = SummarySentence(src.text, src.start, src.end, src.index, 1.0, generated=False)
            extra = len(item.text) + (1 if kept else 0)
            if max_chars is not None and used_chars + extra > max_chars:
                continue
            kept.append(item)
            used_sources.add(src.index)
            used_chars += extra
        if not kept and source:
            # nothing generated survived: the lead sentences are the safest thing to show
            for sent in source[: max_sentences or len(source)]:
                extra = len(sent.text) + (1 if kept else 0)
                if max_chars is not None and used_chars + extra > max_chars:
                    break
                kept.append(SummarySentence(sent.text, sent.start, sent.end, sent.index))
                used_chars += extra
        return Summary(
            sentences=tuple(kept),
            method=self.method,
            from_teaser=len(source) <= TEASER_MAX_SENTENCES,
            sentences_seen=len(source),
            rejected=tuple(rejected),
        )
