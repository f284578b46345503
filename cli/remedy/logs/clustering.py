"""Grouping unaddressed failures into topics: the failures one answer (with its also_matches) could cover.

The input is one row per distinct normalized failure query: its embedding, how many failure logs
carry it (weight), the sum of their severities, their decayed impact, and the text. It arrives in
frequency order (weight descending, then text), in batches, so a million-row log never holds all its
vectors at once. Two stages:

1. **Micro-clusters** (leader clustering, exact and deterministic). A query whose cosine to an
   existing leader reaches `leader_threshold` joins the most similar leader (ties: the earlier one);
   otherwise it becomes a leader. Each leader keeps only the *sum* of its members' unit vectors.
   Past `max_leaders` leaders a query that reaches no leader still joins the nearest one when the
   average linkage would take it (cosine >= `merge_threshold`), else it stays a topic of its own:
   memory is bounded by `max_leaders` vectors whatever the input.
2. **Topics** (average linkage over the micro-clusters). The average cosine between the members of
   two groups is `sum_a . sum_b / (n_a n_b)` for unit vectors, so merging by it needs only the sums.
   Groups merge, most similar pair first, while that average reaches `merge_threshold`. A merged
   group's average with a third is the weighted mean of its parts' averages, so a pair can only
   reach the threshold if one of the parts did: the candidate pairs are those of the micro-cluster
   graph (each micro-cluster keeps its `neighbours` most similar ones above the threshold).

Both thresholds are static cosines: the model's own (`topics` in its remedy_defaults.json, chosen on
CLINC150 validation), or for a model without them offsets from its threshold (`topic_thresholds`):
a micro-cluster is about what one question would match, and a topic what a few paraphrases in
`also_matches` would cover. (`topic_merging` then lets the verifier merge topics of the queue's head.)
A topic's representative is its most central leader (highest cosine with the topic's
mean; ties: more frequent, then text), and its id is a hash of that text: stable across runs on the
same data, and kept as long as the centre of the topic does not move.

While the leaders are not full, a query only needs the leaders it reaches (`leader_threshold`), so
it is not multiplied by every leader in full: a cheap upper bound (`_Bound`, a few principal
directions plus the norm of the rest) rules out nearly all pairs, and the similarity of the few left
is computed exactly, in float64. The result is the exact one; the bound only saves work. (Past
`max_leaders` the nearest leader down to `merge_threshold` is needed, where the bound leaves too
many pairs to pay: those blocks are compared in full.)
"""

from __future__ import annotations

import hashlib
import heapq
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

import numpy as np

ID_LENGTH = 12  # hex digits of sha256: collisions need ~16 million clusters to become likely
DEFAULT_MAX_LEADERS = 20_000
DEFAULT_NEIGHBOURS = 32
# Offsets from the decision threshold, chosen on CLINC150 validation (benchmarks/issues_quality.py).
LEADER_OFFSET = 0.0
MERGE_OFFSET = -0.20
_BLOCK = 1024  # queries compared with the leaders at once
_LEADER_SLICE = 4096  # leaders per matrix product: block x slice float32 is 16 MB at most
_MERGE_ROWS = 256  # micro-clusters per row block when finding linkage neighbours: 20 MB at 20,000 leaders
# Principal directions in the bound. At 1M rows and the leader threshold 0.86, 32 left 1.37M pairs to
# compute exactly (17,366 reach it): 4.2 s of adding queries against 3.2 s with 64, the same topics.
_BOUND_DIMS = 64
_BOUND_SLACK = 1e-4  # float32 rounding of the bound is far below this: no pair that reaches is ruled out
_DENSE_SHARE = 0.1  # past this share of pairs left by the bound, compare the whole tile exactly
_DOT_CHUNK = 8192  # pairs whose exact products are computed at once (16 MB of float64 rows)
_EDGE_WINDOW = 65_536  # graph edges turned into Python numbers at once while merging (a few MB)


@dataclass(frozen=True)
class Cluster:
    """One topic: similar failure queries and their totals."""

    id: str
    representative: str
    members: tuple[int, ...]  # indices into the inputs (in the order given), most frequent first
    queries: tuple[str, ...]  # the members' texts, same order
    size: int  # failure logs in the cluster (sum of weights)
    mean_severity: float  # weighted by the logs
    impact: float  # sum over its logs of severity x recency weight (= size x mean_severity without decay)


