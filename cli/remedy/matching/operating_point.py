"""A safe operating point: the threshold and margin with the most recall whose precision is *certified*.

Every place that chooses decision settings uses this one rule: the bundled model's shipped defaults
(scripts/choose_defaults.py, on CLINC150 validation), `remedy model adapt` (on held-out log queries
labelled by the teacher) and `remedy calibrate` (on expert labels). The rule:

    maximise recall  subject to  LB95(precision) >= target

where LB95 is the one-sided 95 % Clopper-Pearson lower confidence bound on precision (the exact
binomial bound, not Wilson's: near precision 1 Wilson is too generous — it certifies 0.95 with 52
all-correct accepted labels where the exact bound needs 59). A point estimate of precision is not
enough: choosing for 0.955 on validation gave 0.943 on test (docs/model.md); the bound is a safety
margin that grows when the evidence is thin, which is exactly when a setting is most likely tuned to
noise.

Labels may carry weights (a sampled log query stands for the log queries of its stratum,
calibration_sample.py): precision is then the weighted share of accepted weight that is correct, and
the bound uses Kish's effective sample size n_eff = (sum w)^2 / sum w^2 with n_eff * precision
successes (Korn & Graubard 1998); with equal weights it is the plain Clopper-Pearson bound.

Labels drawn by stratum (expert labels: each row knows the similarity/margin stratum it was drawn
from) get a *stratified* bound instead: each stratum's precision has its own Jeffreys posterior
Beta(x + 1/2, n - x + 1/2), the region's precision is their mix weighted by the log rows each stratum
holds, and the bound is the lower quantile of a Beta with that mix's mean and variance. A region that
reaches into strata judged from two or three heavy labels is charged for each of them: pooled into one
effective sample, three right answers out of three count as three more right answers, however many log
queries they stand for (they certified settings 0.92 precise on CLINC150 test for an adapted model;
docs/model.md). Jeffreys, not Clopper-Pearson, per stratum: the exact bound adds a whole wrong answer to
every stratum, and with the ~10 strata a region spans that certified nothing below 800 labels.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np

from remedy.matching.decision import Decision

CONFIDENCE = 0.95
THRESHOLDS = tuple(round(0.30 + 0.005 * i, 3) for i in range(140))  # 0.300 .. 0.995
MARGINS = tuple(round(0.005 * i, 3) for i in range(61))  # 0.000 .. 0.300
_BETA_ITERATIONS = 400


@dataclass(frozen=True)
class Evidence:
    """Labelled queries as the rule sees them: one row each, numpy arrays of equal length."""

    similarity: np.ndarray  # best entry's similarity
    margin: np.ndarray  # its lead over the runner-up
    correct: np.ndarray  # bool: the best entry is a right answer
    answerable: np.ndarray  # bool: some entry is a right answer (the recall denominator)
    weight: np.ndarray  # how many queries each label stands for (1 when unweighted)
    exact: np.ndarray  # bool: matched exactly, accepted whatever the settings
    stratum: np.ndarray  # int: the sampling stratum a label was drawn from; -1 when not drawn by stratum

    @classmethod
    def build(cls, similarity: Sequence[float], margin: Sequence[float], correct: Sequence[bool],
              answerable: Sequence[bool], weight: Sequence[float] | None = None,
              exact: Sequence[bool] | None = None, stratum: Sequence[int] | None = None) -> Evidence:
        n = len(similarity)
        return cls(
            similarity=np.asarray(similarity, dtype=np.float64).reshape(n),
            margin=np.asarray(margin, dtype=np.float64).reshape(n),
            correct=np.asarray(correct, dtype=bool).reshape(n),
            answerable=np.asarray(answerable, dtype=bool).reshape(n),
            weight=np.ones(n) if weight is None else np.asarray(weight, dtype=np.float64).reshape(n),
            exact=np.zeros(n, bool) if exact is None else np.asarray(exact, dtype=bool).reshape(n),
            stratum=np.full(n, -1) if stratum is None else np.asarray(stratum, dtype=np.int64).reshape(n),
        )

    @classmethod
    def from_decisions(cls, decisions: Sequence[Decision], right: Sequence[Collection[str]],
                       weight: Sequence[float] | None = None, stratum: Sequence[int] | None = None) -> Evidence:
        """Decisions of the rule and, per query, the entries that are right answers (empty: none is)."""
        return cls.build(
            # a query a must_not_match blocked is refused at every threshold and margin (decision rule 4)
            [-1.0 if d.blocked else d.similarity for d in decisions],
            [d.margin for d in decisions],
            [d.best_id is not None and d.best_id in r for d, r in zip(decisions, right, strict=True)],
            [bool(r) for r in right],
            weight,
            [d.exact for d in decisions],
            stratum,
        )

    def __len__(self) -> int:
        return int(self.similarity.size)

    def concat(self, other: Evidence) -> Evidence:
        return Evidence(*(np.concatenate((a, b)) for a, b in zip(self._fields(), other._fields(), strict=True)))

    def _fields(self) -> tuple[np.ndarray, ...]:
        return (self.similarity, self.margin, self.correct, self.answerable, self.weight, self.exact, self.stratum)

    @property
    def stratified(self) -> bool:
        return bool((self.stratum >= 0).any())

    def subset(self, keep: np.ndarray) -> Evidence:
        return Evidence(*(values[keep] for values in self._fields()))


@dataclass(frozen=True)
class OperatingPoint:
    """What the rule would do at one (threshold, margin) on the labels."""

    threshold: float
    margin: float
    precision: float  # weighted point estimate; 1.0 when nothing is accepted
    precision_lower: float  # one-sided lower bound: Clopper-Pearson, or stratified (module docstring)
    recall: float  # weighted correct accepted / weighted answerable
    accepted: int  # labels accepted (unweighted count)
    wrong: int  # ... of which not correct
    effective_accepted: float  # Kish's n_eff of the accepted labels (stratified: the bound's equivalent count)


@dataclass(frozen=True)
class Choice:
    """The chosen point, whether it meets the bound, and the curve at its margin (for printing)."""

    point: OperatingPoint
    met_target: bool
    target_precision: float
    confidence: float
    curve: tuple[OperatingPoint, ...]  # every threshold at the chosen margin
    labels_needed: int | None  # when not met: roughly how many more labels could certify the target


def clopper_pearson_lower(successes: float, trials: float, confidence: float = CONFIDENCE) -> float:
    """One-sided lower confidence bound on a binomial proportion (exact; real-valued counts allowed)."""
    return float(lower_bounds(np.asarray([successes], dtype=np.float64), np.asarray([trials], dtype=np.float64),
                              confidence)[0])


def lower_bounds(successes: np.ndarray, trials: np.ndarray, confidence: float = CONFIDENCE) -> np.ndarray:
    """Vectorized `clopper_pearson_lower`: the p solving I_p(x, n - x + 1) = 1 - confidence, by bisection."""
    trials = np.asarray(trials, dtype=np.float64)
    successes = np.minimum(np.asarray(successes, dtype=np.float64), trials)
    return beta_lower(successes, trials - successes + 1.0, confidence)


def beta_lower(a: np.ndarray, b: np.ndarray, confidence: float = CONFIDENCE) -> np.ndarray:
    """The (1 - confidence) quantile of Beta(a, b), elementwise; 0 where a is 0."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    out = np.zeros(a.shape)
    ok = (a > 0) & (b > 0)
    if not ok.any():
        return out
    a, b = a[ok], b[ok]
    low, high = np.zeros(a.shape), np.ones(a.shape)
    for _ in range(40):  # I_p(a, b) rises with p; 2^-40 is far below any figure we print
        middle = (low + high) / 2
        below = regularized_beta(a, b, middle) < (1.0 - confidence)
        low = np.where(below, middle, low)
        high = np.where(below, high, middle)
    out[ok] = low
    return out


