"""Summarisation methods by name, as used by the ``eval`` and ``bench`` commands.

``default`` (the extractive summariser with the encoder at the chosen precision), ``default-fp32`` and
``default-bf16`` (both precisions side by side), ``lead3`` (Lead-N), ``lexrank`` and ``textrank`` (sumy
baselines, a dev extra) and ``abstractive`` (a seq2seq model given by ``model``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from summarizer.encoder import Encoder, bf16_supported
from summarizer.evaluation import MethodFn, summaries_method, sumy_method
from summarizer.extractive import ExtractiveSummarizer, LeadSummarizer

__all__ = ["METHOD_NAMES", "BuiltMethod", "MethodOptions", "build_method", "canonical_name", "resolve_precision"]

METHOD_NAMES = ("default", "default-fp32", "default-bf16", "lead3", "lexrank", "textrank", "abstractive")


@dataclass(frozen=True, slots=True)
class MethodOptions:
    """Settings shared by the methods of one run."""

    max_sentences: int = 3
    precision: str = "auto"  # "auto" (bf16 where the CPU has native bf16), "bf16" or "fp32"
    threads: int | None = None
    model: str | None = None
    device: str = "cpu"
    guard: str = "replace"


@dataclass
class BuiltMethod:
    """A ready-to-run method: ``load()`` loads its models (returns the seconds it took), ``run`` summarises."""

    name: str
    run: MethodFn
    load: Callable[[], float]
    encoders: list[Encoder] = field(default_factory=list)


def resolve_precision(precision: str) -> bool:
    """Return True for bf16: "bf16", or "auto" on a CPU with native bf16 (CUDA devices are left to fp32)."""
    if precision not in ("auto", "bf16", "fp32"):
        raise ValueError(f"precision must be auto, bf16 or fp32, not {precision!r}")
    return precision == "bf16" or (precision == "auto" and bf16_supported())


def canonical_name(name: str, max_sentences: int) -> str:
    """Return the report name of a method ("lead3"/"lead" become f"lead{max_sentences}")."""
    if name in ("lead", "lead3") or (name.startswith("lead") and name[4:].isdigit()):
        return f"lead{max_sentences}"
    return name


def _timed_load(*loaders: Callable[[], None]) -> Callable[[], float]:
    def load() -> float:
        import time

        started = time.perf_counter()
        for loader in loaders:
            loader()
        return time.perf_counter() - started

    return load


def build_method(name: str, options: MethodOptions) -> BuiltMethod:
    """Build a method by name, with its own encoder if it needs one (so no method profits from another's cache).

    Args:
        name: one of ``METHOD_NAMES`` (or "lead"/"leadN").
        options: shared settings.
    """
    n = options.max_sentences

    def encoder(bf16: bool) -> Encoder:
        return Encoder(threads=options.threads, bf16=bf16, device=options.device)

    report_name = canonical_name(name, n)
    if report_name.startswith("lead"):
        return BuiltMethod(report_name, summaries_method(LeadSummarizer().summarize_many, n), _timed_load())
    if name in ("default", "default-fp32", "default-bf16"):
        bf16 = {"default-fp32": False, "default-bf16": True}.get(name)
        enc = encoder(resolve_precision(options.precision) if bf16 is None else bf16)
        summ = ExtractiveSummarizer(enc)
        return BuiltMethod(name, summaries_method(summ.summarize_many, n), _timed_load(enc.load), [enc])
    if name in ("lexrank", "textrank"):
        return BuiltMethod(name, sumy_method(name, n), _timed_load())
    if name == "abstractive":
        if not options.model:
            raise ValueError("the abstractive method needs a model: --model PATH_OR_NAME")
        from summarizer.seq2seq import GuardMode, Seq2SeqSummarizer

        guard: GuardMode = "replace"
        if options.guard in ("drop", "off"):
            guard = "drop" if options.guard == "drop" else "off"
        enc = encoder(resolve_precision(options.precision))
        seq = Seq2SeqSummarizer(
            options.model, device=options.device, guard_encoder=enc, guard=guard, threads=options.threads
        )
        return BuiltMethod(name, summaries_method(seq.summarize_many, n), _timed_load(enc.load, seq.load), [enc])
    raise ValueError(f"unknown method {name!r}; choose from {', '.join(METHOD_NAMES)}")