def cluster_id(representative: str) -> str:
    """The stable id of a cluster represented by this normalized query."""
    return hashlib.sha256(representative.encode("utf-8")).hexdigest()[:ID_LENGTH]


def topic_thresholds(decision_threshold: float) -> tuple[float, float]:
    """(leader, merge) thresholds for a decision threshold: the same similarity scale, shifted."""
    leader = min(0.99, decision_threshold + LEADER_OFFSET)
    return leader, min(leader, max(0.0, decision_threshold + MERGE_OFFSET))


class TopicClustering:
    """Feed distinct failure queries in frequency order (`add`), then `clusters()`.

    Example:
        topics = TopicClustering(dim=256, leader_threshold=0.8, merge_threshold=0.51)
        for batch in batches:  # each sorted by weight descending, then text; batches in that order too
            topics.add(vectors, weights, severity_sums, impacts, texts)
        ranked = topics.clusters()  # by impact
    """

    def __init__(self, dim: int, *, leader_threshold: float, merge_threshold: float | None,
                 max_leaders: int = DEFAULT_MAX_LEADERS, neighbours: int = DEFAULT_NEIGHBOURS) -> None:
        self.dim = dim
        self.leader_threshold = leader_threshold
        self.merge_threshold = merge_threshold  # None: micro-clusters only
        self.max_leaders = max_leaders
        self.neighbours = neighbours
        self._leader_vectors = np.empty((0, dim), dtype=np.float32)
        self._bound: _Bound | None = None  # built from the first batch (its principal directions)
        self._leader_bounds = np.empty((0, 0), dtype=np.float32)
        self._sums = np.empty((0, dim), dtype=np.float32)  # float32: exact enough for means of thousands
        self._counts = np.empty(0, dtype=np.int64)  # distinct queries per leader
        self._leader_query: list[int] = []  # leader number -> query index
        self._leaders = 0
        self._keys: list[str] = []
        # Per query, in chunks of NumPy arrays (one per block): 32 bytes a query, not ~140 as Python lists
        self._weights: list[np.ndarray] = []
        self._severity: list[np.ndarray] = []
        self._impact: list[np.ndarray] = []
        self._group: list[np.ndarray] = []  # query -> leader number, or -1 - query for a query alone
        self._last: tuple[int, str] | None = None

    def add(self, vectors: np.ndarray, weights: Sequence[int] | np.ndarray, severity_sums: Sequence[float] | np.ndarray,
            impacts: Sequence[float] | np.ndarray, keys: Sequence[str]) -> None:
        matrix = np.asarray(vectors, dtype=np.float32)
        weight = np.asarray(weights, dtype=np.int64)
        n = len(keys)
        if matrix.ndim != 2 or matrix.shape != (n, self.dim) or weight.shape != (n,) or len(severity_sums) != n \
                or len(impacts) != n:
            raise ValueError("vectors, weights, severities, impacts and keys must describe the same n queries")
        for w, key in zip(weight.tolist(), keys, strict=True):
            order = (-w, key)
            if self._last is not None and order <= (-self._last[0], self._last[1]):
                raise ValueError("queries must come in frequency order (weight descending, then text), distinct")
            self._last = (w, key)
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        matrix = np.divide(matrix, norms, out=np.zeros_like(matrix), where=norms > 0)
        first = len(self._keys)
        self._keys.extend(keys)
        self._weights.append(weight)
        self._severity.append(np.array(severity_sums, dtype=np.float64))
        self._impact.append(np.array(impacts, dtype=np.float64))
        if n and self._bound is None:
            self._bound = _Bound(matrix, min(_BOUND_DIMS, self.dim))
            self._leader_bounds = np.empty((0, self._bound.width), dtype=np.float32)
        for start in range(0, n, _BLOCK):
            self._walk(matrix[start:start + _BLOCK], first + start)

    def _walk(self, block: np.ndarray, first: int) -> None:
        assert self._bound is not None
        threshold, rows = self.leader_threshold, np.arange(len(block))
        bounds = self._bound.project(block)
        leaders = self._leader_vectors[:self._leaders]
        if self.merge_threshold is not None and self._leaders + len(block) > self.max_leaders:
            # The leaders may fill up in this block: a query that cannot lead joins its nearest
            # leader when the linkage would take it, so similarities far below the threshold count.
            best_sim, best = _best_leaders(block, leaders)
        else:  # only the leaders a query reaches count (elsewhere best_sim < threshold decides the same)
            best_sim, best = _best_reaching(block, bounds, leaders, self._leader_bounds[:self._leaders], threshold)
        # The queries no earlier leader takes: which of them lead is decided one by one, in order.
        open_rows = np.flatnonzero(best_sim < threshold)
        # One product serves both the one-by-one decisions and the assignment below (same numbers).
        to_open = block @ block[open_rows].T
        # open row k -> the open rows a leader there would take (column k: the numbers used before)
        takes = np.ascontiguousarray((to_open[open_rows] >= threshold).T)
        taken = np.zeros(len(open_rows), dtype=bool)
        new_k: list[int] = []
        alone: list[int] = []
        for k, row in enumerate(open_rows.tolist()):
            if taken[k]:
                continue  # a leader born earlier in this block takes it
            if self._leaders + len(new_k) < self.max_leaders:
                new_k.append(k)
                taken |= takes[k]
            else:
                alone.append(row)
        new_rows = open_rows[new_k]
        own_number = np.full(len(block), -1, dtype=np.int64)
        own_number[new_rows] = self._leaders + np.arange(new_rows.size)
        if new_rows.size:
            new_sims = np.where(rows[:, None] > new_rows[None, :], to_open[:, new_k], -np.inf)
            new_best = np.argmax(new_sims, axis=1)
            new_best_sim = new_sims[rows, new_best]
            better = new_best_sim > best_sim  # strictly: on a tie the older leader keeps it
            best = np.where(better, self._leaders + new_best, best)
            best_sim = np.where(better, new_best_sim, best_sim)
            self._add_leaders(block[new_rows], bounds[new_rows], first + new_rows)
        own = own_number >= 0
        lonely = np.zeros(len(block), dtype=bool)
        lonely[alone] = True
        if self.merge_threshold is not None:  # past max_leaders: join the nearest leader if linkage would
            lonely &= best_sim < self.merge_threshold
        joined = ~own & ~lonely
        group = np.where(own, own_number, best)
        group[lonely] = -1 - (first + rows[lonely])
        self._group.append(group)
        if joined.any():  # add each joining vector to its leader's sum (sorted + reduceat: np.add.at is slow)
            targets = best[joined]
            order = np.argsort(targets, kind="stable")
            leaders, starts = np.unique(targets[order], return_index=True)
            self._sums[leaders] += np.add.reduceat(block[joined][order], starts, axis=0)
        self._counts[: self._leaders] += np.bincount(best[joined], minlength=self._leaders)

    def _add_leaders(self, vectors: np.ndarray, bounds: np.ndarray, queries: np.ndarray) -> None:
        needed = self._leaders + len(vectors)
        if needed > len(self._leader_vectors):
            size = min(max(needed, 2 * len(self._leader_vectors), 256), max(needed, self.max_leaders))
            self._leader_vectors = _grown(self._leader_vectors, size)
            self._leader_bounds = _grown(self._leader_bounds, size)
            self._sums = _grown(self._sums, size)
            self._counts = np.concatenate([self._counts, np.zeros(size - len(self._counts), dtype=np.int64)])
        self._leader_vectors[self._leaders:needed] = vectors
        self._leader_bounds[self._leaders:needed] = bounds
        self._sums[self._leaders:needed] = vectors
        self._counts[self._leaders:needed] = 1
        self._leader_query.extend(int(q) for q in queries)
        self._leaders = needed

    def clusters(self) -> list[Cluster]:
        """The topics ranked by impact (then size, then id)."""
        topic_of = self._merge()
        groups: dict[int, list[int]] = {}
        for query, group in enumerate(np.concatenate([*self._group, np.empty(0, dtype=np.int64)]).tolist()):
            key = topic_of[group] if group >= 0 else group
            groups.setdefault(key, []).append(query)
        leaders_by_topic: dict[int, list[int]] = {}
        for number in range(self._leaders):
            leaders_by_topic.setdefault(topic_of[number], []).append(number)
        weights, severity, impact = (np.concatenate([*parts, np.empty(0, dtype=parts[0].dtype if parts else float)])
                                     for parts in (self._weights, self._severity, self._impact))
        clusters = []
        for key, members in groups.items():
            representative = members[0] if key < 0 else self._central(leaders_by_topic[key])
            clusters.append(self._summarize(members, representative, weights, severity, impact))
        clusters.sort(key=lambda c: (-c.impact, -c.size, c.id))
        return _disambiguate(clusters)

    def _central(self, leaders: list[int]) -> int:
        """The query of the leader closest to the topic's mean (ties: more frequent, then text)."""
        if len(leaders) == 1:
            return self._leader_query[leaders[0]]
        index = np.asarray(leaders)
        mean = self._sums[index].sum(axis=0)
        sims = self._leader_vectors[index].astype(np.float64) @ mean
        best = max(range(len(leaders)), key=lambda i: (round(float(sims[i]), 9), -self._leader_query[leaders[i]]))
        return self._leader_query[leaders[best]]

    def _merge(self) -> list[int]:
        """Average linkage over the micro-clusters: leader number -> topic (a leader number)."""
        m, threshold = self._leaders, self.merge_threshold
        topic = list(range(m))
        if threshold is None or m < 2:
            return topic
        sums = self._sums[:m]
        sizes = self._counts[:m].astype(np.float64).tolist()
        first_i, first_j, first_sim, indptr, indices = self._linkage_graph(threshold)
        # The graph's edges are consumed in order from NumPy arrays; only the edges of merged groups
        # (numbered m, m+1, ...) live in a Python heap and sets, so memory stays near the graph's size.
        heap: list[tuple[float, int, int]] = []
        extra: dict[int, set[int]] = {}
        sums_list: list[np.ndarray] = [sums[i] for i in range(m)]
        alive = [True] * m
        parts: list[list[int]] = [[i] for i in range(m)]
        graph = _edge_stream(first_sim, first_i, first_j)
        graph_next = next(graph, None)
        while True:
            if graph_next is not None and (not heap or graph_next < heap[0]):
                _, a, b = graph_next
                graph_next = next(graph, None)
            elif heap:
                _, a, b = heapq.heappop(heap)
            else:
                break
            if not (alive[a] and alive[b]):
                continue
            new = len(sums_list)
            sums_list.append(sums_list[a] + sums_list[b])
            sizes.append(sizes[a] + sizes[b])
            alive[a] = alive[b] = False
            alive.append(True)
            parts.append(parts[a] + parts[b])
            parts[a] = parts[b] = []
            sums_list[a] = sums_list[b] = sums_list[new][:0]  # the dead groups' sums are not needed again
            around = sorted({int(c) for x in (a, b) for c in _neighbours(x, m, indptr, indices, extra) if alive[c]})
            extra.pop(a, None)
            extra.pop(b, None)
            if around:
                others = np.vstack([sums_list[c] for c in around])
                linkage = others @ sums_list[new] / (np.asarray([sizes[c] for c in around]) * sizes[new])
                for c, sim in zip(around, linkage.tolist(), strict=True):
                    if sim >= threshold:
                        extra.setdefault(c, set()).add(new)
                        extra.setdefault(new, set()).add(c)
                        heapq.heappush(heap, (-sim, c, new))
        for group, leaders in enumerate(parts):
            for leader in leaders:
                topic[leader] = min(leaders) if leaders else group
        return topic

    def _linkage_graph(self, threshold: float) -> tuple[np.ndarray, ...]:
        """The micro-cluster pairs whose mean cosine reaches `threshold`, each node's `neighbours` best:
        (i, j, similarity) sorted most similar first (ties: lower i, then j), and the graph as CSR."""
        m = self._leaders
        means = (self._sums[:m] / self._counts[:m, None].astype(np.float32)).astype(np.float32)
        found_i, found_j, found_sim = [], [], []
        for start in range(0, m, _MERGE_ROWS):  # each pair once: a row block against itself and later rows
            sims = means[start:start + _MERGE_ROWS] @ means[start:].T
            flat = np.flatnonzero(sims >= threshold)
            rows, cols = np.divmod(flat, sims.shape[1])
            upper = cols > rows
            found_i.append(rows[upper] + start)
            found_j.append(cols[upper] + start)
            found_sim.append(sims.ravel()[flat[upper]])
        low, high = np.concatenate(found_i).astype(np.int64), np.concatenate(found_j).astype(np.int64)
        both = np.concatenate(found_sim)
        # Each node keeps its `neighbours` most similar (ties: the lower other end); a pair stays if
        # either end keeps it.
        node, other, sim = np.concatenate([low, high]), np.concatenate([high, low]), np.concatenate([both, both])
        order = np.lexsort((other, -sim, node))
        node, other, sim = node[order], other[order], sim[order]
        keep = np.arange(len(node)) - np.searchsorted(node, node) < self.neighbours
        pair_i, pair_j, sim = np.minimum(node, other)[keep], np.maximum(node, other)[keep], sim[keep]
        _, unique = np.unique(pair_i * m + pair_j, return_index=True)  # a pair kept from both ends: once
        pair_i, pair_j, sim = pair_i[unique], pair_j[unique], sim[unique]
        order = np.lexsort((pair_j, pair_i, -sim))
        pair_i, pair_j, sim = pair_i[order], pair_j[order], sim[order].astype(np.float64)
        ends = np.concatenate([pair_i, pair_j])
        other = np.concatenate([pair_j, pair_i])
        by_node = np.argsort(ends, kind="stable")
        indptr = np.searchsorted(ends[by_node], np.arange(m + 1))
        return pair_i, pair_j, sim, indptr, other[by_node].astype(np.int32)

    def _summarize(self, members: list[int], representative: int, weights: np.ndarray, severities: np.ndarray,
                   impacts: np.ndarray) -> Cluster:
        # Python sums, left to right in member order: the same totals to the last bit on every run
        size = sum(weights[members].tolist())
        severity = sum(severities[members].tolist())
        return Cluster(
            id=cluster_id(self._keys[representative]),
            representative=self._keys[representative],
            members=tuple(members),
            queries=tuple(self._keys[i] for i in members),
            size=size,
            mean_severity=severity / size if size else 0.0,
            impact=sum(impacts[members].tolist()),
        )


