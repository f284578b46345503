"""Calibration: scoring labelled pairs, the confidence bound, and the rule that chooses settings."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence

import numpy as np
import pytest

from remedy.matching.calibration import LabelledPair, recall_at_precision, score_pairs
from remedy.matching.decision import MatchEntry, MatchIndex
from remedy.matching.operating_point import Evidence, choose, clopper_pearson_lower, labels_to_certify
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


def test_clopper_pearson_lower_bound_matches_known_values() -> None:
    # x = n: the bound is alpha^(1/n); 58 all-correct labels just miss 0.95, 59 reach it (notes/calibration.md)
    assert clopper_pearson_lower(58, 58) == pytest.approx(0.05 ** (1 / 58), abs=1e-6)
    assert clopper_pearson_lower(58, 58) < 0.95 <= clopper_pearson_lower(59, 59)
    assert clopper_pearson_lower(5, 10) == pytest.approx(0.2224, abs=1e-4)  # standard table value
    assert clopper_pearson_lower(0, 10) == 0.0 and clopper_pearson_lower(3, 0) == 0.0
    assert list(labels_to_certify(np.array([1.0, 0.95]), 0.95)) == [59, np.inf]


def evidence(rows: list[tuple[float, float, bool]], weight: list[float] | None = None) -> Evidence:
    """(similarity, margin, correct) rows, every one answerable."""
    return Evidence.build([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows],
                          [True] * len(rows), weight)


def test_choose_needs_the_bound_not_only_the_estimate() -> None:
    right = [(0.9 + 0.001 * i, 0.2, True) for i in range(40)]
    wrong = [(0.7, 0.2, False)] * 5
    few = choose(evidence(right + wrong))
    # 40 of 40 accepted above 0.7 are right, but 40 labels cannot certify 0.95: refused, with a hint
    assert not few.met_target and few.point.precision == 1.0 and few.point.precision_lower < 0.95
    assert few.labels_needed is not None and few.labels_needed > 0
    many = choose(evidence([(0.9, 0.2, True)] * 80 + wrong))
    assert many.met_target and 0.7 < many.point.threshold <= 0.9 and many.point.recall == pytest.approx(80 / 85)
    assert many.point.precision_lower >= 0.95


def test_choose_weighs_labels_by_the_queries_they_stand_for() -> None:
    rows = [(0.9, 0.2, True)] * 100 + [(0.8, 0.2, True)] * 100 + [(0.8, 0.2, False)] * 3
    plain = choose(evidence(rows))
    assert plain.met_target and plain.point.threshold <= 0.8  # 3 wrong in 203 still certifies 0.95
    # the same wrong labels standing for 20 queries each: accepting 0.8 is no longer safe
    heavy = choose(evidence(rows, [1.0] * 200 + [20.0] * 3))
    assert heavy.met_target and heavy.point.threshold > 0.8


def test_a_constraint_can_veto_a_setting_but_adds_no_recall() -> None:
    labels = evidence([(0.9, 0.2, True)] * 80 + [(0.75, 0.2, True)] * 80)
    alone = choose(labels)
    assert alone.met_target and alone.point.threshold <= 0.75 and alone.point.recall == pytest.approx(1.0)
    # the folder's examples are wrong below 0.8: the setting that accepts 0.75 is vetoed
    veto = evidence([(0.95, 0.2, True)] * 100 + [(0.76, 0.2, False)] * 20)
    checked = choose(labels, constraints=[veto])
    assert checked.met_target and 0.75 < checked.point.threshold <= 0.9
    assert checked.point.recall == pytest.approx(0.5)  # the labels' recall, not a mean with the examples
    # examples that certify more than the labels do never loosen the choice
    generous = evidence([(0.5, 0.0, True)] * 500)
    thin = evidence([(0.9, 0.2, True)] * 30)
    assert not choose(thin, constraints=[generous]).met_target


def test_choose_refuses_a_target_outside_zero_one_and_empty_evidence() -> None:
    with pytest.raises(ValueError):
        choose(evidence([(0.9, 0.2, True)]), target_precision=0.0)
    with pytest.raises(ValueError):
        choose(evidence([]))
    assert not choose(evidence([(0.9, 0.2, True)] * 500), target_precision=1.0).met_target


def test_choose_says_when_more_labels_will_not_help() -> None:
    rows = [(0.9, 0.2, i % 2 == 0) for i in range(100)]
    result = choose(evidence(rows))
    assert not result.met_target and result.labels_needed is None


def test_exact_matches_are_accepted_whatever_the_settings() -> None:
    exact = Evidence.build([1.0], [1.0], [False], [False], exact=[True])
    both = evidence([(0.9, 0.2, True)] * 100).concat(exact)
    point = choose(both, thresholds=[0.99], margins=[0.3]).point
    assert point.accepted == 1 and point.wrong == 1


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


def test_a_certificate_needs_enough_accepted_labels_not_only_a_bound() -> None:
    rows = [(0.9, 0.2, True)] * 100
    assert choose(evidence(rows)).met_target
    floored = choose(evidence(rows), min_effective=144)
    assert not floored.met_target  # 100 all-right labels clear the bound but not the floor
    assert choose(evidence([(0.9, 0.2, True)] * 150), min_effective=144).met_target


def test_pooled_weights_count_each_stratum_once() -> None:
    from remedy.matching.calibration_labels import LabelRow
    from remedy.matching.calibration_sample import pooled_weights

    def row(file: str, similarity: float, weight: float) -> LabelRow:
        return LabelRow("q", "e", similarity, 0.3, True, None, weight, file=file)

    one = [row("a", 0.91, 10.0), row("a", 0.92, 30.0), row("a", 0.55, 5.0)]
    assert pooled_weights(one) == [10.0, 30.0, 5.0]  # one file: unchanged
    # two rounds both sampled the 0.9-0.95 stratum (size 40 by each): its four rows share 40, not 80
    two = [*one, row("b", 0.93, 20.0), row("b", 0.94, 20.0)]
    weights = pooled_weights(two)
    assert sum(weights[i] for i in (0, 1, 3, 4)) == pytest.approx(40.0)
    assert weights[2] == 5.0
    assert weights[3] == pytest.approx(weights[4])  # equal inside a file's stratum, as drawn


def test_one_stratum_gets_the_jeffreys_bound() -> None:
    from remedy.matching.operating_point import beta_lower

    rows = [(0.9, 0.2, True)] * 190 + [(0.9, 0.2, False)] * 10
    one = Evidence.build([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows], [True] * len(rows),
                         stratum=[3] * len(rows))
    point = choose(one, confidence=0.975).point
    # Beta(x + 1/2, n - x + 1/2): the stratum's own Jeffreys posterior, nothing mixed in
    assert point.precision_lower == pytest.approx(float(beta_lower(np.asarray([190.5]), np.asarray([10.5]), 0.975)[0]),
                                                  abs=1e-6)
    # ... a little above the exact Clopper-Pearson bound on the same labels
    assert clopper_pearson_lower(190, 200, 0.975) < point.precision_lower


def test_a_stratified_bound_charges_a_region_for_thinly_labelled_heavy_strata() -> None:
    # 300 labels from the dense stratum above 0.8 (one log query each, 6 wrong), and four strata below it
    # sampled at a quarter of the rate: three labels each, standing for 4 log queries each, all right.
    dense = [(0.85 + 0.0001 * i, 0.2, i >= 6, 1.0, 7) for i in range(300)]
    sparse = [(0.7, 0.2, True, 4.0, stratum) for stratum in range(4) for _ in range(3)]
    rows = dense + sparse

    def build(stratified: bool) -> Evidence:
        return Evidence.build([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows], [True] * len(rows),
                              [r[3] for r in rows], stratum=[r[4] for r in rows] if stratified else None)

    pooled = choose(build(False), confidence=0.975)
    stratified = choose(build(True), confidence=0.975)
    # Pooled into one effective sample, the heavy strata's 3 of 3 right lift the estimate and the bound
    # certifies the setting that accepts them; judged per stratum, 3 labels say little about 12 queries.
    assert pooled.met_target and pooled.point.threshold <= 0.7
    assert stratified.met_target and stratified.point.threshold > 0.7


def replicated(found: Evidence, times: int) -> Evidence:
    """The same labels `times` over: what "more labels like these" means."""
    out = found
    for _ in range(times - 1):
        out = out.concat(found)
    return out


def test_labels_needed_is_read_from_the_bound_shown_and_more_such_labels_do_certify() -> None:
    # Issue 34: a stratified bound stayed at 0.932 for three rounds while the advice said "1 more label"
    # (the count came from the exact bound on the pooled sample, not from the stratified bound shown).
    # Twenty strata of ten labels, all right: the exact bound on 200 labels would certify 0.95, the stratified
    # one (each stratum's Jeffreys mean is 10.5 / 11) does not.
    found = Evidence.build([0.9] * 200, [0.2] * 200, [True] * 200, [True] * 200,
                           stratum=[i // 10 for i in range(200)])
    result = choose(found, confidence=0.975)
    assert not result.met_target and result.why_not == "bound"
    assert result.point.precision_lower < 0.95 and result.labels_needed is not None
    assert result.labels_needed > 50  # far from "1 more label"
    times = math.ceil((len(found) + result.labels_needed) / len(found))
    assert choose(replicated(found, times), confidence=0.975).met_target


def test_a_bound_above_the_target_that_rests_on_too_few_labels_says_so() -> None:
    # Issue 34: "no setting certifies 0.9" beside a best lower bound of 0.920.
    found = evidence([(0.9, 0.2, True)] * 40)
    result = choose(found, target_precision=0.9, confidence=0.975, min_effective=70)
    assert not result.met_target and result.point.precision_lower >= 0.9
    assert result.why_not == "floor" and result.floor == 70
    assert result.labels_needed == 30  # 40 accepted labels, 70 needed
    assert choose(replicated(found, 2), target_precision=0.9, confidence=0.975, min_effective=70).met_target


def test_when_the_folders_examples_forbid_every_certified_setting_more_labels_will_not_help() -> None:
    labels = evidence([(0.9, 0.2, True)] * 200)
    assert choose(labels).met_target
    veto = evidence([(0.99, 0.3, False)] * 20)  # must_not_match texts won by their own entry, above everything
    result = choose(labels, constraints=[veto])
    assert not result.met_target and result.why_not == "examples" and result.labels_needed is None


def test_a_precision_only_just_above_the_target_is_not_an_errand_for_more_labels() -> None:
    # 0.9500002 observed: certifying 0.95 would take billions of labels like these; say so, not "N more"
    rows = [(0.9, 0.2, True)] * 19 + [(0.9, 0.2, False)]
    result = choose(evidence(rows, [1.0] * 19 + [0.99999]))
    assert not result.met_target and result.labels_needed is None and result.why_not == "distant"
