"""Choosing the threshold and margin from labelled queries: pure data in, pure data out.

A labelled pair is a query and the entry it must match, or None when it must match nothing. The
caller builds pairs from a user's pairs file, or from the folder itself: each `also_matches` must
match its own entry *when it is left out of the index* (`leave_one_out=True`, otherwise it would
match exactly and prove nothing) and each `must_not_match` must match nothing.

Scoring runs every pair through `MatchIndex` once; the grid search then re-applies the decision
rule (similarity >= threshold and margin >= margin) to those scores for every grid point:

    precision = correct accepted / accepted
    recall    = correct accepted / pairs that expect an entry

The recommendation is the grid point with the highest recall among those reaching the target
precision; among ties, the middle of the plateau (a threshold right at the edge of the labelled
data would be fitted to it, not to the next query).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np

from remedy.matching.decision import Decision, MatchIndex

DEFAULT_THRESHOLDS = tuple(round(0.30 + 0.01 * i, 2) for i in range(70))  # 0.30 .. 0.99
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


@dataclass(frozen=True)
class CurvePoint:
    """One grid point: what the decision rule would do on the labelled pairs."""

    threshold: float
    margin: float
    precision: float  # 1.0 when nothing is accepted (no false match was made)
    recall: float
    accepted: int
    false_matches: int  # accepted pairs that expected nothing or another entry


@dataclass(frozen=True)
class CalibrationResult:
    """The recommended settings, how they do on the pairs, and the whole curve for printing."""

    threshold: float
    margin: float
    precision: float
    recall: float
    accepted: int
    met_target: bool  # False: no grid point accepting anything reached the target; the most precise is returned
    target_precision: float
    positives: int  # pairs that expect an entry
    negatives: int  # pairs that expect nothing
    curve: tuple[CurvePoint, ...]


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


def sweep(
    scored: Sequence[ScoredPair],
    thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
    margins: Sequence[float] = DEFAULT_MARGINS,
) -> list[CurvePoint]:
    """Precision / recall of the decision rule at every (threshold, margin) of the grid."""
    similarity = np.asarray([s.similarity for s in scored], dtype=np.float64)
    margin = np.asarray([s.margin for s in scored], dtype=np.float64)
    exact = np.asarray([s.exact for s in scored], dtype=bool)
    correct = np.asarray([s.expected is not None and s.best_id == s.expected for s in scored], dtype=bool)
    positives = sum(s.expected is not None for s in scored)
    points: list[CurvePoint] = []
    for g in margins:
        # An exact match is accepted whatever the settings; the rest pass both tests.
        passes_margin = exact | (margin >= g - 1e-9)
        for t in thresholds:
            accepted = passes_margin & (exact | (similarity >= t - 1e-9))
            n_accepted = int(accepted.sum())
            n_correct = int((accepted & correct).sum())
            points.append(
                CurvePoint(
                    threshold=float(t),
                    margin=float(g),
                    precision=n_correct / n_accepted if n_accepted else 1.0,
                    recall=n_correct / positives if positives else 0.0,
                    accepted=n_accepted,
                    false_matches=n_accepted - n_correct,
                )
            )
    return points


def calibrate(
    scored: Sequence[ScoredPair],
    *,
    target_precision: float = 0.95,
    thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
    margins: Sequence[float] = DEFAULT_MARGINS,
) -> CalibrationResult:
    """Recommend a threshold and margin: the highest recall at `target_precision` or better."""
    if not scored:
        raise ValueError("no labelled pairs to calibrate on")
    curve = sweep(scored, thresholds, margins)
    positives = sum(s.expected is not None for s in scored)
    good = [p for p in curve if p.accepted and p.precision >= target_precision - 1e-12]
    if good:
        best_recall = max(p.recall for p in good)
        plateau = [p for p in good if p.recall == best_recall]
        best_precision = max(p.precision for p in plateau)
        plateau = sorted((p for p in plateau if p.precision == best_precision), key=lambda p: (p.threshold, p.margin))
        chosen, met = plateau[len(plateau) // 2], True
    else:
        # Nothing reaches the target: the most precise setting that still accepts something.
        chosen = max(curve, key=lambda p: (p.accepted > 0, p.precision, p.recall, p.threshold))
        met = False
    return CalibrationResult(
        threshold=chosen.threshold,
        margin=chosen.margin,
        precision=chosen.precision,
        recall=chosen.recall,
        accepted=chosen.accepted,
        met_target=met,
        target_precision=target_precision,
        positives=positives,
        negatives=len(scored) - positives,
        curve=tuple(curve),
    )


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
