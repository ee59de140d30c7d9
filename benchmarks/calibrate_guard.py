"""Calibrate the faithfulness guard's similarity threshold on a dev set.

usage: python -m benchmarks.calibrate_guard DATA.jsonl [--precision fp32|bf16]

For every reference highlight sentence, the best cosine to a sentence of its own article (faithful, human
paraphrase) is compared with the best cosine to the sentences of the next article in the file (unrelated).
A good threshold keeps most of the first and almost none of the second.
"""

from __future__ import annotations

import argparse

import numpy as np

from summarizer.encoder import Encoder
from summarizer.evaluation import load_rows
from summarizer.sentences import split_sentences


def main() -> None:
    """Print percentiles and the share kept at candidate thresholds."""
    ap = argparse.ArgumentParser()
    ap.add_argument("data")
    ap.add_argument("--precision", choices=("fp32", "bf16"), default="fp32")
    args = ap.parse_args()
    rows = load_rows(args.data)
    encoder = Encoder(bf16=args.precision == "bf16")
    docs = []
    for row in rows:
        article = encoder.encode([s.text for s in split_sentences(row.article)])
        highlights = encoder.encode([h for h in row.reference.splitlines() if h.strip()])
        docs.append((article, highlights))
    own: list[float] = []
    other: list[float] = []
    for i, (article, highlights) in enumerate(docs):
        own += list((highlights @ article.T).max(axis=1))
        other += list((highlights @ docs[(i + 1) % len(docs)][0].T).max(axis=1))
    own_a, other_a = np.array(own), np.array(other)
    print(f"{len(own_a)} highlight sentences")
    for t in (0.4, 0.45, 0.5, 0.55, 0.6):
        kept_own, kept_other = np.mean(own_a >= t), np.mean(other_a >= t)
        print(f"threshold {t:.2f}: own article kept {kept_own:.1%}, other article kept {kept_other:.1%}")


if __name__ == "__main__":
    main()