def cluster_failures(
    vectors: np.ndarray,
    weights: Sequence[int] | np.ndarray,
    severities: Sequence[float] | np.ndarray,
    keys: Sequence[str],
    *,
    threshold: float,
    merge_threshold: float | None = None,
    impacts: Sequence[float] | np.ndarray | None = None,
    max_leaders: int = DEFAULT_MAX_LEADERS,
) -> list[Cluster]:
    """Cluster distinct failure queries held in memory, in any order; ranked by impact.

    `vectors` is (n, d) (a zero row matches nothing); `weights` the failure logs per query;
    `severities` their mean severity; `keys` the normalized texts, distinct; `impacts` the decayed
    impact per query (default weight x severity); `threshold` the leader threshold and
    `merge_threshold` the average linkage one (None: micro-clusters only).
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
    impact = weight * severity if impacts is None else np.asarray(impacts, dtype=np.float64)
    order = np.asarray(sorted(range(n), key=lambda i: (-int(weight[i]), keys[i])), dtype=np.int64)
    topics = TopicClustering(matrix.shape[1], leader_threshold=threshold, merge_threshold=merge_threshold,
                             max_leaders=max_leaders)
    topics.add(matrix[order], weight[order], (weight * severity)[order], impact[order], [keys[i] for i in order])
    return [replace(c, members=tuple(int(order[i]) for i in c.members)) for c in topics.clusters()]


def _edge_stream(sims: np.ndarray, first: np.ndarray, second: np.ndarray) -> Iterator[tuple[float, int, int]]:
    """The graph's edges as heap entries (-similarity, i, j), in order: a window at a time as Python
    numbers (one NumPy scalar per lookup cost a third of the merge), never all of them at once."""
    for start in range(0, len(sims), _EDGE_WINDOW):
        window = slice(start, start + _EDGE_WINDOW)
        yield from zip((-sims[window]).tolist(), first[window].tolist(), second[window].tolist(), strict=True)


def _neighbours(node: int, m: int, indptr: np.ndarray, indices: np.ndarray, extra: dict[int, set[int]]) -> list[int]:
    """A group's candidate partners: its graph neighbours (micro-clusters) and those found since merging."""
    found = indices[indptr[node]:indptr[node + 1]].tolist() if node < m else []
    return found + list(extra.get(node, ()))


