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

from remedy.analytics.tables import create_table, insert_columns
from remedy.logs.reading import LogTable, iter_distinct_queries
from remedy.matching.folder_index import FolderIndex

KINDS = ("answer", "guidance", "review")
# role -> the statuses the decision considers
ROLES: dict[str, tuple[str, ...]] = {"active": ("active",), "draft": ("draft",), "ever_active": ("active", "paused")}
ATTRIBUTIONS = "attributions"
Progress = Callable[[str, int, int], None]


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
    total = con.execute(f"SELECT count(DISTINCT normalized_query) FROM {logs.table}").fetchone()[0]
    roles = [(kind, role) for kind in KINDS for role in ROLES
             if role != "ever_active" or kind == "answer"]
    present = {(r.kind, r.status) for r in folder.remediations.values()}
    roles = [(kind, role) for kind, role in roles if any((kind, status) in present for status in ROLES[role])]
    done = attributed = 0
    for batch in iter_distinct_queries(logs, batch_size=batch_size):
        vectors = folder.encode(batch.normalized_queries)
        columns: dict[str, list] = {name: [] for name in
                                    ("normalized_query", "remediation_id", "kind", "role", "similarity", "margin")}
        for kind, role in roles:
            decisions = folder.index.decide_vectors(vectors, batch.normalized_queries, kind=kind,
                                                    statuses=ROLES[role])
            for text, decision in zip(batch.normalized_queries, decisions, strict=True):
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