def bound_reaches(successes: np.ndarray, trials: np.ndarray, target: float,
                  confidence: float = CONFIDENCE) -> np.ndarray:
    """Vectorized: does the Clopper-Pearson lower bound reach `target`? (I_target(x, n-x+1) <= alpha)."""
    trials = np.asarray(trials, dtype=np.float64)
    successes = np.minimum(np.asarray(successes, dtype=np.float64), trials)
    return beta_reaches(successes, trials - successes + 1.0, target, confidence)


def beta_reaches(a: np.ndarray, b: np.ndarray, target: float, confidence: float = CONFIDENCE) -> np.ndarray:
    """Vectorized: is the (1 - confidence) quantile of Beta(a, b) at least `target`?"""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    ok = (a > 0) & (b > 0)
    out = np.zeros(a.shape, dtype=bool)
    if ok.any() and target < 1.0:
        out[ok] = regularized_beta(a[ok], b[ok], np.full(int(ok.sum()), float(target))) <= (1.0 - confidence)
    return out


def regularized_beta(a: np.ndarray, b: np.ndarray, x: np.ndarray) -> np.ndarray:
    """I_x(a, b) elementwise (continued fraction, modified Lentz; Numerical Recipes' betacf)."""
    a, b, x = (np.asarray(v, dtype=np.float64) for v in (a, b, x))
    out = np.where(x <= 0, 0.0, 1.0)
    inside = (x > 0) & (x < 1)
    if not inside.any():
        return out
    a, b, x = a[inside], b[inside], x[inside]
    swap = x >= (a + 1.0) / (a + b + 2.0)  # the fraction converges fast below this point
    a2, b2, x2 = np.where(swap, b, a), np.where(swap, a, b), np.where(swap, 1 - x, x)
    log_front = _lgamma(a2 + b2) - _lgamma(a2) - _lgamma(b2) + a2 * np.log(x2) + b2 * np.log1p(-x2)
    value = np.exp(log_front) * _beta_fraction(a2, b2, x2) / a2
    out[inside] = np.where(swap, 1.0 - value, value)
    return np.clip(out, 0.0, 1.0)