class _Bound:
    """An upper bound on dot products that costs a quarter of them.

    For an orthonormal basis R, a.b = (aR)_k . (bR)_k + (aR)_rest . (bR)_rest, and by Cauchy-Schwarz
    the second term is at most |(aR)_rest| |(bR)_rest|. `project` gives each vector as its first k
    coordinates followed by the norm of the rest, so one product of these short rows bounds every
    pair at once. R is the principal directions of the first batch (uncentred, as cosines are):
    there the first coordinates carry most of each vector, the rest is short, and the bound is
    tight enough to rule out almost every pair (at 1M log rows, 64 of 256 dimensions leave about
    0.01 % of the pairs at the leader threshold and 0.5 % at the linkage one). Any basis gives a
    valid bound; this one only makes it useful.
    """

    def __init__(self, sample: np.ndarray, dims: int) -> None:
        sample64 = sample.astype(np.float64)
        _, vectors = np.linalg.eigh(sample64.T @ sample64)  # eigenvalues ascending
        self.basis = np.ascontiguousarray(vectors[:, ::-1])
        self.dims = dims
        self.width = dims + 1

    def project(self, vectors: np.ndarray) -> np.ndarray:
        rotated = vectors.astype(np.float64) @ self.basis
        projected = np.empty((len(vectors), self.width), dtype=np.float32)
        projected[:, :self.dims] = rotated[:, :self.dims]
        projected[:, self.dims] = np.linalg.norm(rotated[:, self.dims:], axis=1)
        return projected


