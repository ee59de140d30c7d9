"""Measure where sentence boundaries land on a JSONL news set, for raw pysbd and for split_sentences.

usage: python -m benchmarks.sentence_split_check DATA.jsonl [--show]

A boundary is "suspicious" when the text before it ends in an abbreviation-like token (U.S., Gen., Jan.,
a.m., an initial) or the text after it starts in lower case or has no letters. --show lists them so they can be
judged by eye (a split after "U.S." that ends a sentence is right; one inside "Gen. Mark Milley" is wrong).
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import sys

import pysbd

from summarizer.sentences import lead_in_length, split_sentences

ABBREV_END = re.compile(
    r"(?:\b(?:[A-Za-z]\.){2,4}|(?:^|\s)[A-Z]\.|\b(?:Mr|Mrs|Ms|Dr|Gen|Sen|Rep|Gov|Lt|Col|Maj|Capt|Sgt|Adm|Prof|Rev|St|No|Jr|Sr|"
    r"Inc|Co|Corp|Ltd|vs|etc|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec|Mt|Ft|Ave|Blvd|approx|est)\.)[\"'”’)]*$"
)
LONG = 400  # characters: a "sentence" this long is almost always several glued together
ABBREV_TOKEN = re.compile(
    r"(?:\b(?:[A-Za-z]\.){2,4}|\b(?:Mr|Mrs|Ms|Dr|Gen|Sen|Rep|Gov|Lt|Col|St|No|Jan|Feb|Aug|Sept|Oct|Nov|Dec)\.)\s"
)
MISSED = re.compile(r"\b[a-z]{3,}[.!?][\"'”’]?\s+[\"'“‘]?[A-Z]")
DATELINE_MARK = re.compile(r"\((?:CNN|Reuters|AP|AFP)\)|^[A-Z]{3,}[A-Z ,.]*\s(?:--|—|–|-)\s|^By\s")


def boundaries(chunks: list[str]) -> list[tuple[str, str]]:
    """Return (left, right) pairs around each boundary."""
    return [(a.strip(), b.strip()) for a, b in itertools.pairwise(chunks)]


def suspicious(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Keep the boundaries that deserve a look."""
    out = []
    for left, right in pairs:
        if ABBREV_END.search(left) or not re.search(r"[^\W_]", right) or right[:1].islower():
            out.append((left, right))
    return out


def main() -> None:
    """Run the check."""
    ap = argparse.ArgumentParser()
    ap.add_argument("data")
    ap.add_argument("--show", action="store_true")
    args = ap.parse_args()
    with open(args.data, encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    seg = pysbd.Segmenter(language="en", clean=False)
    raw_pairs: list[tuple[str, str]] = []
    raw_missed: list[str] = []
    our_missed: list[str] = []
    raw_lengths: list[int] = []
    our_lengths: list[int] = []
    our_pairs: list[tuple[str, str]] = []
    leads = 0
    abbrev_tokens = 0
    marked = 0
    for r in rows:
        text = r["article"]
        raw = [s.strip() for s in seg.segment(text) if s.strip()]
        ours = [s.text for s in split_sentences(text)]
        raw_lengths += [len(s) for s in raw]
        our_lengths += [len(s) for s in ours]
        raw_pairs += boundaries(raw)
        our_pairs += boundaries(ours)
        raw_missed += [m for s in raw for m in MISSED.findall(s)]
        our_missed += [m for s in ours for m in MISSED.findall(s)]
        abbrev_tokens += len(ABBREV_TOKEN.findall(text))
        marked += bool(DATELINE_MARK.search(text[:120]))
        leads += lead_in_length(text) > 0
    print(f"abbreviation tokens followed by a space in the text: {abbrev_tokens}")
    runs = (
        ("pysbd", raw_pairs, raw_missed, raw_lengths),
        ("split_sentences", our_pairs, our_missed, our_lengths),
    )
    for name, pairs, missed, lengths in runs:
        sus = suspicious(pairs)
        long = sum(n > LONG for n in lengths)
        print(
            f"{name:16} boundaries={len(pairs)} suspicious={len(sus)} possibly-missed={len(missed)} "
            f"sentences>{LONG}chars={long} longest={max(lengths)}"
        )
        if args.show:
            for left, right in sus:
                print(f"    ...{left[-45:]!r} | {right[:40]!r}")
            for m in missed:
                print(f"    missed? {m!r}")
    print(f"articles={len(rows)} with a dateline/byline mark in the first 120 chars={marked} lead-in stripped={leads}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
