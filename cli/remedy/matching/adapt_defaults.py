"""Decision defaults for an adapted model: its own, chosen on log queries it never fitted, labelled by the teacher.

A threshold tuned for one model means nothing for another, so `remedy model adapt` never copies the
base model's defaults. It holds out every 5th distinct log query (by a hash of its text, so the
choice is stable) from a second fit — the *probe*, which also never sees the folder's
`also_matches` — and lets the teacher label them: a query's right answer is the remediation the
teacher accepts at the strict guidance setting (similarity >= 0.70, lead >= 0.05; adapt_guidance),
or none. The probe decides the same queries against the folder, and the one rule of
operating_point.py chooses threshold and margin: the most recall whose 95 % lower confidence bound
on precision (against the teacher's labels) reaches 0.95. A teacher that does not accept a query
counts it as "no right answer", so an adapted model that accepts what the teacher would not pays
for it in precision.

The teacher's labels are too kind in the open world: it accepts near misses of uncovered topics just
as the model does (measured on CLINC150 validation, with every 5th intent answered: precision 0.92
against the truth where the teacher's labels certified 0.95, at targets up to 0.98). So the setting is
also never looser than the base model's own (open-world-safe) defaults, measured as the share of
the held-out queries they accept: the threshold rises until the adapted model accepts no more. Its
better ranking then buys precision and the right answers among what it serves.

Where the cap leaves too few accepted queries for the bound, the capped setting is kept (it is as safe
as the base defaults it copies the share of) and reported as not certified. When no setting is
certified before the cap, the model gets threshold 1.0 (exact matches only) rather than a guess;
`remedy calibrate` with expert labels is then the way to settings that serve.

The same held-out queries measure the base model (which never saw them either) by the same rule, so
the summary can say whether switching gains anything.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from remedy.matching.adapt_guidance import GUIDE_MARGIN, GUIDE_THRESHOLD, GUIDED_STATUSES
from remedy.matching.decision import MatchEntry, MatchIndex
from remedy.matching.operating_point import CONFIDENCE, THRESHOLDS, Choice, Evidence, choose

HOLDOUT_EVERY = 5  # one distinct log query in this many is held out of the probe fit
TARGET_PRECISION = 0.95
EXACT_ONLY = 1.0  # the threshold written when nothing is certified: serve exact matches only
MIN_HELD_OUT = 20


@dataclass(frozen=True)
class HeldOutChoice:
    """Settings chosen for one model on the held-out queries, and how they do there."""

    threshold: float
    margin: float
    certified: bool
    capped: bool  # held to the base defaults' acceptance share, where too few queries remain to certify
    precision: float
    precision_lower: float
    recall: float
    queries: int  # held-out queries decided
    teacher_positives: int  # ... that the teacher matched to a remediation


def is_held_out(text: str) -> bool:
    """Stable pick of every HOLDOUT_EVERY-th text, by hash: the same text is always in or out."""
    return hashlib.sha256(text.encode("utf-8")).digest()[0] % HOLDOUT_EVERY == 0


def teacher_answers(texts: Sequence[str], teacher_rows: np.ndarray, entries: Sequence[MatchEntry],
                    teacher_vectors_of: Callable[[Sequence[str]], np.ndarray]) -> list[set[str]]:
    """Per text, the remediations the teacher accepts for it at the strict setting (empty: none)."""
    usable = [replace(e, threshold=None) for e in entries if e.status in GUIDED_STATUSES]
    answers: list[set[str]] = [set() for _ in texts]
    if not usable:
        return answers
    index = MatchIndex(usable, teacher_vectors_of, GUIDE_THRESHOLD, GUIDE_MARGIN)
    for kind in sorted({e.kind for e in usable}):
        for row, decision in enumerate(index.decide_vectors(teacher_rows, list(texts), kind=kind,
                                                            statuses=GUIDED_STATUSES)):
            if decision.entry_id is not None:
                answers[row].add(decision.entry_id)
    return answers


def held_out_choice(encode: Callable[[Sequence[str]], np.ndarray], texts: Sequence[str],
                    answers: Sequence[set[str]], entries: Sequence[MatchEntry], *,
                    max_share: float | None = None, fixed: tuple[float, float] | None = None) -> HeldOutChoice | None:
    """Choose settings for the model behind `encode` on the teacher-labelled texts (None: too few).

    `max_share`: accept at most this share of the texts (the threshold rises at the chosen margin until
    it does) — the base model's share at its own open-world-safe defaults, see `accepted_share`.
    `fixed`: no choice, only how (threshold, margin) does on the texts (the base model at its defaults).
    """
    usable = [e for e in entries if e.status in GUIDED_STATUSES]
    if len(texts) < MIN_HELD_OUT or not usable:
        return None
    index = MatchIndex(usable, encode, 0.0, 0.0)
    vectors = np.asarray(encode(list(texts)), dtype=np.float32)
    evidence: Evidence | None = None
    for kind in sorted({e.kind for e in usable}):
        decisions = index.decide_vectors(vectors, list(texts), kind=kind, statuses=GUIDED_STATUSES)
        of_kind = {e.id for e in usable if e.kind == kind}
        part = Evidence.from_decisions(decisions, [a & of_kind for a in answers])
        evidence = part if evidence is None else evidence.concat(part)
    assert evidence is not None
    grid = {} if fixed is None else {"thresholds": [fixed[0]], "margins": [fixed[1]]}
    choice: Choice = choose(evidence, target_precision=TARGET_PRECISION, **grid)  # type: ignore[arg-type]
    usable_setting = choice.met_target or fixed is not None
    if choice.met_target and max_share is not None:
        choice = _no_more_than(evidence, choice, max_share)
        usable_setting = choice.point.threshold < EXACT_ONLY  # capped: safe as the base's defaults are
    point = choice.point
    return HeldOutChoice(
        threshold=point.threshold if usable_setting else EXACT_ONLY,
        margin=point.margin,
        certified=choice.met_target,
        capped=max_share is not None and usable_setting and not choice.met_target,
        precision=point.precision,
        precision_lower=point.precision_lower,
        recall=point.recall if usable_setting else 0.0,
        queries=len(texts),
        teacher_positives=int(sum(bool(a) for a in answers)),
    )


def accepted_share(encode: Callable[[Sequence[str]], np.ndarray], texts: Sequence[str],
                   entries: Sequence[MatchEntry], threshold: float, margin: float) -> float:
    """Share of `texts` the rule accepts at (threshold, margin), pooled over kinds as `held_out_choice` does."""
    usable = [e for e in entries if e.status in GUIDED_STATUSES]
    if not texts or not usable:
        return 1.0
    index = MatchIndex(usable, encode, threshold, margin)
    vectors = np.asarray(encode(list(texts)), dtype=np.float32)
    kinds = sorted({e.kind for e in usable})
    accepted = sum(d.accepted for kind in kinds
                   for d in index.decide_vectors(vectors, list(texts), kind=kind, statuses=GUIDED_STATUSES))
    return accepted / (len(texts) * len(kinds))


def _no_more_than(evidence: Evidence, choice: Choice, max_share: float) -> Choice:
    """At the chosen margin, the lowest threshold at or above the chosen one that accepts <= max_share.

    The capped setting stands on the base defaults' own (open-world) safety even where the few
    queries it still accepts are too few for the bound: it is reported, not certified, then.
    """
    margin = choice.point.margin
    passes = evidence.exact | (evidence.margin >= margin - 1e-9)
    for threshold in [t for t in THRESHOLDS if t >= choice.point.threshold - 1e-9]:
        accepted = passes & (evidence.exact | (evidence.similarity >= threshold - 1e-9))
        if accepted.mean() <= max_share + 1e-12:
            if threshold <= choice.point.threshold + 1e-9:
                return choice
            capped = choose(evidence, target_precision=choice.target_precision, thresholds=[threshold],
                            margins=[margin])
            return replace(capped, met_target=capped.met_target, labels_needed=None)
    return _exact_choice(choice)


def _exact_choice(choice: Choice) -> Choice:
    return Choice(point=replace(choice.point, threshold=EXACT_ONLY, recall=0.0), met_target=False,
                  target_precision=choice.target_precision, confidence=choice.confidence, curve=choice.curve,
                  labels_needed=None)


def defaults_record(chosen: HeldOutChoice, base_name: str) -> dict[str, Any]:
    """remedy_defaults.json for the adapted model."""
    return {
        "threshold": chosen.threshold,
        "margin": chosen.margin,
        "certified": chosen.certified,
        "capped_at_base_share": chosen.capped,
        "rule": f"most recall with the one-sided {CONFIDENCE:.0%} Clopper-Pearson lower bound on precision "
                f">= {TARGET_PRECISION} (remedy/matching/operating_point.py)"
                + ", never accepting a larger share of the held-out queries than the base model's defaults"
                + ("" if chosen.certified or chosen.capped else "; nothing certified: exact matches only"),
        "chosen_on": f"{chosen.queries} log queries held out of a second fit (every {HOLDOUT_EVERY}th by hash), "
                     f"labelled by the teacher at similarity >= {GUIDE_THRESHOLD} and lead >= {GUIDE_MARGIN}",
        "target_precision": TARGET_PRECISION,
        "confidence": CONFIDENCE,
        "precision": round(chosen.precision, 4),
        "precision_lower": round(chosen.precision_lower, 4),
        "recall": round(chosen.recall, 4),
        "teacher_positives": chosen.teacher_positives,
        "adapted_from": base_name,
    }
