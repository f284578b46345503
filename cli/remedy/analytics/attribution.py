"""Attributing logs to remediations with the matcher's decision rule, inside DuckDB.

Every distinct normalized query is embedded once (through the on-disk cache) and decided once per
kind and status class; the decisions go into a DuckDB table that joins back to the logs, so a
million-row log never becomes a million Python objects. Each log gets at most one **active** and at
most one **draft** remediation of a kind, the best by the decision rule (DESIGN 1). A third class,
`ever_active`, decides among answers that were ever activated (active or paused): it is what
infers preventions where the logs do not say which answer was served.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from remedy.analytics.tables import create_table, insert_columns, one_row
from remedy.logs.reading import LogTable, iter_distinct_queries
from remedy.matching.decision import unit_rows
from remedy.matching.folder_index import FolderIndex
from remedy.normalize import normalize_question

KINDS = ("answer", "guidance", "review")
# role -> the statuses the decision considers
ROLES: dict[str, tuple[str, ...]] = {"active": ("active",), "draft": ("draft",), "ever_active": ("active", "paused")}
ATTRIBUTIONS = "attributions"
Progress = Callable[[str, int, int], None]
# Screening compares queries with every text of a kind in blocks of this many rows (~50 MB at 3,000 texts).
_SCREEN_ROWS = 4096
# Cosines computed in a different order differ in the last bits: screen with this much to spare.
_ROUNDING = 1e-3


@dataclass(frozen=True)
class AttributionStats:
    distinct_queries: int
    attributed_queries: int


def attribute_logs(logs: LogTable, folder: FolderIndex, *, table: str = ATTRIBUTIONS,
                   progress: Progress | None = None, batch_size: int = 20_000) -> AttributionStats:
    """Create `table`: (normalized_query, remediation_id, kind, role, similarity, margin), one row per decision."""
    con = logs.connection
    create_table(con, table, {"normalized_query": "VARCHAR", "remediation_id": "VARCHAR", "kind": "VARCHAR",
                                     "role": "VARCHAR", "similarity": "DOUBLE", "margin": "DOUBLE"})
    total = one_row(con, f"SELECT count(DISTINCT normalized_query) FROM {logs.table}")[0]
    roles = [(kind, role) for kind in KINDS for role in ROLES
             if role != "ever_active" or kind == "answer"]
    present = {(r.kind, r.status) for r in folder.remediations.values()}
    roles = [(kind, role) for kind, role in roles if any((kind, status) in present for status in ROLES[role])]
    screens = {kind: _Screen.build(folder, kind, {s for k, role in roles if k == kind for s in ROLES[role]})
               for kind in {kind for kind, _ in roles}}
    done = attributed = 0
    for batch in iter_distinct_queries(logs, batch_size=batch_size):
        vectors = folder.encode(batch.normalized_queries)
        columns: dict[str, list] = {name: [] for name in
                                    ("normalized_query", "remediation_id", "kind", "role", "similarity", "margin")}
        possible = {kind: screen.possible(vectors, batch.normalized_queries) for kind, screen in screens.items()}
        for kind, role in roles:
            rows = np.flatnonzero(np.logical_or.reduce([possible[kind][status] for status in ROLES[role]
                                                        if status in possible[kind]]))
            if not rows.size:
                continue
            texts = [batch.normalized_queries[row] for row in rows]
            decisions = folder.index.decide_vectors(vectors[rows], texts, kind=kind, statuses=ROLES[role])
            for text, decision in zip(texts, decisions, strict=True):
                if decision.entry_id is not None:
                    columns["normalized_query"].append(text)
                    columns["remediation_id"].append(decision.entry_id)
                    columns["kind"].append(kind)
                    columns["role"].append(role)
                    columns["similarity"].append(float(decision.similarity))
                    columns["margin"].append(float(decision.margin))
        if columns["normalized_query"]:
            insert_columns(con, table, columns)
            attributed += len(set(columns["normalized_query"]))
        done += len(batch.normalized_queries)
        if progress:
            progress("matching queries", done, total)
    return AttributionStats(distinct_queries=done, attributed_queries=attributed)


@dataclass(frozen=True)
class _Screen:
    """A cheap, conservative test that no entry of one kind and status can accept a query.

    A query is accepted only when it equals an entry's text (normalized) or when its best cosine
    reaches that entry's threshold; both are bounded by one matrix product against every text of
    the kind and a row maximum per status. Only the queries that pass go to `decide_vectors`,
    which makes the real decision, so the rule is unchanged: on logs most distinct queries match
    nothing, and deciding each of them once per (kind, role) dominated the run.
    """

    matrix_t: np.ndarray  # (dim, texts) float32: unit rows of the kind's entry texts, grouped by status
    spans: dict[str, tuple[int, int]]  # status -> its columns in matrix_t
    floors: dict[str, float]  # status -> lowest threshold of its entries, less a rounding allowance
    exact: dict[str, frozenset[str]]  # status -> the normalized texts of its entries

    @classmethod
    def build(cls, folder: FolderIndex, kind: str, statuses: set[str]) -> _Screen:
        texts: list[str] = []
        spans: dict[str, tuple[int, int]] = {}
        floors: dict[str, float] = {}
        exact: dict[str, frozenset[str]] = {}
        for status in sorted(statuses):
            entries = [e for e in folder.index.entries if e.kind == kind and e.status == status]
            own = list(dict.fromkeys(t for e in entries for t in (e.question, *e.also_matches)))
            spans[status] = (len(texts), len(texts) + len(own))
            texts.extend(own)
            thresholds = [folder.index.threshold if e.threshold is None else float(e.threshold) for e in entries]
            floors[status] = min(thresholds, default=np.inf) - _ROUNDING
            exact[status] = frozenset(normalize_question(t) for t in own)
        vectors = unit_rows(np.asarray(folder.encode(texts), dtype=np.float32)) if texts else np.zeros((0, 0))
        return cls(np.ascontiguousarray(vectors.T, dtype=np.float32), spans, floors, exact)

    def possible(self, vectors: np.ndarray, normalized: list[str]) -> dict[str, np.ndarray]:
        """Per status, which queries some entry of that status might accept (bool per query)."""
        found = {status: np.zeros(len(normalized), dtype=bool) for status in self.spans}
        if self.matrix_t.size:
            queries = unit_rows(np.asarray(vectors, dtype=np.float32))
            for start in range(0, len(normalized), _SCREEN_ROWS):
                block = queries[start:start + _SCREEN_ROWS] @ self.matrix_t
                for status, (first, stop) in self.spans.items():
                    if stop > first:
                        best = block[:, first:stop].max(axis=1)
                        found[status][start:start + _SCREEN_ROWS] = best >= self.floors[status]
        for status, texts in self.exact.items():
            if texts:
                found[status] |= np.fromiter((text in texts for text in normalized), dtype=bool, count=len(normalized))
        return found

