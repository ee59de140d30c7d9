"""Grid over the extractive summariser's constants on a dev set, to show how flat the scores are around them.

usage: python -m benchmarks.tune_extractive DATA.jsonl [--precision fp32|bf16]

Tune on the dev set only. Every configuration runs the real ``ExtractiveSummarizer`` (the encoder's cache
makes the repeated passes cheap) and prints ROUGE-1/2/L/Lsum; the last line is Lead-3 for reference.
"""

from __future__ import annotations

import argparse
import itertools

from summarizer.encoder import Encoder
from summarizer.evaluation import load_rows, score_predictions
from summarizer.extractive import (
    COVERAGE_DECAY,
    COVERAGE_WEIGHT,
    LENGTH_PENALTY,
    MAX_CANDIDATES,
    ExtractiveSummarizer,
    LeadSummarizer,
)


def main() -> None:
    """Run the grid."""
    ap = argparse.ArgumentParser()
    ap.add_argument("data")
    ap.add_argument("--precision", choices=("fp32", "bf16"), default="fp32")
    args = ap.parse_args()
    rows = load_rows(args.data)
    refs = [r.reference for r in rows]
    texts = [r.article for r in rows]
    encoder = Encoder(bf16=args.precision == "bf16", cache_size=100_000)
    grid = itertools.product((5.0, 10.0, 20.0), (3.0, 5.0, 8.0), (0.0, 0.125, 0.25), (8, 10, 15))
    results = []
    for weight, decay, penalty, candidates in grid:
        summ = ExtractiveSummarizer(
            encoder, max_candidates=candidates, coverage_weight=weight, coverage_decay=decay, length_penalty=penalty
        )
        scores = score_predictions(refs, [s.lines() for s in summ.summarize_many(texts)])
        results.append((weight, decay, penalty, candidates, scores))
        print(
            f"weight={weight:<5} decay={decay:<4} penalty={penalty:<6} candidates={candidates:<3}"
            + " ".join(f"{scores[t]:6.2f}" for t in ("rouge1", "rouge2", "rougeL", "rougeLsum")),
            flush=True,
        )
    results.sort(key=lambda r: -(r[4]["rouge1"] + r[4]["rougeLsum"]))
    print("best by R-1 + R-Lsum:")
    for weight, decay, penalty, candidates, scores in results[:10]:
        print(f"  {weight} {decay} {penalty} {candidates}", " ".join(f"{v:6.2f}" for v in scores.values()))
    chosen = [r for r in results if r[:4] == (COVERAGE_WEIGHT, COVERAGE_DECAY, LENGTH_PENALTY, MAX_CANDIDATES)]
    rank = results.index(chosen[0]) + 1 if chosen else None
    print(f"the defaults rank {rank} of {len(results)}")
    lead = score_predictions(refs, [s.lines() for s in LeadSummarizer().summarize_many(texts)])
    print("lead3", " ".join(f"{v:6.2f}" for v in lead.values()))


if __name__ == "__main__":
    main()