def _pairs_reaching(a: np.ndarray, a_bounds: np.ndarray, b: np.ndarray, b_bounds: np.ndarray,
                    floor: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pairs (i, j) with a[i] . b[j] >= floor: rows, columns and the products in float64."""
    upper = a_bounds @ b_bounds.T
    candidates = np.flatnonzero(upper >= floor - _BOUND_SLACK)
    del upper
    if len(candidates) > _DENSE_SHARE * len(a) * len(b):  # low thresholds: the bound rules out little
        exact = a.astype(np.float64) @ b.T.astype(np.float64)
        rows, cols = np.nonzero(exact >= floor)
        return rows, cols, exact[rows, cols]
    rows, cols = np.divmod(candidates, len(b))
    sims = np.empty(len(rows))
    for start in range(0, len(rows), _DOT_CHUNK):
        part = slice(start, start + _DOT_CHUNK)
        sims[part] = np.einsum("ij,ij->i", a[rows[part]].astype(np.float64), b[cols[part]].astype(np.float64))
    keep = sims >= floor
    return rows[keep], cols[keep], sims[keep]


def _best_reaching(block: np.ndarray, block_bounds: np.ndarray, leader_vectors: np.ndarray,
                   leader_bounds: np.ndarray, floor: float) -> tuple[np.ndarray, np.ndarray]:
    """Per block row, the highest similarity to a leader and which leader (the first on ties), for
    the rows that reach `floor`; the others get -inf and leader 0."""
    best_sim = np.full(len(block), -np.inf)
    best = np.zeros(len(block), dtype=np.int64)
    for first in range(0, len(leader_vectors), _LEADER_SLICE):
        rows, cols, sims = _pairs_reaching(block, block_bounds, leader_vectors[first:first + _LEADER_SLICE],
                                           leader_bounds[first:first + _LEADER_SLICE], floor)
        order = np.lexsort((cols, -sims, rows))  # per row, the most similar first (ties: the first leader)
        rows, cols, sims = rows[order], cols[order], sims[order]
        heads = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]]) if len(rows) else np.empty(0, dtype=np.int64)
        rows, cols, sims = rows[heads], cols[heads] + first, sims[heads]
        better = sims > best_sim[rows]  # strictly: an earlier slice's leader keeps a tie
        best_sim[rows[better]] = sims[better]
        best[rows[better]] = cols[better]
    return best_sim, best


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


def _grown(array: np.ndarray, size: int) -> np.ndarray:
    grown = np.zeros((size, array.shape[1]), dtype=array.dtype)
    grown[: len(array)] = array
    return grown


def _disambiguate(clusters: list[Cluster]) -> list[Cluster]:
    """Ids are hashes; on the (astronomically rare) collision, later ranks get a suffix."""
    seen: dict[str, int] = {}
    result = []
    for cluster in clusters:
        count = seen.get(cluster.id, 0) + 1
        seen[cluster.id] = count
        result.append(replace(cluster, id=f"{cluster.id}-{count}") if count > 1 else cluster)
    return result
