"""The decision rule: which remediation, if any, a query matches. Used everywhere.

The run-time API, `remedy match`, `remedy test`, `remedy calibrate` and log coverage all call
`MatchIndex`, so a query is judged the same way in every place.

Rule (for one kind and a set of statuses, the *candidates*):

1. Exact: when the normalized query (`normalize_question`) equals the normalized question or one of
   the `also_matches` of a candidate, that candidate wins with similarity 1.0 and is accepted.
   Two exact candidates tie: the one ranked first by the tie-break below wins (active before draft,
   then the lower id); `validate` reports such duplicates.
2. Otherwise each candidate's similarity is the highest cosine between the query and any of its
   texts (question + also_matches). The best candidate is accepted only when
   ``similarity >= threshold`` (the entry's own threshold, else the index's) **and**
   ``similarity - runner_up_similarity >= margin``, where the runner-up is the best of the *other*
   candidates (0.0 when there is none). The margin is what keeps precision high: a query halfway
   between two remediations is ambiguous, and serving either verbatim answer is a gamble.
3. Ties are broken deterministically: higher similarity, then status ``active`` before ``draft``
   (before anything else), then the lower id.
4. Negatives: the best candidate is refused (nothing is served) when the query's similarity to the
   nearest of its `must_not_match` texts reaches its similarity to the candidate's own texts less
   `NEGATIVE_DELTA` (a query equal to one of them, normalized, scores 1.0 there). The expert's "not
   this" outranks the cosine: a near miss listed once stays refused, and so do queries nearer to it
   than to the entry. An exact match (rule 1) is the expert's "yes" and is never blocked. Refusing
   rather than letting the runner-up compete was chosen by measurement (docs/matching.md).

A query with no known token (a zero vector) never matches except exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

import numpy as np

from remedy.normalize import normalize_question

# Keep each similarity block (queries x entry texts, float32) near this many cells: ~64 MB.
_BLOCK_CELLS = 16_000_000
_STATUS_RANK = {"active": 0, "draft": 1, "paused": 2}
# Rule 4's slack: a query is refused an entry when its nearest `must_not_match` scores at least the entry's
# own similarity less this. Chosen on CLINC150 validation (benchmarks/negatives.py, docs/matching.md): with
# an oracle's 10-40 clicks per answer, 0.02-0.08 refused the most wrong serves per right one lost.
NEGATIVE_DELTA = 0.05


@dataclass(frozen=True)
class MatchEntry:
    """One remediation as the matcher sees it."""

    id: str
    kind: str
    status: str
    question: str
    also_matches: tuple[str, ...] = ()
    threshold: float | None = None
    must_not_match: tuple[str, ...] = ()


@dataclass(frozen=True)
class Decision:
    """The outcome for one query."""

    entry_id: str | None  # accepted winner or None
    best_id: str | None  # best-scoring entry even if not accepted
    similarity: float  # best entry's similarity (max over its texts), 1.0 for exact
    runner_up_id: str | None  # best entry among the OTHER remediations
    runner_up_similarity: float
    margin: float  # similarity - runner_up_similarity
    exact: bool  # normalized query identical to one of the best entry's texts
    accepted: bool
    # Rule 4: the best entry's nearest must_not_match (its similarity; None when it has none), and whether
    # that refused the entry. A blocked decision is refused at every threshold and margin.
    negative_similarity: float | None = None
    blocked: bool = False


_NO_CANDIDATE = Decision(None, None, 0.0, None, 0.0, 0.0, False, False)


@dataclass(frozen=True)
class _View:
    """The candidates for one (kind, statuses): precomputed so `decide` does no per-entry Python work."""

    entries: np.ndarray  # entry indices (into the index's sorted entries), in tie-break order
    text_rows: np.ndarray  # rows of the text matrix, slot-major: every entry's 1st text, then 2nd, ...
    # for the 2nd, 3rd, ... texts: (entry columns or None for all, first, end text column)
    slots: tuple[tuple[np.ndarray | None, int, int], ...]
    matrix_t: np.ndarray  # (dim, n_texts) float32, the candidates' text vectors transposed
    thresholds: np.ndarray  # (n_entries,) float32
    position: dict[int, int]  # entry index -> column in this view
    text_position: dict[int, list[int]]  # text row -> its text columns in this view
    ids: tuple[str, ...]  # entry id per column (built once: a per-call list cost 1,000 lookups a query)
    # The candidates' must_not_match texts, grouped by entry column (rule 4):
    negatives_t: np.ndarray  # (dim, n_negatives) float32, transposed
    negative_rows: np.ndarray  # row of each column in the index's negative matrix
    negative_starts: np.ndarray  # first column of each group (for np.maximum.reduceat)
    negative_group: np.ndarray  # (n_entries,) the entry column's group, -1 when it has no negatives


class MatchIndex:
    """Entries embedded once; decisions for any number of queries.

    `encode` maps texts to L2-normalized float32 rows (an `Embedder.encode`, possibly cached);
    `entry_encode`, when given, embeds the entries' own texts and negatives (the verifier's screen must not
    empty a `must_not_match` far from every question). `delta` is rule 4's slack.
    """

    def __init__(
        self,
        entries: Sequence[MatchEntry],
        encode: Callable[[Sequence[str]], np.ndarray],
        threshold: float,
        margin: float,
        *,
        entry_encode: Callable[[Sequence[str]], np.ndarray] | None = None,
        delta: float = NEGATIVE_DELTA,
    ) -> None:
        # Sorting once by the tie-break order makes np.argmax's "first maximum" the right winner.
        self.entries: tuple[MatchEntry, ...] = tuple(
            sorted(entries, key=lambda e: (_STATUS_RANK.get(e.status, 3), e.id, e.kind))
        )
        self.threshold = float(threshold)
        self.margin = float(margin)
        self.delta = float(delta)
        self._encode = encode
        entry_encode = entry_encode or encode
        texts: list[str] = []
        owners: list[int] = []
        self._exact: dict[str, list[int]] = {}
        for index, entry in enumerate(self.entries):
            own = _unique_texts(entry)
            texts.extend(own)
            owners.extend([index] * len(own))
            for normalized in {normalize_question(t) for t in own} - {""}:
                self._exact.setdefault(normalized, []).append(index)
        self._owners = np.asarray(owners, dtype=np.int64)
        self._rows_by_text: dict[str, list[int]] = {}
        for row, text in enumerate(texts):
            self._rows_by_text.setdefault(normalize_question(text), []).append(row)
        vectors = np.asarray(entry_encode(texts), dtype=np.float32) if texts else np.zeros((0, 0), np.float32)
        self._vectors = unit_rows(vectors)
        negatives: list[str] = []
        negative_owners: list[int] = []
        self._negative_exact: dict[str, list[int]] = {}  # normalized must_not_match -> its entries
        self._negative_rows_by_text: dict[str, list[int]] = {}
        for index, entry in enumerate(self.entries):
            own = list(dict.fromkeys(entry.must_not_match))
            for text in own:
                self._negative_rows_by_text.setdefault(normalize_question(text), []).append(len(negatives))
                negatives.append(text)
                negative_owners.append(index)
            for normalized in {normalize_question(t) for t in own} - {""}:
                self._negative_exact.setdefault(normalized, []).append(index)
        self._negative_texts = tuple(negatives)
        self._negative_owners = np.asarray(negative_owners, dtype=np.int64)
        self._negatives = (unit_rows(np.asarray(entry_encode(negatives), dtype=np.float32)) if negatives
                           else np.zeros((0, self.dim), np.float32))
        self._views: dict[tuple[str | None, frozenset[str] | None], _View] = {}

    @property
    def dim(self) -> int:
        return int(self._vectors.shape[1]) if self._vectors.ndim == 2 else 0

    def decide(
        self,
        queries: Sequence[str],
        *,
        kind: str,
        statuses: Collection[str] = ("active",),
        leave_out_exact: bool = False,
    ) -> list[Decision]:
        """Decide each query against the entries of `kind` whose status is in `statuses`.

        `leave_out_exact` (for `remedy test` and calibration) judges each query as if the entry
        texts identical to it (normalized) were not in the index: no exact match, no 1.0 cosine.
        """
        if not queries:
            return []
        vectors = np.asarray(self._encode(list(queries)), dtype=np.float32)
        normalized = [normalize_question(q) for q in queries]
        return self.decide_vectors(vectors, normalized, kind=kind, statuses=statuses, leave_out_exact=leave_out_exact)

    def decide_vectors(
        self,
        query_vectors: np.ndarray,
        normalized_queries: Sequence[str],
        *,
        kind: str,
        statuses: Collection[str] = ("active",),
        leave_out_exact: bool = False,
        every_entry: np.ndarray | None = None,
    ) -> list[Decision]:
        """Like `decide` for queries already embedded (logs): blocks of bounded memory, vectorized.

        `every_entry` (from `every_entry_scores` for the same vectors) saves the product when one query is
        decided for several kinds and statuses, as `remedy match` and `remedy serve` do (similarities equal
        to those of the view's own product up to float32 rounding, about 1e-7).
        """
        n = len(normalized_queries)
        if query_vectors.shape[0] != n:
            raise ValueError("query_vectors and normalized_queries differ in length")
        view = self._view(kind, statuses)
        if view.entries.size == 0:
            return [_NO_CANDIDATE] * n
        if every_entry is not None and not leave_out_exact:
            # The columns of every_entry are the entries in index order; a fancy index copies (the block is
            # modified in place below).
            negative = self._negative_scores(view, query_vectors)
            return self._decide_block(view, every_entry[:, view.entries], normalized_queries, negative)
        block = max(1, _BLOCK_CELLS // max(1, view.text_rows.size + view.negative_rows.size))
        decisions: list[Decision] = []
        for start in range(0, n, block):
            stop = min(n, start + block)
            chunk = normalized_queries[start:stop]
            hidden = self._own_text_columns(view, chunk) if leave_out_exact else None
            scores = self._entry_scores(view, query_vectors[start:stop], hidden)
            hidden_negatives = self._own_negative_columns(view, chunk) if leave_out_exact else None
            negative = self._negative_scores(view, query_vectors[start:stop], hidden_negatives)
            decisions.extend(self._decide_block(view, scores, chunk, negative, exact_allowed=not leave_out_exact))
        return decisions

    def scores(
        self, query_vectors: np.ndarray, *, kind: str | None, statuses: Collection[str] | None
    ) -> tuple[list[str], np.ndarray]:
        """Per-entry similarity (max over each entry's texts): (entry ids, (n_queries, n_entries)).

        For calibration sweeps; no exact-match override. Fine for modest query counts.
        """
        view = self._view(kind, statuses)
        ids = list(view.ids)
        if view.entries.size == 0:
            return ids, np.zeros((query_vectors.shape[0], 0), np.float32)
        return ids, self._entry_scores(view, query_vectors)

    def every_entry_scores(self, query_vectors: np.ndarray) -> np.ndarray:
        """(n_queries, n_entries) per-entry similarity for every entry, columns in index order."""
        view = self._view(None, None)
        if view.entries.size == 0:
            return np.zeros((query_vectors.shape[0], 0), np.float32)
        return self._entry_scores(view, query_vectors)

    def nearest(
        self,
        query: str,
        *,
        kind: str | None = None,
        statuses: Collection[str] | None = None,
        top: int = 5,
    ) -> list[tuple[str, float]]:
        """The `top` closest entries (any kind / status unless given), best first; exact ones at 1.0."""
        if self._view(kind, statuses).entries.size == 0 or top <= 0:
            return []
        vector = np.asarray(self._encode([query]), dtype=np.float32)
        return self.nearest_vector(vector, normalize_question(query), kind=kind, statuses=statuses, top=top)

    def nearest_vector(
        self,
        query_vector: np.ndarray,
        normalized_query: str,
        *,
        kind: str | None = None,
        statuses: Collection[str] | None = None,
        top: int = 5,
        every_entry: np.ndarray | None = None,
    ) -> list[tuple[str, float]]:
        """Like `nearest` for a query already embedded (a (1, dim) row) and normalized."""
        view = self._view(kind, statuses)
        if view.entries.size == 0 or top <= 0:
            return []
        scores = every_entry[:, view.entries] if every_entry is not None else self._entry_scores(view, query_vector)
        row = scores[0].astype(np.float64)
        for index in self._exact.get(normalized_query, ()):
            column = view.position.get(index)
            if column is not None:
                row[column] = 1.0
        # Stable sort on -similarity keeps the tie-break order of the columns. Only the columns reaching the
        # top-th value can be in the answer (ties included, in column order): sorting those alone gives the
        # same order as sorting every column, for a tenth of the time on 1,000 entries.
        candidates = np.arange(row.size)
        if row.size > top:
            kth = np.partition(row, row.size - top)[row.size - top]
            candidates = np.flatnonzero(row >= kth)
        order = candidates[np.argsort(-row[candidates], kind="stable")][:top]
        return [(view.ids[c], float(row[c])) for c in order]

    def closest_negative(self, entry_id: str, query_vector: np.ndarray,
                         normalized_query: str | None = None) -> tuple[str, float] | None:
        """The entry's `must_not_match` nearest the query and its similarity (1.0 when equal, normalized)."""
        rows = [i for i, e in enumerate(self.entries) if e.id == entry_id]
        if not rows or not (self._negative_owners == rows[0]).any():
            return None
        columns = np.flatnonzero(self._negative_owners == rows[0])
        scores = (self._negatives[columns] @ unit_rows(query_vector.reshape(1, -1))[0]).astype(np.float64)
        if normalized_query is not None:
            for j, column in enumerate(columns.tolist()):
                if normalize_question(self._negative_texts[column]) == normalized_query:
                    scores[j] = 1.0
        best = int(np.argmax(scores))
        return self._negative_texts[int(columns[best])], float(scores[best])

    def closest_text(self, entry_id: str, query_vector: np.ndarray) -> str | None:
        """The entry's text (question or one of its also_matches) closest to the query: what its score is of."""
        rows = [i for i, e in enumerate(self.entries) if e.id == entry_id]
        if not rows:
            return None
        texts = _unique_texts(self.entries[rows[0]])
        vectors = self._vectors[self._owners == rows[0]]
        return texts[int(np.argmax(vectors @ unit_rows(query_vector.reshape(1, -1))[0]))] if texts else None

    # -- internals -----------------------------------------------------------------------------

    def _view(self, kind: str | None, statuses: Collection[str] | None) -> _View:
        key = (kind, frozenset(statuses) if statuses is not None else None)
        view = self._views.get(key)
        if view is None:
            view = self._build_view(*key)
            self._views[key] = view
        return view

    def _build_view(self, kind: str | None, statuses: frozenset[str] | None) -> _View:
        chosen = [
            i
            for i, e in enumerate(self.entries)
            if (kind is None or e.kind == kind) and (statuses is None or e.status in statuses)
        ]
        entries = np.asarray(chosen, dtype=np.int64)
        if entries.size == 0 or self._owners.size == 0:
            empty = np.zeros(0, np.int64)
            return _View(empty, empty, (), np.zeros((0, 0), np.float32), np.zeros(0, np.float32), {}, {}, (),
                         np.zeros((0, 0), np.float32), empty, empty, empty)
        mask = np.isin(self._owners, entries)
        grouped = np.flatnonzero(mask)  # owners are sorted, so groups follow the entries' order
        counts = np.bincount(self._owners[grouped], minlength=len(self.entries))[entries]
        starts = np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.int64)
        # Slot-major columns: the first E columns hold each entry's first text, so the entry scores
        # start as a slice and each further slot folds in with np.maximum. A slot most entries fill
        # is padded with the first text of the others and folds in as a slice; a sparse slot folds
        # in on its columns only (column gathers are slow, so they are kept for small slots;
        # np.maximum.reduceat along a wide block was the slowest of all).
        order = [starts]
        slots: list[tuple[np.ndarray | None, int, int]] = []
        column = entries.size
        for slot in range(1, int(counts.max())):
            having = np.flatnonzero(counts > slot)
            if 2 * having.size >= entries.size:
                order.append(np.where(counts > slot, starts + slot, starts))
                slots.append((None, column, column + entries.size))
                column += entries.size
            else:
                order.append(starts[having] + slot)
                slots.append((having, column, column + having.size))
                column += having.size
        text_rows = grouped[np.concatenate(order)]
        thresholds = np.asarray(
            [
                self.threshold if self.entries[i].threshold is None else float(self.entries[i].threshold)  # type: ignore[arg-type]
                for i in chosen
            ],
            dtype=np.float32,
        )
        matrix_t = np.ascontiguousarray(self._vectors[text_rows].T)
        # Negatives grouped by entry column: one product and one reduceat give each entry's nearest negative.
        # (owners are ascending like `chosen`, so the rows come grouped in the view's column order)
        negative_rows = np.flatnonzero(np.isin(self._negative_owners, entries)).astype(np.int64)
        negative_counts = np.bincount(self._negative_owners, minlength=len(self.entries))[entries].astype(np.int64)
        having = np.flatnonzero(negative_counts)
        negative_group = np.full(entries.size, -1, dtype=np.int64)
        negative_group[having] = np.arange(having.size)
        negative_starts = (np.concatenate(([0], np.cumsum(negative_counts)[:-1]))[having]).astype(np.int64)
        return _View(
            entries,
            text_rows,
            tuple(slots),
            matrix_t,
            thresholds,
            {e: c for c, e in enumerate(chosen)},
            _positions(text_rows),
            tuple(self.entries[i].id for i in chosen),
            np.ascontiguousarray(self._negatives[negative_rows].T) if negative_rows.size
            else np.zeros((self.dim, 0), np.float32),
            negative_rows,
            negative_starts,
            negative_group,
        )

    def _own_text_columns(self, view: _View, normalized: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(query row, text column) pairs where the query is one of the view's own texts."""
        rows: list[int] = []
        columns: list[int] = []
        for q, text in enumerate(normalized):
            for text_row in self._rows_by_text.get(text, ()):
                for column in view.text_position.get(text_row, ()):
                    rows.append(q)
                    columns.append(column)
        return np.asarray(rows, dtype=np.int64), np.asarray(columns, dtype=np.int64)

    def _own_negative_columns(self, view: _View, normalized: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(query row, negative column) pairs where the query is one of the view's own negatives."""
        rows: list[int] = []
        columns: list[int] = []
        if view.negative_rows.size:
            position = {int(r): c for c, r in enumerate(view.negative_rows.tolist())}
            for q, text in enumerate(normalized):
                for negative_row in self._negative_rows_by_text.get(text, ()):
                    if negative_row in position:
                        rows.append(q)
                        columns.append(position[negative_row])
        return np.asarray(rows, dtype=np.int64), np.asarray(columns, dtype=np.int64)

    @staticmethod
    def _negative_scores(view: _View, query_vectors: np.ndarray,
                         hidden: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray | None:
        """(n_queries, entries with negatives): each such entry's nearest negative; None when none has any."""
        if view.negative_rows.size == 0:
            return None
        scores = unit_rows(np.asarray(query_vectors, dtype=np.float32)) @ view.negatives_t
        if hidden is not None and hidden[0].size:
            scores[hidden] = -np.inf
        return np.maximum.reduceat(scores, view.negative_starts, axis=1)

    @staticmethod
    def _entry_scores(
        view: _View, query_vectors: np.ndarray, hidden: tuple[np.ndarray, np.ndarray] | None = None
    ) -> np.ndarray:
        queries = unit_rows(np.asarray(query_vectors, dtype=np.float32))
        text_scores = queries @ view.matrix_t
        if hidden is not None and hidden[0].size:
            text_scores[hidden] = -np.inf
        entry_scores = text_scores[:, : view.entries.size]
        for columns, first, end in view.slots:  # the 2nd, 3rd, ... texts
            if columns is None:
                np.maximum(entry_scores, text_scores[:, first:end], out=entry_scores)
            else:
                entry_scores[:, columns] = np.maximum(entry_scores[:, columns], text_scores[:, first:end])
        text_scores = entry_scores
        # An entry whose only text was left out scores -1, the lowest cosine.
        return np.maximum(text_scores, -1.0) if hidden is not None else text_scores

    def _decide_block(
        self, view: _View, scores: np.ndarray, normalized: Sequence[str], negative: np.ndarray | None = None,
        *, exact_allowed: bool = True
    ) -> list[Decision]:
        n_queries, n_entries = scores.shape
        rows = np.arange(n_queries)
        best = np.argmax(scores, axis=1)
        best_score = scores[rows, best]
        if n_entries > 1:
            # Hide the winner in place (the block is ours) rather than copy the whole block.
            scores[rows, best] = -np.inf
            second = np.argmax(scores, axis=1)
            second_score = scores[rows, second]
            scores[rows, best] = best_score
        else:
            second = np.full(n_queries, -1)
            second_score = np.zeros(n_queries, np.float32)
        # Rule 4: the leader's nearest negative (-inf where it has none).
        group = view.negative_group[best]
        nearest_negative = np.full(n_queries, -np.inf, dtype=np.float64)
        if negative is not None:
            has = group >= 0
            nearest_negative[has] = negative[rows[has], group[has]]
        if self._negative_exact and exact_allowed:
            for q, text in enumerate(normalized):
                for index in self._negative_exact.get(text, ()):
                    if view.position.get(index) == int(best[q]):
                        nearest_negative[q] = 1.0
        blocked = (nearest_negative >= best_score - self.delta) & (best_score > 0.0)
        accepted = (
            (best_score >= view.thresholds[best])
            & (best_score - second_score >= self.margin)
            & (best_score > 0.0)  # a zero vector (no known token) scores 0 everywhere
            & ~blocked
        )
        ids = view.ids
        decisions: list[Decision] = []
        for q in range(n_queries):
            exact = self._exact_winner(view, normalized[q]) if exact_allowed else None
            if exact is not None:
                decisions.append(_exact_decision(exact, scores[q], ids))
                continue
            b, s = int(best[q]), int(second[q])
            sim, runner = float(best_score[q]), float(second_score[q])
            ok = bool(accepted[q])
            near = float(nearest_negative[q])
            decisions.append(
                Decision(
                    entry_id=ids[b] if ok else None,
                    best_id=ids[b],
                    similarity=sim,
                    runner_up_id=ids[s] if s >= 0 else None,
                    runner_up_similarity=runner,
                    margin=sim - runner,
                    exact=False,
                    accepted=ok,
                    negative_similarity=near if near > -np.inf else None,
                    blocked=bool(blocked[q]),
                )
            )
        return decisions

    def _exact_winner(self, view: _View, normalized_query: str) -> list[int] | None:
        hits = self._exact.get(normalized_query)
        if not hits:
            return None
        columns = sorted(view.position[i] for i in hits if i in view.position)
        return columns or None


def _exact_decision(columns: list[int], row: np.ndarray, ids: Sequence[str]) -> Decision:
    winner = columns[0]  # columns follow the tie-break order
    if len(columns) > 1:
        runner, runner_score = columns[1], 1.0
    elif row.size > 1:
        others = row.astype(np.float64)
        others[winner] = -np.inf
        runner = int(np.argmax(others))
        runner_score = float(others[runner])
    else:
        runner, runner_score = -1, 0.0
    return Decision(
        entry_id=ids[winner],
        best_id=ids[winner],
        similarity=1.0,
        runner_up_id=ids[runner] if runner >= 0 else None,
        runner_up_similarity=runner_score,
        margin=1.0 - runner_score,
        exact=True,
        accepted=True,
    )


def _positions(text_rows: np.ndarray) -> dict[int, list[int]]:
    positions: dict[int, list[int]] = {}
    for column, row in enumerate(text_rows.tolist()):
        positions.setdefault(row, []).append(column)
    return positions


def _unique_texts(entry: MatchEntry) -> list[str]:
    seen: dict[str, None] = {}
    for text in (entry.question, *entry.also_matches):
        seen.setdefault(text, None)
    return list(seen)


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length, as float32; zero rows stay zero."""
    if vectors.size == 0:
        return vectors.astype(np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.where(norms > 0, norms, 1.0)).astype(np.float32, copy=False)