def _lgamma(values: np.ndarray) -> np.ndarray:
    return np.fromiter((math.lgamma(v) for v in values.ravel()), np.float64, values.size).reshape(values.shape)


def _beta_fraction(a: np.ndarray, b: np.ndarray, x: np.ndarray) -> np.ndarray:
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = np.ones_like(x)
    d = 1.0 - qab * x / qap
    d = 1.0 / np.where(np.abs(d) < tiny, tiny, d)
    h = d.copy()
    for m in range(1, _BETA_ITERATIONS + 1):
        m2 = 2 * m
        even = m * (b - m) * x / ((qam + m2) * (a + m2))
        odd = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        for numerator in (even, odd):
            d = 1.0 + numerator * d
            d = 1.0 / np.where(np.abs(d) < tiny, tiny, d)
            c = 1.0 + numerator / c
            c = np.where(np.abs(c) < tiny, tiny, c)
            step = d * c
            h = h * step
        if np.all(np.abs(step - 1.0) < 1e-12):
            break
    return h


def grid(evidence: Evidence, thresholds: Sequence[float] = THRESHOLDS,
         margins: Sequence[float] = MARGINS) -> dict[str, np.ndarray]:
    """Weighted counts at every (margin, threshold): arrays of shape (len(margins), len(thresholds))."""
    t = np.asarray(thresholds, dtype=np.float64)
    shape = (len(margins), len(thresholds))
    sums = {name: np.zeros(shape) for name in ("weight", "correct", "square", "count", "wrong_count")}
    w, c = evidence.weight, evidence.correct
    for row, g in enumerate(margins):
        # An exact match is accepted whatever the settings; the rest pass both tests.
        passes = evidence.exact | (evidence.margin >= g - 1e-9)
        sims = np.where(evidence.exact, np.inf, evidence.similarity)[passes]
        order = np.argsort(-sims, kind="stable")
        sims = sims[order]
        cumulative = {
            "weight": np.cumsum(w[passes][order]),
            "correct": np.cumsum((w * c)[passes][order]),
            "square": np.cumsum((w * w)[passes][order]),
            "count": np.cumsum(np.ones(order.size)),
            "wrong_count": np.cumsum((~c)[passes][order].astype(np.float64)),
        }
        # Number accepted at threshold t: similarities >= t (sorted descending).
        taken = np.searchsorted(-sims, -(t - 1e-9), side="right")
        for name, values in cumulative.items():
            padded = np.concatenate(([0.0], values))
            sums[name][row] = padded[taken]
    return sums


