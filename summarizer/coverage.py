"""How a story's coverage differs: sentences new to a reader, and what sets each outlet's account apart.

Sentences are compared by their encoder vectors (unit length, MiniLM cosine). Two sentences at or above
`SAME_FACT_SIMILARITY` state one fact (the threshold story summaries use, `summarizer.story`); below it, a
sentence says something the other did not.

- `novel_sentences`: candidates that state no fact a reader was already sent (a story's update says only what is new).
- `distinctive_sentences`: for each group (an outlet), its sentence least similar to what the other groups carry.
- `partial_facts`: facts carried by some groups and not all, each with the groups that carry it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from summarizer.story import SAME_FACT_SIMILARITY

__all__ = ["PartialFact", "distinctive_sentences", "novel_sentences", "partial_facts"]


def _unit(vectors: np.ndarray) -> np.ndarray:
    matrix = np.asarray(vectors, dtype=np.float32)
    if matrix.ndim != 2 or not len(matrix):
        return matrix.reshape(0, matrix.shape[-1] if matrix.ndim == 2 else 0)
    unit: np.ndarray = matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)
    return unit


def novel_sentences(
    candidates: np.ndarray, known: np.ndarray, *, limit: int, threshold: float = SAME_FACT_SIMILARITY
) -> list[int]:
    """Indices of candidate sentences that state no known fact, nor one an earlier pick states, in order.

    Args:
        candidates: one vector per candidate sentence, in the order to prefer them (e.g. by time, then position).
        known: one vector per sentence the reader was already sent (may be empty).
        limit: at most this many.
        threshold: the cosine at which two sentences state one fact.
    """
    picked: list[int] = []
    cand = _unit(candidates)
    seen = _unit(known) if len(known) else np.zeros((0, cand.shape[1] if cand.ndim == 2 else 0), dtype=np.float32)
    for index in range(len(cand)):
        if len(picked) >= limit:
            break
        vector = cand[index]
        if len(seen) and float(np.max(seen @ vector)) >= threshold:
            continue
        if picked and float(np.max(cand[picked] @ vector)) >= threshold:
            continue
        picked.append(index)
    return picked


def distinctive_sentences(vectors: np.ndarray, groups: Sequence[int]) -> dict[int, int]:
    """For each group, the index of its sentence least like anything the other groups carry.

    A sentence's likeness is its highest cosine to another group's sentences; the group's distinctive sentence has
    the lowest (the first such, on ties). With a single group nothing is distinctive, and the result is empty.

    Args:
        vectors: one vector per sentence.
        groups: the group (outlet) of each sentence.
    """
    matrix = _unit(vectors)
    owners = np.asarray(groups)
    if len(set(groups)) < 2:
        return {}
    similarity = matrix @ matrix.T
    best: dict[int, tuple[float, int]] = {}
    for index, group in enumerate(groups):
        others = owners != group
        likeness = float(np.max(similarity[index][others]))
        if group not in best or likeness < best[group][0]:
            best[group] = (likeness, index)
    return {group: index for group, (_, index) in best.items()}


@dataclass(frozen=True)
class PartialFact:
    """A fact some groups carry and others do not: the first sentence stating it and the groups carrying it."""

    sentence: int
    groups: frozenset[int]


def partial_facts(
    vectors: np.ndarray, groups: Sequence[int], *, limit: int, threshold: float = SAME_FACT_SIMILARITY
) -> list[PartialFact]:
    """Facts carried by some groups but not all, in the order their first sentences come.

    Sentences are taken in order; each joins the first fact whose first sentence it matches (at ``threshold``),
    else starts a new one. Facts every group carries are common ground and left out.
    """
    matrix = _unit(vectors)
    everyone = frozenset(groups)
    if len(everyone) < 2:
        return []
    heads: list[int] = []
    carriers: list[set[int]] = []
    for index, group in enumerate(groups):
        if heads:
            scores = matrix[heads] @ matrix[index]
            best = int(np.argmax(scores))
            if float(scores[best]) >= threshold:
                carriers[best].add(group)
                continue
        heads.append(index)
        carriers.append({group})
    facts = [PartialFact(head, frozenset(who)) for head, who in zip(heads, carriers, strict=True) if who != everyone]
    return facts[:limit]
