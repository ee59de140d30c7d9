"""Fit the weights that rank answers as plain as each other (`summarizer.answers.AnswerRank`) on ECB+ question sets.

usage: python -m benchmarks.tune_answer_order --ecbplus ../shared/data/stories-dev/ecbplus.jsonl \\
           --ecbplus-db var/ecbplus.sqlite3 [--questions SET.toml ...]

For every answerable question of the sets (default: the six dev sets of benchmarks/data, not the seventh, which is
kept for testing), every sentence that answers it (`rank_answers`) with its four rank components: closeness to the
question word's vector, closeness to the question, coverage in the sentence itself, support of other outlets. A
sentence is right when it contains the expected phrase. A linear rank is fitted by a softmax over each question's
answering sentences (L2-regularised, on standardised components), then scaled so that the question word's weight is
1. The reply's lead is chosen as `select_answer` does: by `plainness` (a name in the asked role first, then the
plainer answer), then the rank. Printed: for each set, the leads that are right with weights fitted on the other
sets ("fitted"), with the weights in summarizer/answers.py ("in use"), and with closeness to the question alone
("question"); then the weights fitted on all sets beside those in use. The archive is built as
`benchmarks.intelligence_eval` builds it (reused from ``--ecbplus-db`` when that file exists).
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmarks.ecbplus import load_corpus
from benchmarks.intelligence_eval import build_ecbplus_archive, folded
from bot.intelligence.search import rank_answers
from bot.storage import Database, utcnow
from summarizer.answers import OWN_WORDS_WEIGHT, SUPPORT_WEIGHT, TOPIC_DISCOUNT, Answering, plainness
from tests.intelligence.shared import shared_encoder

DATA = Path(__file__).resolve().parent / "data"
DEV_SETS = tuple(
    DATA / f"ecbplus_questions{suffix}.toml" for suffix in ("", "_heldout", "_test", "_final", "_last", "_sixth")
)
COMPONENTS = ("to_asked", "to_question", "in_own_words", "support")
L2 = 0.03
STEPS, STEP_SIZE = 500, 0.1


@dataclass(frozen=True)
class Asked:
    """One answerable question: its set, and its answering sentences as components, order keys and labels."""

    set_name: str
    components: np.ndarray  # one row per answering sentence, COMPONENTS in order
    keys: list[tuple[bool, float]]  # `plainness`: what comes before the rank
    right: np.ndarray  # 1.0 where the sentence contains the expected phrase


def _asked(set_name: str, expected: str, answering: list[tuple[str, Answering]]) -> Asked:
    rows = [[getattr(each.rank, name) for name in COMPONENTS] for _, each in answering]
    keys = [plainness(each.check) for _, each in answering]
    right = [float(folded(expected) in folded(text)) for text, _ in answering]
    return Asked(set_name, np.array(rows, dtype=np.float64).reshape(-1, len(COMPONENTS)), keys, np.array(right))


def collect(database: Database, sets: list[Path]) -> list[Asked]:
    """The answerable questions of ``sets`` with their answering sentences."""
    encoder = shared_encoder()
    found = []
    for path in sets:
        with path.open("rb") as handle:
            entries = tomllib.load(handle)["questions"]
        for number, entry in enumerate(entries, 1):
            sys.stderr.write(f"\r{path.stem}: question {number} / {len(entries)}")
            found.append(_asked(path.stem, entry["answer"], rank_answers(database, encoder, entry["question"])))
        sys.stderr.write("\n")
    return found


def fit(questions: list[Asked]) -> np.ndarray:
    """Weights of the components (question word's weight scaled to 1) by a softmax over each question's sentences."""
    usable = [q for q in questions if q.right.any()]
    every = np.concatenate([q.components for q in usable])
    mean, scale = every.mean(axis=0), every.std(axis=0) + 1e-9
    weights = np.zeros(len(COMPONENTS))
    for _ in range(STEPS):
        gradient = L2 * weights * len(usable)
        for question in usable:
            standard = (question.components - mean) / scale
            scores = standard @ weights
            chance = np.exp(scores - scores.max())
            chance /= chance.sum()
            gradient += standard.T @ (chance - question.right / question.right.sum())
        weights -= STEP_SIZE * gradient / len(usable)
    raw = weights / scale
    return np.asarray(raw / raw[0])


def right_leads(questions: list[Asked], weights: np.ndarray) -> int:
    """How many questions' lead (by `plainness`, then the rank) contains the expected phrase."""
    hits = 0
    for question in questions:
        if not question.keys:
            continue
        ranks = question.components @ weights
        lead = min(range(len(ranks)), key=lambda i: (*question.keys[i], -ranks[i]))
        hits += int(question.right[lead])
    return hits


def main() -> int:
    """Collect, fit with each set held out, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ecbplus", type=Path, required=True, help="ecbplus.jsonl (the articles)")
    parser.add_argument("--ecbplus-db", type=Path, required=True, help="the archive's SQLite file (built if missing)")
    parser.add_argument("--questions", type=Path, nargs="+", default=list(DEV_SETS), help="question sets (TOML)")
    args = parser.parse_args()
    database = Database(f"sqlite:///{args.ecbplus_db}")
    if not args.ecbplus_db.exists():
        database.upgrade()
        build_ecbplus_archive(database, load_corpus(args.ecbplus, utcnow()), utcnow())
    questions = collect(database, args.questions)
    database.dispose()
    in_use = np.array([1.0, -TOPIC_DISCOUNT, OWN_WORDS_WEIGHT, SUPPORT_WEIGHT])
    closeness = np.array([0.0, 1.0, 0.0, 0.0])
    names = sorted({q.set_name for q in questions}, key=[path.stem for path in args.questions].index)
    sys.stdout.write(f"{'set (held out)':<32} {'questions':>9} {'fitted':>7} {'in use':>7} {'question':>9}\n")
    totals = np.zeros(3, dtype=int)
    for name in names:
        held = [q for q in questions if q.set_name == name]
        fitted = fit([q for q in questions if q.set_name != name])
        hits = np.array([right_leads(held, weights) for weights in (fitted, in_use, closeness)])
        totals += hits
        sys.stdout.write(f"{name:<32} {len(held):>9} {hits[0]:>7} {hits[1]:>7} {hits[2]:>9}\n")
    sys.stdout.write(f"{'all':<32} {len(questions):>9} {totals[0]:>7} {totals[1]:>7} {totals[2]:>9}\n")
    weights = fit(questions)
    shown = ", ".join(f"{name} {value:+.2f}" for name, value in zip(COMPONENTS, weights, strict=True))
    sys.stdout.write(f"fitted on all sets: {shown}\n")
    shown = ", ".join(f"{name} {value:+.2f}" for name, value in zip(COMPONENTS, in_use, strict=True))
    sys.stdout.write(f"in use:             {shown}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
