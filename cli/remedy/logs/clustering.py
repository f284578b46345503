"""Grouping similar unaddressed failures into issues, ranked by impact, with ids that stay put.

The input is one row per distinct normalized failure query: its embedding, how many failure logs
carry it (weight), their mean severity, and the text. Clustering is greedy leader clustering in
frequency order, exact and deterministic:

1. Order the queries by weight (descending), then by text: the order depends on the data only,
   never on the order of the input rows.
2. Walk that order. A query whose cosine similarity to an existing leader reaches `threshold` joins
   the most similar leader (ties: the earlier leader); otherwise it becomes a new leader.

So every cluster is led by its most frequent query, which is its representative, and the cluster's
id is a hash of that text: the same data gives the same ids, and a cluster keeps its id as long as
its most frequent query stays the same. The walk is done in blocks: a matrix product compares a
block with all earlier leaders at once (in slices, so memory stays bounded), and only the queries
that match none of them are compared one by one with the leaders born inside the block.

Cost is about n x leaders x dim multiply-adds. Past `max_leaders` leaders (default 20,000), the
remaining queries (the rarest) are still compared with every leader, but one that matches none
stays alone instead of becoming a leader for later ones; this bounds the time on data with no
structure at all. The rank is the position in the returned list (1-based): `remedy issue N` means
rank N of that run, and the id is what stays stable between runs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

ID_LENGTH = 12  # hex digits of sha256: collisions need ~16 million clusters to become likely
DEFAULT_MAX_LEADERS = 20_000
_BLOCK = 1024  # queries compared with the leaders at once
_LEADER_SLICE = 8192  # leaders per matrix product: block x slice float32 is 32 MB at most


@dataclass(frozen=True)
class Cluster:
    """One issue: similar failure queries, led by the most frequent one."""

    id: str
    representative: str
    members: tuple[int, ...]  # indices into the inputs, most frequent first
    queries: tuple[str, ...]  # the members' texts, same order
    size: int  # failure logs in the cluster (sum of weights)
    mean_severity: float  # weighted by the logs
    impact: float  # size x mean_severity


def cluster_id(representative: str) -> str:
    """The stable id of a cluster led by this normalized query."""
    return hashlib.sha256(representative.encode("utf-8")).hexdigest()[:ID_LENGTH]


def cluster_failures(
    vectors: np.ndarray,
    weights: Sequence[int] | np.ndarray,
    severities: Sequence[float] | np.ndarray,
    keys: Sequence[str],
    *,
    threshold: float,
    max_leaders: int = DEFAULT_MAX_LEADERS,
) -> list[Cluster]:
    """Cluster distinct failure queries; return the clusters ranked by impact (then size, then id).

    `vectors` is (n, d), L2-normalized (a zero row matches nothing); `weights` the failure logs per
    query; `severities` their mean severity; `keys` the normalized query texts, distinct. Example:

        clusters = cluster_failures(embedder.encode(texts), counts, mean_sev, texts, threshold=0.8)
        top = clusters[0]  # rank 1: top.id, top.representative, top.size, top.impact
    """
    matrix = np.asarray(vectors, dtype=np.float32)
    weight = np.asarray(weights, dtype=np.int64)
    severity = np.asarray(severities, dtype=np.float64)
    n = len(keys)
    if matrix.ndim != 2 or matrix.shape[0] != n or weight.shape != (n,) or severity.shape != (n,):
        raise ValueError("vectors, weights, severities and keys must describe the same n queries")
    if len(set(keys)) != n:
        raise ValueError("keys must be distinct (one row per normalized query)")
    if n == 0:
        return []
    order = sorted(range(n), key=lambda i: (-int(weight[i]), keys[i]))
    leader_of = _assign_leaders(matrix, np.asarray(order, dtype=np.int64), threshold, max_leaders)
    groups: dict[int, list[int]] = {}
    for position, index in enumerate(order):
        groups.setdefault(int(leader_of[position]), []).append(index)
    clusters = [_summarize(members, weight, severity, keys) for members in groups.values()]
    clusters.sort(key=lambda c: (-c.impact, -c.size, c.id))
    return _disambiguate(clusters)


def _assign_leaders(matrix: np.ndarray, order: np.ndarray, threshold: float, max_leaders: int) -> np.ndarray:
    """For each position in `order`, the position of its leader (its own position for a leader)."""
    n, dim = len(order), matrix.shape[1]
    leader_vectors = np.empty((min(n, 4096), dim), dtype=np.float32)
    leader_positions = np.empty(n, dtype=np.int64)  # leader number -> position in `order`
    leaders = 0
    leader_of = np.empty(n, dtype=np.int64)
    for start in range(0, n, _BLOCK):
        stop = min(n, start + _BLOCK)
        rows = np.arange(stop - start)
        block = matrix[order[start:stop]]
        best_sim, best = _best_leaders(block, leader_vectors[:leaders])
        # The queries that no earlier leader takes: which of them lead is decided one by one, in order.
        open_rows = np.flatnonzero(best_sim < threshold)
        # One product serves both the one-by-one decisions and the assignment below, so both see the
        # very same numbers (two differently shaped products may differ in the last bit).
        to_open = block @ block[open_rows].T
        new_k: list[int] = []  # indices into open_rows of the block's new leaders
        alone: list[int] = []
        for k, row in enumerate(open_rows):
            if new_k and bool((to_open[row, new_k] >= threshold).any()):
                continue  # a leader born earlier in this block takes it (assigned below)
            if leaders + len(new_k) < max_leaders:
                new_k.append(k)
            else:
                alone.append(int(row))
        new_rows = open_rows[new_k]
        if new_rows.size:
            # Everyone after a new leader in the block may prefer it to the older leaders.
            new_sims = np.where(rows[:, None] > new_rows[None, :], to_open[:, new_k], -np.inf)
            new_best = np.argmax(new_sims, axis=1)
            new_best_sim = new_sims[rows, new_best]
            better = new_best_sim > best_sim  # strictly: on a tie the older leader keeps it
            best = np.where(better, leaders + new_best, best)
            best_sim = np.where(better, new_best_sim, best_sim)
            leader_vectors = _grow(leader_vectors, leaders + new_rows.size)
            leader_vectors[leaders : leaders + new_rows.size] = block[new_rows]
            leader_positions[leaders : leaders + new_rows.size] = start + new_rows
            leaders += new_rows.size
        own = np.zeros(stop - start, dtype=bool)
        own[new_rows] = True
        own[alone] = True
        joined = ~own
        if not bool((best_sim[joined] >= threshold).all()):
            raise AssertionError("a query was left without a leader")  # cannot happen: see above
        leader_of[start:stop] = np.where(own, start + rows, leader_positions[np.where(joined, best, 0)])
    return leader_of


def _best_leaders(block: np.ndarray, leader_vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per block row, the highest similarity to a leader and which leader (the first on ties)."""
    best_sim = np.full(len(block), -np.inf, dtype=np.float32)
    best = np.zeros(len(block), dtype=np.int64)
    for first in range(0, len(leader_vectors), _LEADER_SLICE):
        sims = block @ leader_vectors[first : first + _LEADER_SLICE].T
        slice_best = np.argmax(sims, axis=1)
        slice_sim = sims[np.arange(len(block)), slice_best]
        better = slice_sim > best_sim
        best = np.where(better, first + slice_best, best)
        best_sim = np.where(better, slice_sim, best_sim)
    return best_sim, best