def choose(evidence: Evidence | Sequence[Evidence], *, target_precision: float = 0.95,
           confidence: float = CONFIDENCE, thresholds: Sequence[float] = THRESHOLDS,
           margins: Sequence[float] = MARGINS, estimated: Sequence[Evidence] = (),
           constraints: Sequence[Evidence] = (), min_effective: float = 0.0) -> Choice:
    """The most recall whose precision bound reaches the target; else the setting closest to it.

    Several evidence sets (e.g. a closed-world and an open-world folder): the bound must hold in
    each, recall is their mean, and the curve and figures are those of the first. `estimated` sets
    must reach the target with their point estimate only (where no bound can: scripts/choose_defaults.py).
    `constraints` must reach the bound too but add nothing to recall: evidence that is not drawn from
    the traffic the settings will serve (the folder's own held-out examples) may forbid a setting the
    log labels certify, never allow one they do not.
    """
    sets = [evidence] if isinstance(evidence, Evidence) else list(evidence)
    if not sets or any(len(e) == 0 for e in [*sets, *estimated, *constraints]):
        raise ValueError("no labels to choose settings from")
    if not 0.0 < target_precision <= 1.0:
        raise ValueError("target precision must be in (0, 1]")
    tables = [_table(e, thresholds, margins, target_precision, confidence) for e in sets]
    tables += [_table(e, thresholds, margins, target_precision, None) for e in estimated]
    recall = np.mean([t.recall for t in tables], axis=0)
    tables += [_table(e, thresholds, margins, target_precision, confidence) for e in constraints]
    reaches = np.logical_and.reduce([t.reaches for t in tables]) & (tables[0].effective >= min_effective)
    first = tables[0]
    met = bool(reaches.any()) and target_precision < 1.0  # no finite sample certifies perfection
    if met:
        # Most recall; among equal recall the larger effective sample (a tighter bound), then the middle
        # of what is left in threshold order (a setting right at the edge of the labels is fitted to them).
        best_recall = recall[reaches].max()
        tied = reaches & (recall >= best_recall - 1e-12)
        most = first.effective[tied].max()
        rows, columns = np.nonzero(tied & (first.effective >= most - 1e-9))
        order = np.lexsort((rows, columns))
        pick = order[len(order) // 2]
        row, column = int(rows[pick]), int(columns[pick])
        needed = None
    else:
        row, column, needed = _closest(first.precision, first.effective, first.sums["count"], target_precision,
                                       confidence, len(sets[0]), min_effective)
    bounds = beta_lower(first.alpha[row], first.beta[row], confidence)
    curve = tuple(_point(first, bounds, thresholds, margins, row, c) for c in range(len(thresholds)))
    return Choice(point=curve[column], met_target=met, target_precision=target_precision, confidence=confidence,
                  curve=curve, labels_needed=needed)


@dataclass(frozen=True)
class _Table:
    sums: dict[str, np.ndarray]
    precision: np.ndarray  # weighted point estimate
    effective: np.ndarray  # labels the bound rests on (Kish's n_eff; stratified: the matched Beta's a + b - 1)
    alpha: np.ndarray  # the bound is the lower quantile of Beta(alpha, beta)
    beta: np.ndarray
    recall: np.ndarray
    reaches: np.ndarray


def _table(evidence: Evidence, thresholds: Sequence[float], margins: Sequence[float], target: float,
           confidence: float | None) -> _Table:
    """Every grid point's figures; `confidence` None: the point estimate must reach the target, not the bound."""
    sums = grid(evidence, thresholds, margins)
    accepted_weight = sums["weight"]
    precision = np.divide(sums["correct"], accepted_weight, out=np.ones_like(accepted_weight),
                          where=accepted_weight > 0)
    if evidence.stratified:
        alpha, beta = _stratified_beta(evidence, thresholds, margins, accepted_weight)
        effective = np.maximum(alpha + beta - 1.0, 0.0)
    else:  # Clopper-Pearson on the effective sample: Beta(x, n - x + 1)
        effective = np.divide(accepted_weight**2, sums["square"], out=np.zeros_like(accepted_weight),
                              where=sums["square"] > 0)
        alpha = effective * precision
        beta = effective - alpha + 1.0
    answerable = float((evidence.weight * evidence.answerable).sum())
    recall = sums["correct"] / answerable if answerable > 0 else np.zeros_like(accepted_weight)
    candidates = (sums["count"] > 0) & (precision >= target - 1e-12) & (effective > 0)
    reaches = candidates.copy()
    if confidence is not None:
        reaches[candidates] = beta_reaches(alpha[candidates], beta[candidates], target, confidence)
    return _Table(sums, precision, effective, alpha, beta, recall, reaches)


def _stratified_beta(evidence: Evidence, thresholds: Sequence[float], margins: Sequence[float],
                     accepted_weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The stratified bound's Beta(alpha, beta): Jeffreys per stratum, mixed by weight, moments matched."""
    mean = np.zeros_like(accepted_weight)
    variance = np.zeros_like(accepted_weight)
    for stratum in np.unique(evidence.stratum):
        part = grid(evidence.subset(evidence.stratum == stratum), thresholds, margins)
        weight, square = part["weight"], part["square"]
        held = weight > 0
        n = np.divide(weight**2, square, out=np.zeros_like(weight), where=square > 0)  # Kish, within the stratum
        p = np.divide(part["correct"], weight, out=np.zeros_like(weight), where=held)
        a, b = n * p + 0.5, n * (1.0 - p) + 0.5
        share = np.divide(weight, accepted_weight, out=np.zeros_like(weight), where=accepted_weight > 0)
        mean += np.where(held, share * a / (a + b), 0.0)
        variance += np.where(held, share**2 * a * b / ((a + b) ** 2 * (a + b + 1.0)), 0.0)
    # Beta(A, B) with this mean and variance: A + B = mean (1 - mean) / variance - 1.
    total = np.divide(mean * (1.0 - mean), variance, out=np.zeros_like(mean), where=variance > 0) - 1.0
    total = np.maximum(total, 0.0)
    return mean * total, (1.0 - mean) * total


def labels_to_certify(precision: np.ndarray, target: float, confidence: float = CONFIDENCE) -> np.ndarray:
    """Accepted labels needed, at each observed precision, for the bound to reach `target` (inf: never)."""
    precision = np.asarray(precision, dtype=np.float64)
    out = np.full(precision.shape, np.inf)
    possible = precision > target
    if target >= 1.0 or not possible.any():
        return out
    p = precision[possible]
    low, high = np.ones(p.shape), np.full(p.shape, 2.0**26)
    for _ in range(30):  # bisection on the count: the bound rises with it at fixed precision
        middle = np.floor((low + high) / 2)
        enough = bound_reaches(p * middle, middle, target, confidence)
        high = np.where(enough, middle, high)
        low = np.where(enough, low, middle + 1)
    out[possible] = np.where(bound_reaches(p * high, high, target, confidence), high, np.inf)
    return out


def _closest(precision: np.ndarray, effective: np.ndarray, count: np.ndarray, target: float, confidence: float,
             total_labels: int, min_effective: float = 0.0) -> tuple[int, int, int | None]:
    """The setting that needs the fewest more labels to certify the target, and roughly how many.

    At a setting whose observed precision is above the target, the bound tightens as accepted labels
    grow; scaling the labels by (needed / accepted now) estimates the total. None when no setting's
    observed precision is above the target: more labels of the same kind will not help.
    """
    needed = np.full(precision.shape, np.inf)
    usable = (count > 0) & (precision > target)
    needed[usable] = np.maximum(labels_to_certify(precision[usable], target, confidence), min_effective)
    factor = np.where(usable, needed / np.maximum(effective, 1e-9), np.inf)
    if np.isfinite(factor).any():
        row, column = np.unravel_index(int(np.argmin(factor)), factor.shape)
        return int(row), int(column), max(1, math.ceil(total_labels * (float(factor[row, column]) - 1.0)))
    flat = int(np.argmax(np.where(count > 0, precision, -1.0)))
    row, column = np.unravel_index(flat, precision.shape)
    return int(row), int(column), None


def _point(table: _Table, bounds: np.ndarray, thresholds: Sequence[float], margins: Sequence[float], row: int,
           column: int) -> OperatingPoint:
    return OperatingPoint(
        threshold=float(thresholds[column]),
        margin=float(margins[row]),
        precision=float(table.precision[row, column]),
        precision_lower=float(bounds[column]),
        recall=float(table.recall[row, column]),
        accepted=int(table.sums["count"][row, column]),
        wrong=int(table.sums["wrong_count"][row, column]),
        effective_accepted=float(table.effective[row, column]),
    )
