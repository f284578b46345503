"""Folder guidance for `remedy model adapt`: log queries the teacher confidently matches pull toward their remediation.

Regressing the teacher's embeddings (adapt.py) copies the teacher's geometry evenly, everywhere. The
decisions remedy makes happen near the folder's remediations, so the fit is told where they are:
each log query that the *teacher*, under remedy's own decision rule at a strict setting (similarity
>= 0.70 and a lead >= 0.05 over the runner-up of the same kind), matches to an active or draft
remediation gets a target moved part of the way (0.7) from its own teacher vector toward the centroid
of that remediation's texts (question and `also_matches`). A query matched in two kinds moves toward
the mean of both centroids. The folder's own texts are log queries too: they match their entry
exactly, so each `also_matches` is pulled toward its question as well.

Why strict: measured on CLINC150 (docs/model.md), a lead-only rule lifts a folder that covers every
intent in the logs to the teacher's level, but when the folder covers 30 of the 150 intents it pulls
queries of the uncovered intents in and precision at the defaults falls from 0.90 to 0.50. With
the 0.70 floor the guided fit beats the unguided one in both cases.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from remedy.matching.decision import MatchEntry, MatchIndex
from remedy.normalize import normalize_question

GUIDE_THRESHOLD = 0.70  # teacher cosine a query needs to a remediation to guide the fit
GUIDE_MARGIN = 0.05  # ... and its lead over the runner-up remediation of the same kind
GUIDE_PULL = 0.7  # share of the way from the query's own target to the remediation's centroid
GUIDED_STATUSES = ("active", "draft")


@dataclass(frozen=True)
class Guidance:
    """Regression targets after guidance, and how many queries moved toward how many remediations."""

    targets: np.ndarray
    queries: int
    entries: int


def guide_targets(
    texts: Sequence[str],
    teacher_vectors: np.ndarray,
    targets: np.ndarray,
    entries: Sequence[MatchEntry],
    project: Callable[[np.ndarray], np.ndarray],
    *,
    threshold: float = GUIDE_THRESHOLD,
    margin: float = GUIDE_MARGIN,
    pull: float = GUIDE_PULL,
) -> Guidance:
    """Move the targets of confidently matched `texts` toward their remediation's projected teacher centroid.

    `texts` are normalized and `teacher_vectors` holds their unit teacher rows; every entry text must
    be among `texts` (adapt_model embeds them together). `project` maps teacher rows into the
    static model's space (`Projection.apply`).
    """
    entries = [e for e in entries if e.status in GUIDED_STATUSES]
    if not entries:
        return Guidance(targets=targets, queries=0, entries=0)
    row_of = {text: row for row, text in enumerate(texts)}

    def teacher_lookup(batch: Sequence[str]) -> np.ndarray:
        return teacher_vectors[[row_of[normalize_question(t)] for t in batch]]

    # Per-entry threshold overrides are tuned for the static model, not the teacher: not carried over.
    index = MatchIndex([replace(e, threshold=None) for e in entries], teacher_lookup, threshold, margin)
    centroids = {e.id: project(teacher_lookup(_texts(e)).mean(axis=0, keepdims=True))[0] for e in entries}
    pulled = np.zeros_like(targets)
    counts = np.zeros(len(texts), dtype=np.int64)
    winners: set[str] = set()
    for kind in sorted({e.kind for e in entries}):
        decisions = index.decide_vectors(teacher_vectors, list(texts), kind=kind, statuses=GUIDED_STATUSES)
        for row, decision in enumerate(decisions):
            if decision.entry_id is not None:
                pulled[row] += centroids[decision.entry_id]
                counts[row] += 1
                winners.add(decision.entry_id)
    moved = counts > 0
    out = np.array(targets, dtype=np.float32, copy=True)
    out[moved] = (1 - pull) * out[moved] + pull * (pulled[moved] / counts[moved, None])
    return Guidance(targets=out, queries=int(moved.sum()), entries=len(winners))


def entry_texts(entries: Sequence[MatchEntry]) -> list[str]:
    """Every normalized text of the guiding entries, for the teacher to embed with the log queries."""
    return [t for e in entries if e.status in GUIDED_STATUSES for t in _texts(e)]


def _texts(entry: MatchEntry) -> list[str]:
    seen = dict.fromkeys(normalize_question(t) for t in (entry.question, *entry.also_matches))
    seen.pop("", None)
    return list(seen)
