"""Calibration: scoring labelled pairs, the precision/recall grid, and the recommendation."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
import pytest

from remedy.matching.calibration import (
    LabelledPair,
    ScoredPair,
    calibrate,
    recall_at_precision,
    score_pairs,
    sweep,
)
from remedy.matching.decision import MatchEntry, MatchIndex
from remedy.normalize import normalize_question


def bag_of_words(texts: Sequence[str]) -> np.ndarray:
    out = np.zeros((len(texts), 16), dtype=np.float32)
    for i, text in enumerate(texts):
        for word in normalize_question(text).split():
            seed = int.from_bytes(hashlib.sha256(word.encode()).digest()[:8], "little")
            out[i] += np.random.default_rng(seed).standard_normal(16)
        norm = np.linalg.norm(out[i])
        out[i] /= norm or 1.0
    return out


def scored(similarity: float, margin: float, expected: str | None, best: str | None = "a") -> ScoredPair:
    return ScoredPair("q", expected, best, similarity, margin, exact=False)


def test_sweep_counts_precision_and_recall_by_the_decision_rule() -> None:
    pairs = [scored(0.9, 0.3, "a"), scored(0.8, 0.01, "a"), scored(0.85, 0.2, None), scored(0.7, 0.3, "b")]
    [point] = sweep(pairs, thresholds=[0.75], margins=[0.05])
    # accepted: 0.9 (correct) and 0.85 (expects nothing): precision 1/2, recall 1/3
    assert (point.accepted, point.false_matches) == (2, 1)
    assert point.precision == pytest.approx(0.5) and point.recall == pytest.approx(1 / 3)
    [nothing] = sweep(pairs, thresholds=[0.99], margins=[0.0])
    assert (nothing.accepted, nothing.precision, nothing.recall) == (0, 1.0, 0.0)


def test_calibrate_finds_the_setting_that_separates_positives_from_negatives() -> None:
    pairs = [scored(0.9, 0.2, "a"), scored(0.82, 0.15, "a"), scored(0.78, 0.02, None), scored(0.6, 0.1, None)]
    result = calibrate(pairs, target_precision=0.95)
    assert result.met_target and result.recall == 1.0 and result.precision == 1.0
    assert (result.positives, result.negatives) == (2, 2)
    assert result.threshold <= 0.82 and (result.threshold > 0.78 or result.margin > 0.02)
    assert len(result.curve) == 70 * 21


def test_calibrate_reports_when_the_target_cannot_be_met() -> None:
    pairs = [scored(0.9, 0.2, None), scored(0.8, 0.2, "a", best="b")]
    result = calibrate(pairs, target_precision=0.95)
    assert not result.met_target and result.precision == 0.0 and result.recall == 0.0


def test_calibrate_needs_pairs() -> None:
    with pytest.raises(ValueError):
        calibrate([])


def test_score_pairs_leave_one_out_does_not_match_exactly() -> None:
    entries = [
        MatchEntry("refund", "answer", "active", "refund for a cancelled flight", ("money back cancelled flight",)),
        MatchEntry("bags", "answer", "active", "how many bags can i check"),
    ]
    index = MatchIndex(entries, bag_of_words, threshold=0.5, margin=0.0)
    pairs = [LabelledPair("money back cancelled flight", "refund"), LabelledPair("weather in lima", None)]
    plain = score_pairs(index, pairs, kind="answer")
    assert plain[0].exact and plain[0].similarity == 1.0
    held_out = score_pairs(index, pairs, kind="answer", leave_one_out=True)
    assert not held_out[0].exact and held_out[0].similarity < 1.0 and held_out[0].best_id == "refund"
    assert held_out[1].expected is None


def test_recall_at_precision_uses_reachable_thresholds_only() -> None:
    similarity = np.array([0.9, 0.8, 0.8, 0.7])
    margin = np.array([0.1, 0.1, 0.1, 0.1])
    correct = np.array([True, True, False, True])
    recall, threshold, _ = recall_at_precision(similarity, margin, correct, 3, target_precision=0.95)
    assert recall == pytest.approx(1 / 3) and threshold == pytest.approx(0.9)
    recall, _, _ = recall_at_precision(similarity, margin, correct, 3, target_precision=0.6)
    assert recall == pytest.approx(1.0)