def _grow(array: np.ndarray, needed: int) -> np.ndarray:
    if needed <= len(array):
        return array
    grown = np.empty((max(needed, 2 * len(array)), array.shape[1]), dtype=array.dtype)
    grown[: len(array)] = array
    return grown


def _summarize(members: list[int], weight: np.ndarray, severity: np.ndarray, keys: Sequence[str]) -> Cluster:
    index = np.asarray(members, dtype=np.int64)
    size = int(weight[index].sum())
    total_severity = float(np.dot(weight[index].astype(np.float64), severity[index]))
    mean = total_severity / size if size else 0.0
    return Cluster(
        id=cluster_id(keys[members[0]]),
        representative=keys[members[0]],
        members=tuple(members),
        queries=tuple(keys[i] for i in members),
        size=size,
        mean_severity=mean,
        impact=total_severity,
    )


def _disambiguate(clusters: list[Cluster]) -> list[Cluster]:
    """Ids are hashes; on the (astronomically rare) collision, later ranks get a suffix."""
    seen: dict[str, int] = {}
    result = []
    for cluster in clusters:
        count = seen.get(cluster.id, 0) + 1
        seen[cluster.id] = count
        if count > 1:
            cluster = Cluster(**{**cluster.__dict__, "id": f"{cluster.id}-{count}"})
        result.append(cluster)
    return result
