"""`remedy calibrate --sample N`: the log queries whose labels tell most about the decision settings.

Every distinct log query is decided against the folder's active and draft answers: its best entry
(the *candidate*), similarity and margin. Queries that match an entry exactly are left out (they are
served whatever the settings, so their labels cannot move them), and so are queries already in a
labels file the user passes (`--labels`): nobody is asked the same question twice.

The rest are split into strata by similarity and margin:

- similarity below 0.5: one "far" stratum. No sensible setting accepts these; a few labels from it
  estimate how many queries the folder could answer but never reaches (the base rate behind recall);
- similarity 0.5-0.6-0.7-0.75-0.8-0.85-0.9-0.95-1 x margin 0-0.02-0.05-0.1-0.2-1: the region where
  the threshold and margin can fall. A threshold accepts a quadrant (similarity >= t, margin >= g),
  so every stratum is the difference of two nested quadrants and precision at any setting of the
  grid is a sum over whole strata.

The far stratum gets a tenth of the labels; the others share the rest in proportion to how many
queries they hold, four times over from 0.15 below the threshold in use upwards: the region where a
certified setting can fall, which needs ~70 labels before any bound reaches 0.95.

Rounds: a second `--sample` round (with `--labels` of the first) is drawn the same way, leaving out
what was asked; `pooled_weights` re-weighs the rows of all rounds together, stratum by stratum, so
that no stratum counts twice. Rounds are not aimed at the boundary the first round's answers point
at: tried, aiming certified more recall but less safely (the worst of ten draws at 200 labels in two
rounds was 0.894 precise on CLINC150 test), because the strata it starves inside the accepted region
are then estimated from one or two heavy labels.
Proportional shares give the labels equal weights, and only equal weights let a weighted confidence
bound use every label (square-root shares, tried first, spread labels better but made the bound so
loose that 100-200 labels rarely certified anything). Within a stratum the picks go round-robin over
candidates, so one popular entry does not take every question. Each label's `weight` is the number
of log rows it stands for (its query's rows x distinct queries in its stratum / labels drawn
there), so that precision over the logs is estimated for the population, not for the sample
(unweighted strata over-count the boundary: they certified settings that were 0.925 precise on test).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from remedy.matching.calibration_labels import LabelRow
from remedy.matching.decision import Decision

SIMILARITY_EDGES = (0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95)
MARGIN_EDGES = (0.02, 0.05, 0.1, 0.2)
FAR_SHARE = 0.1
NEAR = 0.15  # strata from this far below the threshold in use upwards get NEAR_BOOST times their share
NEAR_BOOST = 4.0


@dataclass(frozen=True)
class Stratum:
    similarity: tuple[float, float]
    margin: tuple[float, float]
    queries: int  # distinct queries in it
    logs: int  # log rows they stand for
    sampled: int


@dataclass(frozen=True)
class Sample:
    rows: list[LabelRow]
    strata: list[Stratum]
    considered: int  # distinct log queries decided
    exact: int  # left out: they match an entry exactly
    already_labelled: int  # left out: in a labels file given
    no_opinion: int = 0  # left out: the judge said nothing of them (screened out, or no known word)


def stratum_of(similarity: float, margin: float) -> tuple[int, int]:
    """(similarity bin, margin bin); bin 0 of similarity is the far stratum, whatever the margin."""
    s = int(np.searchsorted(SIMILARITY_EDGES, similarity, side="right"))
    return (0, 0) if s == 0 else (s, int(np.searchsorted(MARGIN_EDGES, margin, side="right")))


def draw_sample(queries: Sequence[str], counts: Sequence[int], decisions: Sequence[Decision], n: int, *,
                threshold: float, already_labelled: set[str] = frozenset(),  # type: ignore[assignment]
                seed: int = 0, judged: Sequence[bool] | np.ndarray | None = None) -> Sample:
    """Pick `n` of the decided log queries, stratified as the module says; deterministic for a seed.

    `judged[i]` False: the judge has no opinion of query i (the verifier's screen cut it, or its vector
    is zero): its similarity is 0 to every entry and its "candidate" merely the first entry in tie-break
    order, a question that means nothing to an expert. Such queries are never accepted at any setting,
    so leaving them out changes no precision; they are counted in `no_opinion`.
    """
    rng = np.random.default_rng(seed)
    groups: dict[tuple[int, int], list[int]] = defaultdict(list)
    exact = labelled = silent = 0
    for i, (query, decision) in enumerate(zip(queries, decisions, strict=True)):
        if query in already_labelled:
            labelled += 1
        elif decision.exact:
            exact += 1
        elif (judged is not None and not judged[i]) or decision.similarity <= 0.0:
            silent += 1
        elif decision.best_id is not None:
            groups[stratum_of(decision.similarity, decision.margin)].append(i)
    allocation = _allocate(groups, n, threshold)
    rows: list[LabelRow] = []
    strata: list[Stratum] = []
    for key in sorted(groups):
        members = groups[key]
        picked = _round_robin(members, decisions, allocation.get(key, 0), rng)
        logs = int(sum(counts[i] for i in members))
        for i in picked:
            d = decisions[i]
            rows.append(LabelRow(query=queries[i], candidate=d.best_id, similarity=round(d.similarity, 4),
                                 margin=round(d.margin, 4), weight=round(counts[i] * len(members) / len(picked), 4)))
        strata.append(Stratum(_bounds(SIMILARITY_EDGES, key[0], -1.0), _bounds(MARGIN_EDGES, key[1], 0.0)
                              if key[0] else (0.0, 1.0), len(members), logs, len(picked)))
    # Grouped by candidate, best first: the expert reads one answer and judges its queries together.
    rows.sort(key=lambda r: (r.candidate or "", -(r.similarity or 0.0), r.query))
    return Sample(rows, strata, len(queries), exact, labelled, silent)


def _allocate(groups: dict[tuple[int, int], list[int]], n: int, threshold: float) -> dict[tuple[int, int], int]:
    """Labels per stratum: a tenth to the far stratum, the rest in proportion to size, doubled near `threshold`.

    Proportional allocation gives the labels of a region equal weights, and equal weights are what
    make a weighted bound tight (Kish's effective sample size is the number of labels only then).
    """
    sizes = {key: len(members) for key, members in groups.items() if members}
    if n >= sum(sizes.values()):
        return sizes
    allocation: dict[tuple[int, int], int] = {}
    budget = n
    if (0, 0) in sizes:
        allocation[(0, 0)] = min(sizes[(0, 0)], max(1, round(FAR_SHARE * n)))
        budget -= allocation[(0, 0)]
    shares = {key: size * (NEAR_BOOST if _near(key, threshold) else 1.0)
              for key, size in sizes.items() if key != (0, 0)}
    while budget > 0 and shares:
        whole = sum(shares.values())
        exact = {key: budget * share / whole for key, share in shares.items()}
        room = {key: sizes[key] - allocation.get(key, 0) for key in shares}
        given = {key: min(room[key], math.floor(value)) for key, value in exact.items()}
        # Largest remainders take the labels that rounding down left over.
        left = budget - sum(given.values())
        for key in sorted(exact, key=lambda k: (exact[k] - math.floor(exact[k]), k), reverse=True):
            if left <= 0:
                break
            if given[key] < room[key]:
                given[key] += 1
                left -= 1
        for key, count in given.items():
            allocation[key] = allocation.get(key, 0) + count
        budget -= sum(given.values())
        shares = {key: share for key, share in shares.items() if allocation.get(key, 0) < sizes[key]}
        if not any(given.values()):
            break
    return allocation


def _near(key: tuple[int, int], threshold: float) -> bool:
    # The whole region where a safe setting can fall, boosted alike: equal weights inside it keep the
    # bound on any quadrant (similarity >= t, margin >= g) in it as tight as its label count allows.
    low, _ = _bounds(SIMILARITY_EDGES, key[0], -1.0)
    return key[0] > 0 and low >= threshold - NEAR - 1e-9


def pooled_weights(rows: Sequence[LabelRow]) -> list[float]:
    """Each row's weight when the rows of several sampling rounds (files) are used together.

    Every file's weights in a stratum add up to that stratum's log rows; two files that both sampled a
    stratum would count it twice. Here each stratum's rows share its size (the mean of what the files
    that sampled it say), equally up to their own queries' row counts; one file's weights come back
    unchanged. Rows without a recorded similarity keep their weight.
    """
    groups: dict[tuple[str, tuple[int, int]], list[int]] = defaultdict(list)
    for i, row in enumerate(rows):
        if row.similarity is not None and row.margin is not None:
            groups[(row.file, stratum_of(row.similarity, row.margin))].append(i)
    total = {group: sum(rows[i].weight for i in members) for group, members in groups.items()}
    size: dict[tuple[int, int], list[float]] = defaultdict(list)
    labelled: dict[tuple[int, int], int] = defaultdict(int)
    for (file, key), members in groups.items():
        size[key].append(total[(file, key)])
        labelled[key] += len(members)
    out = [row.weight for row in rows]
    for (file, key), members in groups.items():
        mean_weight = total[(file, key)] / len(members)
        share = (sum(size[key]) / len(size[key])) / labelled[key]
        for i in members:
            out[i] = share * rows[i].weight / mean_weight
    return out


def label_strata(rows: Sequence[LabelRow]) -> list[int]:
    """Each row's sampling stratum as one number (for the stratified bound); -1 without a recorded score."""
    out = []
    for row in rows:
        if row.similarity is None or row.margin is None:
            out.append(-1)
        else:
            similarity_bin, margin_bin = stratum_of(row.similarity, row.margin)
            out.append(similarity_bin * (len(MARGIN_EDGES) + 1) + margin_bin)
    return out


def _bounds(edges: Sequence[float], index: int, floor: float) -> tuple[float, float]:
    low = floor if index == 0 else edges[index - 1]
    high = edges[index] if index < len(edges) else 1.0
    return (float(low), float(high))


def _round_robin(members: list[int], decisions: Sequence[Decision], k: int, rng: np.random.Generator) -> list[int]:
    if k <= 0:
        return []
    by_entry: dict[str, list[int]] = defaultdict(list)
    for i in members:
        by_entry[decisions[i].best_id or ""].append(i)
    queues = [list(rng.permutation(by_entry[entry])) for entry in sorted(by_entry)]
    order = list(rng.permutation(len(queues)))
    picked: list[int] = []
    while len(picked) < k:
        progressed = False
        for q in order:
            if queues[q] and len(picked) < k:
                picked.append(int(queues[q].pop()))
                progressed = True
        if not progressed:
            break
    return picked
