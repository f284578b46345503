"""Labelled pairs and the benchmark's recall at a precision: pure data in, pure data out.

A labelled pair is a query and the entry it must match, or None when it must match nothing. The
caller builds pairs from a user's pairs file, or from the folder itself: each `also_matches` must
match its own entry *when it is left out of the index* (`leave_one_out=True`, otherwise it would
match exactly and prove nothing) and each `must_not_match` must match nothing.

Choosing settings from labels is operating_point.py's job (with a confidence bound); this module
keeps `recall_at_precision`, the benchmark's figure of merit (the best recall whose *observed*
precision reaches the target, every observed similarity a threshold).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np

from remedy.matching.decision import Decision, MatchIndex

DEFAULT_MARGINS = tuple(round(0.01 * i, 2) for i in range(21))  # 0.00 .. 0.20


@dataclass(frozen=True)
class LabelledPair:
    """A query and the id of the entry it must match, or None: it must match nothing."""

    query: str
    expected: str | None


@dataclass(frozen=True)
class ScoredPair:
    """A labelled pair after the index has scored it."""

    query: str
    expected: str | None
    best_id: str | None
    similarity: float
    margin: float
    exact: bool


def score_pairs(
    index: MatchIndex,
    pairs: Sequence[LabelledPair],
    *,
    kind: str,
    statuses: Collection[str] = ("active", "draft"),
    leave_one_out: bool = False,
) -> list[ScoredPair]:
    """Run the pairs through the index; with `leave_one_out`, a query's own text is out of the index."""
    if not pairs:
        return []
    queries = [p.query for p in pairs]
    decisions: list[Decision] = index.decide(queries, kind=kind, statuses=statuses, leave_out_exact=leave_one_out)
    return [
        ScoredPair(p.query, p.expected, d.best_id, d.similarity, d.margin, d.exact)
        for p, d in zip(pairs, decisions, strict=True)
    ]


def recall_at_precision(
    similarity: np.ndarray,
    margin: np.ndarray,
    correct: np.ndarray,
    positives: int,
    *,
    target_precision: float = 0.95,
    margins: Sequence[float] = DEFAULT_MARGINS,
) -> tuple[float, float, float]:
    """Best recall at `target_precision` over every threshold (each observed similarity) and margin.

    For large benchmark sweeps, where the grid of `sweep` is too coarse. Returns (recall, threshold,
    margin); recall 0.0 when the target cannot be met.
    """
    best = (0.0, float("nan"), float("nan"))
    for g in margins:
        keep = margin >= g - 1e-9
        order = np.argsort(-similarity[keep], kind="stable")
        sims = similarity[keep][order]
        hits = np.cumsum(correct[keep][order])
        accepted = np.arange(1, sims.size + 1)
        # Only the last of equal similarities is a reachable cut (a threshold takes all of them).
        last = np.append(sims[1:] != sims[:-1], True) if sims.size else np.zeros(0, bool)
        ok = last & (hits / accepted >= target_precision - 1e-12)
        if ok.any():
            i = int(np.flatnonzero(ok)[np.argmax(hits[ok])])
            recall = hits[i] / positives if positives else 0.0
            if recall > best[0]:
                best = (float(recall), float(sims[i]), float(g))
    return best
