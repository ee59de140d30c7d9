"""Throughput benchmark: articles/s and sentences/s per method, model load time and peak memory.

Each method runs in a fresh child process, so that its load time includes importing torch and transformers
and its peak resident memory is its own. Timing covers everything from the raw article text to the summary,
sentence splitting included; models are loaded (and warmed up on two articles) before the clock starts.
"""

from __future__ import annotations

import multiprocessing as mp
import resource
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from summarizer.evaluation import EvalRow
from summarizer.methods import MethodOptions, build_method
from summarizer.sentences import split_sentences

__all__ = ["BenchResult", "run_bench"]

_WARMUP_ARTICLES = 2


@dataclass(frozen=True, slots=True)
class BenchResult:
    """Speed of one method."""

    method: str
    articles: int
    seconds: float
    articles_per_s: float
    sentences_per_s: float
    load_s: float
    peak_rss_mb: float
    threads: int


def _peak_rss_mb() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return usage / (1024 * 1024) if sys.platform == "darwin" else usage / 1024  # bytes on macOS, KiB on Linux


def _measure(name: str, options: MethodOptions, rows: Sequence[EvalRow], batch: int, repeat: int) -> BenchResult:
    """Load, warm up and time one method in this process."""
    method = build_method(name, options)
    load_s = method.load()
    method.run(list(rows[:_WARMUP_ARTICLES]))
    for enc in method.encoders:  # the warm-up must not pre-fill the cache for the timed runs
        enc.clear_cache()
    sentences = sum(len(split_sentences(r.article)) for r in rows)
    best = float("inf")
    for _ in range(repeat):
        for enc in method.encoders:
            enc.clear_cache()
        started = time.perf_counter()
        for lo in range(0, len(rows), batch):
            method.run(list(rows[lo : lo + batch]))
        best = min(best, time.perf_counter() - started)
    threads = 0
    if method.encoders:
        import torch

        threads = torch.get_num_threads()
    return BenchResult(
        method=method.name,
        articles=len(rows),
        seconds=best,
        articles_per_s=len(rows) / best,
        sentences_per_s=sentences / best,
        load_s=load_s,
        peak_rss_mb=_peak_rss_mb(),
        threads=threads,
    )


def _child(name: str, options: MethodOptions, rows: list[EvalRow], batch: int, repeat: int, out: mp.Queue) -> None:  # type: ignore[type-arg]
    try:
        out.put(("ok", asdict(_measure(name, options, rows, batch, repeat))))
    except Exception as exc:  # any failure is reported to the parent, which raises it
        out.put(("error", f"{type(exc).__name__}: {exc}"))


def run_bench(
    names: Sequence[str],
    options: MethodOptions,
    rows: Sequence[EvalRow],
    *,
    batch: int = 16,
    repeat: int = 1,
    isolate: bool = True,
) -> list[BenchResult]:
    """Time each method on ``rows``.

    Args:
        names: method names (see ``summarizer.methods.METHOD_NAMES``).
        options: shared method settings.
        rows: the articles.
        batch: articles per summariser call (1 measures single-article latency).
        repeat: timed passes per method; the fastest is reported.
        isolate: run each method in its own child process (clean load time and peak memory).
    """
    results: list[BenchResult] = []
    for name in names:
        if not isolate:
            results.append(_measure(name, options, rows, batch, repeat))
            continue
        ctx = mp.get_context("spawn")
        queue: mp.Queue = ctx.Queue()  # type: ignore[type-arg]
        proc = ctx.Process(target=_child, args=(name, options, list(rows), batch, repeat, queue))
        proc.start()
        status, payload = queue.get()
        proc.join()
        if status != "ok":
            raise RuntimeError(f"bench of {name} failed: {payload}")
        results.append(BenchResult(**payload))
    return results
